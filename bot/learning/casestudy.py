"""Thread to case study: a draft in the field's structure (Background, Our approach,
Challenges, Impact, Lessons learned and next steps) the requester edits, then publishes
to the knowledge hub; ``/copbot hub <words>`` finds them again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from sqlmodel import Session, col, or_, select

from bot.errors import UserError
from bot.learning.messages import CaseStudyPost
from bot.learning.summariser import CaseStudyDraft, Source, Summariser
from bot.privacy import refuse_patient_identifiers
from bot.slack import SlackPort
from storage import CaseStudy

FIELDS = (
    ("title", "Title"),
    ("background", "Background"),
    ("approach", "Our approach"),
    ("challenges", "Challenges"),
    ("impact", "Impact"),
    ("lessons", "Lessons learned and next steps"),
)


def thread_sources(slack: SlackPort, channel: str, ts: str, requester: str) -> list[Source]:
    """The thread's messages, only for someone who can see the channel."""
    try:
        if requester not in slack.channel_members(channel):
            raise UserError("You can only write up threads from channels you are in.")
        messages = slack.thread(channel, ts)
    except SlackApiError as error:
        if error.response.get("error") in ("not_in_channel", "channel_not_found"):
            raise UserError(
                "I can't read that thread: invite copbot to the channel first (/invite @copbot)."
            ) from None
        raise
    return [
        Source(
            text=m.get("text") or "",
            kind="message" if n == 0 else "thread_reply",
            author=m.get("user") or "",
        )
        for n, m in enumerate(messages)
        if (m.get("text") or "").strip() and not m.get("bot_id")
    ]


def draft(summariser: Summariser, sources: list[Source]) -> CaseStudyDraft:
    if not sources:
        raise UserError("That thread has nothing to write up yet.")
    return summariser.case_study(sources)


@dataclass(frozen=True)
class CaseStudyFields:
    title: str
    background: str
    approach: str
    challenges: str
    impact: str
    lessons: str


def validate(values: dict[str, Any]) -> CaseStudyFields:
    cleaned = {name: (values.get(name) or "").strip() for name, _ in FIELDS}
    if not cleaned["title"]:
        raise UserError("Give the case study a title.", field="title")
    for name, _ in FIELDS:
        refuse_patient_identifiers(cleaned[name], name)
    cleaned["title"] = " ".join(cleaned["title"].split())[:150]
    return CaseStudyFields(**{k: v[:3000] for k, v in cleaned.items()})


def save(
    session: Session,
    team_id: str,
    user_id: str,
    fields: CaseStudyFields,
    *,
    engine: str,
    source_channel: str | None,
    source_ts: str | None,
    source_permalink: str | None,
) -> CaseStudy:
    study = CaseStudy(
        team_id=team_id,
        written_by=user_id,
        engine=engine,
        source_channel=source_channel,
        source_ts=source_ts,
        source_permalink=source_permalink,
        **fields.__dict__,
    )
    session.add(study)
    session.flush()
    return study


def post(study: CaseStudy) -> CaseStudyPost:
    """The case study as the hub shows it: each field written, in the form's order."""
    fields = tuple((label, text) for name, label in FIELDS[1:] if (text := getattr(study, name)))
    return CaseStudyPost(study.title, fields, study.source_permalink)


def search(session: Session, team_id: str, words: str, limit: int = 5) -> list[CaseStudy]:
    """Case studies holding every word, newest first."""
    terms = [w for w in words.lower().split() if len(w) > 1][:8]
    if not terms:
        raise UserError("Add words to search for: `/copbot hub <words>`.")
    query = select(CaseStudy).where(CaseStudy.team_id == team_id)
    for term in terms:
        like = f"%{term.replace('%', '').replace('_', '')}%"
        query = query.where(or_(*(col(getattr(CaseStudy, name)).ilike(like) for name, _ in FIELDS)))
    return list(session.exec(query.order_by(col(CaseStudy.created_at).desc()).limit(limit)))
