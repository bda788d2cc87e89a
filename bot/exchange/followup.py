"""From an approved round to completed exchanges: the lead's review message, group DM
introductions, status buttons, feedback, and the scheduled nudges that keep it moving."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from bot.config import Settings
from bot.errors import UserError
from bot.exchange import messages
from bot.exchange.service import (
    NEXT_STEPS,
    current_round,
    propose,
    round_matches,
)
from bot.exchange.stats import round_figures
from bot.nudges import send as nudges
from bot.nudges.rules import Quiet, next_allowed
from bot.platform import outbox
from bot.privacy import refuse_patient_identifiers
from bot.slack import SlackPort
from bot.workspaces import community_settings
from storage import (
    ExchangeFeedback,
    ExchangeInterest,
    ExchangeMatch,
    ExchangeMatchMember,
    ExchangeProgramme,
    ExchangeRound,
    utcnow,
)

log = logging.getLogger(__name__)
NO_DATE_AFTER = timedelta(days=7)
STALLED_AFTER = timedelta(days=28)


# ------------------------------------------------------------------------------ review


def send_review(session: Session, slack: SlackPort, round_id: int) -> None:
    """Post the proposal to the lead who created the programme, or redraw it in place."""
    round_ = session.get(ExchangeRound, round_id)
    programme = session.get(ExchangeProgramme, round_.programme_id) if round_ else None
    if round_ is None or programme is None:
        return
    found = round_matches(session, round_id)
    blocks = messages.review_blocks(
        programme.name,
        round_.number,
        round_id,
        [(members, match.score, match.reasons) for match, members in found],
        round_.outcome.get("carried_over") or [],
        round_.outcome.get("unmatchable") or {},
        round_figures(session, programme, found),
        approved_by=round_.approved_by,
        certificate=messages.certificate_line(round_.outcome.get("certificate")),
    )
    text = f"Proposed matches for {programme.name}"
    if round_.review_channel and round_.review_ts:
        if round_.review_channel[0] in "UW":
            # Saved before copbot kept Slack's DM ID: chat.update needs the D… ID.
            round_.review_channel = slack.open_conversation([round_.review_channel])
            session.add(round_)
        slack.update_message(round_.review_channel, round_.review_ts, text, blocks=blocks)
        return
    lead = round_.approved_by or programme.created_by
    if not lead:
        return
    posted = slack.post(lead, text, blocks=blocks)
    round_.review_channel, round_.review_ts = posted.channel, posted.ts
    session.add(round_)


# ------------------------------------------------------------------------ introductions


def introduce(session: Session, slack: SlackPort, round_id: int) -> int:
    """Open a group DM per approved match and queue its introduction; tell those not
    matched why. Safe to repeat: each match is introduced once (its outbox key)."""
    round_ = session.get(ExchangeRound, round_id)
    programme = session.get(ExchangeProgramme, round_.programme_id) if round_ else None
    if round_ is None or programme is None or round_.approved_at is None:
        return 0
    introduced = 0
    for match, members in round_matches(session, round_id):
        if match.status != "approved":
            continue
        if match.channel_id is None:
            match.channel_id = slack.open_conversation(members)
            session.add(match)
            session.commit()  # remember the channel before anything is queued
        blocks = messages.intro_blocks(
            match.id or 0,
            programme.name,
            programme.format,
            members,
            match.reasons,
            NEXT_STEPS.get(programme.format, "Agree a first date."),
        )
        outbox.enqueue(
            session,
            team_id=programme.team_id,
            key=f"exchange:{match.id}:intro",
            kind="exchange.intro",
            channel=match.channel_id,
            text=messages.intro_text(programme.name, members),
            blocks=blocks,
            essential=True,
        )
        match.status, match.introduced_at = "introduced", utcnow()
        session.add(match)
        introduced += 1
    _tell_not_matched(session, programme, round_)
    return introduced


def _tell_not_matched(
    session: Session, programme: ExchangeProgramme, round_: ExchangeRound
) -> None:
    carried = round_.outcome.get("carried_over") or []
    unmatchable = round_.outcome.get("unmatchable") or {}
    notes = {
        user: (
            f"No match in {programme.name} this round: the numbers did not work out. You "
            "will be matched first in the next round."
        )
        for user in carried
    }
    notes |= {
        user: f"I couldn't match you in {programme.name} this round: {reason}"
        for user, reason in unmatchable.items()
    }
    for user, text in notes.items():
        outbox.enqueue(
            session,
            team_id=programme.team_id,
            key=f"exchange:round:{round_.id}:not-matched:{user}",
            kind="exchange.not_matched",
            channel=user,
            user_id=user,
            text=text,
            essential=True,
        )


# ------------------------------------------------------------------------------ status


@dataclass(frozen=True)
class MatchView:
    match: ExchangeMatch
    members: list[str]
    programme: ExchangeProgramme

    @property
    def blocks(self) -> list[dict]:
        return messages.intro_blocks(
            self.match.id or 0,
            self.programme.name,
            self.programme.format,
            self.members,
            self.match.reasons,
            NEXT_STEPS.get(self.programme.format, "Agree a first date."),
            self.match.status,
        )


def _members(session: Session, match_id: int) -> list[str]:
    rows = session.exec(
        select(ExchangeMatchMember.user_id)
        .where(ExchangeMatchMember.match_id == match_id)
        .order_by(col(ExchangeMatchMember.position))
    )
    return list(rows)


def match_view(session: Session, team_id: str, user_id: str, match_id: int) -> MatchView:
    """A match, only for the people in it."""
    match = session.get(ExchangeMatch, match_id)
    members = _members(session, match_id) if match else []
    if match is None or match.team_id != team_id or user_id not in members:
        raise UserError("Only the people in this match can update it.")
    programme = session.get(ExchangeProgramme, match.programme_id)
    assert programme is not None
    return MatchView(match, members, programme)


def set_status(
    session: Session,
    settings: Settings,
    team_id: str,
    user_id: str,
    match_id: int,
    status: str,
    now: datetime | None = None,
) -> MatchView:
    """A member of the match sets a date, marks it done, or says it can't go ahead."""
    now = now or utcnow()
    view = match_view(session, team_id, user_id, match_id)
    match = view.match
    if match.status == "done":
        raise UserError("This match is already marked done.")
    if match.status == "cancelled":
        raise UserError("This match is already marked as can't go ahead.")
    if match.status not in ("introduced", "date_set"):
        raise UserError("This match hasn't been introduced yet.")
    if status == "date_set" and match.status == "date_set":
        return view
    match.status = status
    if status == "date_set":
        match.date_set_at = now
    elif status == "done":
        match.done_at = match.done_at or now
        text, blocks = messages.feedback_request(match_id, view.programme.name)
        for member in view.members:
            key = f"exchange:{match_id}:feedback:{member}"
            if member == user_id:  # they just pressed Done: an answer, not a nudge
                outbox.enqueue(
                    session,
                    team_id=team_id,
                    key=key,
                    kind="exchange.feedback",
                    channel=member,
                    user_id=member,
                    text=text,
                    blocks=blocks,
                    essential=True,
                )
                continue
            nudges.send(
                session,
                settings,
                team_id=team_id,
                user_id=member,
                kind="exchange.feedback",
                key=key,
                text=text,
                blocks=blocks,
                now=now,
            )
    elif status == "cancelled":
        match.cancelled_at = now
        _cancelled(session, view, user_id)
    session.add(match)
    return view


