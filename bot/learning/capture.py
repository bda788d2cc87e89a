"""Learning capture: messages from channels a lead turned on, kept for digests until
the retention limit; members can keep their own messages out; reflections.

Messages come from ``message`` events as they are posted, never by reading channel
history (Slack rate-limits that hard for distributed apps).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, delete, select

from bot import audit, members
from bot.config import Settings
from bot.errors import UserError
from bot.privacy import refuse_patient_identifiers
from bot.redaction import without_patient_identifiers
from bot.roles import Actor, Role
from storage import (
    CaptureChannel,
    CapturedMessage,
    CaptureOptOut,
    LearningMark,
    Reflection,
    insert_or_ignore,
)

MAX_TEXT = 40000
# Message subtypes that are people talking; joins, topic changes and bots are not.
PEOPLE_SUBTYPES = (None, "thread_broadcast", "file_share", "me_message")


def notice_text(lead: str, days: int) -> str:
    return (
        f"<@{lead}> turned on learning capture here. copbot keeps messages in this channel "
        f"for {days} days to write short learning digests, with patient identifiers "
        "and names removed before any summary. To keep your own messages out, open copbot's "
        "App Home and press “Exclude my messages”, or type `/copbot privacy`."
    )


def enable(session: Session, actor: Actor, channel_id: str) -> bool:
    """Turn capture on for a channel; False when it already was."""
    actor.require(Role.LEAD, "turn on learning capture")
    if not channel_id:
        raise UserError("Choose a channel.", field="channel")
    added = insert_or_ignore(
        session,
        CaptureChannel(team_id=actor.team_id, channel_id=channel_id, enabled_by=actor.user_id),
    )
    if added:
        audit.record(
            session,
            team_id=actor.team_id,
            actor_id=actor.user_id,
            action="capture.enabled",
            target=f"channel:{channel_id}",
        )
    return added


def disable(session: Session, actor: Actor, channel_id: str) -> None:
    """Stop capturing a channel and forget what was kept from it."""
    actor.require(Role.LEAD, "turn off learning capture")
    captured = session.get(CaptureChannel, (actor.team_id, channel_id or ""))
    if captured is None:
        raise UserError("That channel isn't being captured.")
    session.delete(captured)
    for table in (CapturedMessage, LearningMark):
        session.exec(
            delete(table).where(table.team_id == actor.team_id, table.channel_id == channel_id)  # type: ignore[call-overload]
        )
    audit.record(
        session,
        team_id=actor.team_id,
        actor_id=actor.user_id,
        action="capture.disabled",
        target=f"channel:{channel_id}",
    )


def channels(session: Session, team_id: str) -> list[str]:
    query = select(CaptureChannel.channel_id).where(CaptureChannel.team_id == team_id)
    return list(session.exec(query.order_by(col(CaptureChannel.enabled_at))))


def is_excluded(session: Session, team_id: str, user_id: str) -> bool:
    return session.get(CaptureOptOut, (team_id, user_id)) is not None


def exclude_me(session: Session, team_id: str, user_id: str) -> int:
    """Keep a member's messages out from now on, and delete those already kept."""
    insert_or_ignore(session, CaptureOptOut(team_id=team_id, user_id=user_id))
    result = session.exec(
        delete(CapturedMessage).where(
            CapturedMessage.team_id == team_id, CapturedMessage.user_id == user_id
        )  # type: ignore[call-overload]
    )
    return int(result.rowcount or 0)


def include_me(session: Session, team_id: str, user_id: str) -> None:
    session.exec(
        delete(CaptureOptOut).where(
            CaptureOptOut.team_id == team_id, CaptureOptOut.user_id == user_id
        )  # type: ignore[call-overload]
    )


def on_message(
    session: Session, team_id: str, event: dict[str, Any], settings: Settings | None = None
) -> str:
    """Keep, update or forget a message from a ``message`` event; says what it did.
    With ``settings``, a person who asked copbot to forget them is not captured again
    (``members.forgotten``), as if they had excluded themselves."""
    channel = event.get("channel") or ""
    if session.get(CaptureChannel, (team_id, channel)) is None:
        return "not captured"
    subtype = event.get("subtype")
    if subtype == "message_changed":
        changed = event.get("message") or {}
        row = _find(session, team_id, channel, changed.get("ts") or "")
        if row is not None:
            row.text = without_patient_identifiers(changed.get("text") or "")[:MAX_TEXT]
            session.add(row)
        return "updated" if row else "ignored"
    if subtype == "message_deleted":
        row = _find(session, team_id, channel, event.get("deleted_ts") or "")
        if row is not None:
            session.delete(row)
        return "deleted" if row else "ignored"
    user = event.get("user")
    if subtype not in PEOPLE_SUBTYPES or event.get("bot_id") or not user:
        return "ignored"
    if is_excluded(session, team_id, user):
        return "excluded"
    if settings is not None and members.forgotten(session, settings, team_id, [user]):
        return "excluded"
    text = (event.get("text") or "").strip()
    if not text:
        return "ignored"
    ts, thread_ts = event.get("ts") or "", event.get("thread_ts")
    mark = session.get(LearningMark, (team_id, channel, ts))
    if mark is not None:  # its :memo: came first
        session.delete(mark)
    kept = insert_or_ignore(
        session,
        CapturedMessage(
            team_id=team_id,
            channel_id=channel,
            ts=ts,
            thread_ts=thread_ts if thread_ts != ts else None,
            user_id=user,
            text=without_patient_identifiers(text)[:MAX_TEXT],
            learning=mark is not None,
        ),
    )
    return "kept" if kept else "duplicate"


def _find(session: Session, team_id: str, channel: str, ts: str) -> CapturedMessage | None:
    return session.exec(
        select(CapturedMessage).where(
            CapturedMessage.team_id == team_id,
            CapturedMessage.channel_id == channel,
            CapturedMessage.ts == ts,
        )
    ).first()


def mark_learning(session: Session, team_id: str, channel: str, ts: str) -> bool:
    """:memo: on a kept message marks it as learning (digests put it first). Slack may
    deliver the reaction before the message: then the mark waits for it. False when the
    channel is not captured."""
    if session.get(CaptureChannel, (team_id, channel)) is None:
        return False
    row = _find(session, team_id, channel, ts)
    if row is None:
        insert_or_ignore(session, LearningMark(team_id=team_id, channel_id=channel, ts=ts))
    else:
        row.learning = True
        session.add(row)
    return True


def reflect(session: Session, team_id: str, user_id: str, text: str) -> Reflection:
    cleaned = " ".join((text or "").split())
    if not cleaned:
        raise UserError("Add what you learned: `/copbot learned <text>`.")
    if len(cleaned) > 3000:
        raise UserError("Keep a reflection to 3000 characters or fewer.")
    refuse_patient_identifiers(cleaned, "reflection")
    reflection = Reflection(team_id=team_id, user_id=user_id, text=cleaned)
    session.add(reflection)
    return reflection