def _cancelled(session: Session, view: MatchView, by: str) -> None:
    """The lead hears of it; everyone in the match goes first next round."""
    for row in session.exec(
        select(ExchangeInterest).where(
            ExchangeInterest.programme_id == view.programme.id,
            col(ExchangeInterest.user_id).in_(view.members),
        )
    ):
        row.priority = True
        session.add(row)
    _tell_lead(
        session,
        view.programme,
        f"exchange:{view.match.id}:cancelled",
        f"A {view.programme.name} match can't go ahead ({messages.people(view.members)}; "
        f"<@{by}> pressed it). They will be matched first next round.",
    )


def record_feedback(
    session: Session,
    team_id: str,
    user_id: str,
    match_id: int,
    *,
    rating: str | int | None,
    learned: str | None,
    recommend: str | None,
) -> ExchangeFeedback:
    """One feedback per person per match; sending again replaces it."""
    view = match_view(session, team_id, user_id, match_id)
    if view.match.status != "done":
        raise UserError("Feedback opens once the exchange is marked done.")
    try:
        score = int(str(rating))
    except ValueError:
        score = 0
    if not 1 <= score <= 5:
        raise UserError("Choose a rating from 1 to 5.", field="rating")
    text = (learned or "").strip()
    refuse_patient_identifiers(text, "learned")
    row = session.exec(
        select(ExchangeFeedback).where(
            ExchangeFeedback.match_id == match_id, ExchangeFeedback.user_id == user_id
        )
    ).first() or ExchangeFeedback(match_id=match_id, team_id=team_id, user_id=user_id, rating=0)
    row.rating, row.learned = score, text[:3000]
    row.recommend = {"yes": True, "no": False}.get((recommend or "").lower())
    session.add(row)
    return row


# --------------------------------------------------------------------------- scheduled


@dataclass
class StepReport:
    proposed: int = 0
    introduced: int = 0
    nudged: int = 0
    stalled_reported: int = 0


def steps(
    session_factory, slack: SlackPort, settings: Settings, now: datetime | None = None
) -> StepReport:
    """The scheduled follow-through, each part in its own transaction:

    - sign-ups closed: propose the round and send it to the lead for review;
    - approved but not yet introduced (a crash, Slack down): introduce now;
    - introduced a week ago with no date: one nudge in the group DM;
    - four weeks without being done: one note to the lead listing stalled matches.
    """
    now = now or utcnow()
    report = StepReport()
    with session_factory() as session:
        due = list(
            session.exec(
                select(ExchangeProgramme).where(
                    col(ExchangeProgramme.closed_at).is_(None),
                    ExchangeProgramme.signup_deadline <= now,
                )
            )
        )
    for programme in due:
        with session_factory() as session:
            programme = session.get(ExchangeProgramme, programme.id)
            if programme is None or current_round(session, programme) is not None:
                continue
            try:
                round_ = propose(session, programme, now=now)
            except UserError as error:
                _tell_lead(
                    session,
                    programme,
                    f"exchange:{programme.id}:round:{programme.round_number}:unmatched",
                    f"Sign-ups for {programme.name} have closed. {error}",
                )
                continue
            session.commit()
            send_review(session, slack, round_.id or 0)
            report.proposed += 1
    with session_factory() as session:
        waiting = list(
            session.exec(
                select(ExchangeMatch.round_id).where(ExchangeMatch.status == "approved").distinct()
            )
        )
    for round_id in waiting:
        with session_factory() as session:
            report.introduced += introduce(session, slack, round_id)
    with session_factory() as session:
        report.nudged = _nudge_no_date(session, settings, now)
    with session_factory() as session:
        report.stalled_reported = _report_stalled(session, settings, now)
    return report


def _tell_lead(
    session: Session,
    programme: ExchangeProgramme,
    key: str,
    text: str,
    due_at: datetime | None = None,
) -> None:
    """A DM to the lead who runs the programme, once per key."""
    if programme.created_by:
        outbox.enqueue(
            session,
            team_id=programme.team_id,
            key=key,
            kind="exchange.lead",
            channel=programme.created_by,
            user_id=programme.created_by,
            text=text,
            essential=True,
            due_at=due_at,
        )


def _working_time(session: Session, settings: Settings, team_id: str, now: datetime) -> datetime:
    """Group DMs and notes to leads wait for working hours in the community's time zone."""
    zone = community_settings(session, team_id, settings).timezone
    return next_allowed(now, Quiet(), zone)


def _nudge_no_date(session: Session, settings: Settings, now: datetime) -> int:
    quiet = list(
        session.exec(
            select(ExchangeMatch).where(
                ExchangeMatch.status == "introduced",
                col(ExchangeMatch.nudged_at).is_(None),
                col(ExchangeMatch.introduced_at) <= now - NO_DATE_AFTER,
            )
        )
    )
    for match in quiet:
        outbox.enqueue(
            session,
            team_id=match.team_id,
            key=f"exchange:{match.id}:no-date",
            kind="exchange.no_date",
            channel=match.channel_id or "",
            text=(
                "A gentle nudge: have you found a date yet? Even a short first call helps. "
                "Press “We've set a date” above once you have."
            ),
            essential=True,
            due_at=_working_time(session, settings, match.team_id, now),
        )
        match.nudged_at = now
        session.add(match)
    return len(quiet)


def _report_stalled(session: Session, settings: Settings, now: datetime) -> int:
    stalled = list(
        session.exec(
            select(ExchangeMatch).where(
                col(ExchangeMatch.status).in_(("introduced", "date_set")),
                col(ExchangeMatch.stalled_reported_at).is_(None),
                col(ExchangeMatch.introduced_at) <= now - STALLED_AFTER,
            )
        )
    )
    by_programme: dict[int, list[ExchangeMatch]] = {}
    for match in stalled:
        by_programme.setdefault(match.programme_id, []).append(match)
    for programme_id, found in by_programme.items():
        programme = session.get(ExchangeProgramme, programme_id)
        if programme is None:
            continue
        lines = [
            f"• {messages.people(_members(session, m.id or 0))}: "
            + ("date set, not yet done" if m.status == "date_set" else "no date yet")
            for m in found
        ]
        _tell_lead(
            session,
            programme,
            f"exchange:{programme_id}:stalled:{now:%Y-%m-%d}",
            f"{len(found)} {programme.name} matches have stalled for four weeks:\n"
            + "\n".join(lines[:30]),
            _working_time(session, settings, programme.team_id, now),
        )
    for match in stalled:
        match.stalled_reported_at = now
        session.add(match)
    return len(stalled)
