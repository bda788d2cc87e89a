"""From a proposal to completed exchanges: the lead's review message, group DM
introductions, and the scheduled steps that keep it moving. Slack is called with no
session open. What members press in their group DM is in ``bot.exchange.progress``."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import or_
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.config import Settings
from bot.errors import UserError
from bot.exchange import messages, progress
from bot.exchange.rounds import current_round, propose, round_matches
from bot.exchange.stats import round_figures
from bot.nudges.rules import Quiet, next_allowed
from bot.platform import outbox
from bot.platform.effects import after_commit
from bot.platform.rendering import render
from bot.slack import SlackPort
from bot.workspaces import community_settings
from storage import (
    ExchangeMatch,
    ExchangeProgramme,
    ExchangeRound,
    OutboxMessage,
    utcnow,
)

log = logging.getLogger(__name__)
# How the follow-through opens its units of work: ``Database.session`` (a job gets it bare).
Sessions = Callable[[], AbstractContextManager[Session]]
NO_DATE_AFTER = timedelta(days=7)
STALLED_AFTER = timedelta(days=28)


# ------------------------------------------------------------------------------ review


def send_review(sessions: Sessions, slack: SlackPort, round_id: int) -> None:
    """Post the proposal to the lead who created the programme, or redraw it in place.
    Slack is called with no session open; where the review went is saved after."""
    with sessions() as session:
        round_ = session.get(ExchangeRound, round_id)
        programme = session.get(ExchangeProgramme, round_.programme_id) if round_ else None
        if round_ is None or programme is None:
            return
        found = round_matches(session, round_id)
        review = render(
            messages.Review(
                programme.name,
                round_.number,
                round_id,
                tuple(
                    messages.Proposed(tuple(members), match.score, tuple(match.reasons))
                    for match, members in found
                ),
                tuple(round_.outcome.get("carried_over") or ()),
                dict(round_.outcome.get("unmatchable") or {}),
                round_figures(session, programme, found),
                approved_by=round_.approved_by,
                certificate=messages.certificate_line(round_.outcome.get("certificate")),
            )
        )
        channel, ts = round_.review_channel, round_.review_ts
        lead = round_.approved_by or programme.created_by
    if channel and ts:
        if channel[0] in "UW":
            # Saved before copbot kept Slack's DM ID: chat.update needs the D… ID.
            channel = slack.open_conversation([channel])
            _review_sent_to(sessions, round_id, channel, ts)
        slack.update_message(channel, ts, review.text, blocks=review.blocks)
        return
    if not lead:
        return
    posted = slack.post(lead, review.text, blocks=review.blocks)
    _review_sent_to(sessions, round_id, posted.channel, posted.ts)


def _review_sent_to(sessions: Sessions, round_id: int, channel: str, ts: str) -> None:
    with sessions() as session:
        round_ = session.get(ExchangeRound, round_id)
        if round_ is not None:
            round_.review_channel, round_.review_ts = channel, ts
            session.add(round_)


# ------------------------------------------------------------------------ introductions


def introduce(sessions: Sessions, slack: SlackPort, round_id: int) -> int:
    """Open a group DM per approved match and queue its introduction; tell those not
    matched why. Safe to repeat: each match is introduced once (its outbox key). Each
    group DM is opened with no session held, then its match introduced in its own."""
    with sessions() as session:
        round_ = session.get(ExchangeRound, round_id)
        if round_ is None or round_.approved_at is None:
            return 0
        waiting = [
            (match.id or 0, members, match.channel_id)
            for match, members in round_matches(session, round_id)
            if match.status == "approved"
        ]
    introduced = 0
    for match_id, members, channel in waiting:
        channel = channel or slack.open_conversation(members)
        with sessions() as session:
            introduced += _introduce(session, match_id, members, channel)
    with sessions() as session:
        round_ = session.get(ExchangeRound, round_id)
        programme = session.get(ExchangeProgramme, round_.programme_id) if round_ else None
        if round_ is not None and programme is not None:
            _tell_not_matched(session, programme, round_)
    return introduced


def _introduce(session: Session, match_id: int, members: list[str], channel: str) -> int:
    """Queue one match's introduction in its group DM, unless it went already."""
    match = session.get(ExchangeMatch, match_id)
    programme = session.get(ExchangeProgramme, match.programme_id) if match else None
    if match is None or programme is None or match.status != "approved":
        return 0
    match.channel_id = match.channel_id or channel
    match.status, match.introduced_at = "introduced", utcnow()
    intro = render(progress.MatchView(match, members, programme).introduction)
    outbox.enqueue(
        session,
        team_id=programme.team_id,
        key=f"exchange:{match.id}:intro",
        kind="exchange.intro",
        channel=match.channel_id,
        text=intro.text,
        blocks=intro.blocks,
        essential=True,
    )
    session.add(match)
    return 1


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


# ------------------------------------------------------------------------ status


def redraw_intro(sessions: Sessions, slack: SlackPort, match_id: int) -> None:
    """Redraw a match's introduction where it was sent (after "forget me")."""
    with sessions() as session:
        sent = session.exec(
            select(OutboxMessage).where(OutboxMessage.key == f"exchange:{match_id}:intro")
        ).first()
        match = session.get(ExchangeMatch, match_id)
        if not (sent and sent.sent_channel and sent.sent_ts and match):
            return
        programme = session.get(ExchangeProgramme, match.programme_id)
        assert programme is not None
        view = progress.MatchView(match, progress.members_of(session, match_id), programme)
        intro = render(view.introduction)
        channel, ts = sent.sent_channel, sent.sent_ts
    slack.update_message(channel, ts, intro.text, blocks=intro.blocks)


# --------------------------------------------------------------------------- scheduled


@dataclass
class StepReport:
    proposed: int = 0
    introduced: int = 0
    nudged: int = 0
    stalled_reported: int = 0


def steps(
    session_factory: Sessions, slack: SlackPort, settings: Settings, now: datetime | None = None
) -> StepReport:
    """The scheduled follow-through, each part in its own transaction:

    - sign-ups closed: propose the round and send it to the lead for review;
    - approved but not yet introduced (a crash, Slack down): introduce now;
    - introduced a week ago with no date: one nudge in the group DM;
    - four weeks without being done: one note to the lead listing stalled matches.
    """
    now = now or utcnow()
    report = StepReport()
    with session_factory() as session:  # what is due, read at once: usually nothing
        if not _anything_due(session, now):
            return report
        due = list(session.exec(_to_propose(now)))
        waiting = list(
            session.exec(
                select(ExchangeMatch.round_id).where(ExchangeMatch.status == "approved").distinct()
            )
        )
        nudges_due = session.exec(_quiet(now).limit(1)).first() is not None
        stalled_due = session.exec(_stalled(now).limit(1)).first() is not None
    for programme in due:
        with session_factory() as session:
            programme = session.get(ExchangeProgramme, programme.id)
            if programme is None or current_round(session, programme) is not None:
                continue
            try:
                round_ = propose(session, programme, now=now)
            except UserError as error:
                progress.tell_lead(
                    session,
                    programme,
                    f"exchange:{programme.id}:round:{programme.round_number}:unmatched",
                    f"Sign-ups for {programme.name} have closed. {error}",
                )
                continue
            after_commit(session, partial(send_review, session_factory, slack, round_.id or 0))
        report.proposed += 1
    for round_id in waiting:
        report.introduced += introduce(session_factory, slack, round_id)
    if nudges_due:
        with session_factory() as session:
            report.nudged = _nudge_no_date(session, settings, now)
    if stalled_due:
        with session_factory() as session:
            report.stalled_reported = _report_stalled(session, settings, now)
    return report


def _anything_due(session: Session, now: datetime) -> bool:
    """One query: is any part of the follow-through due (most runs find nothing)?"""
    approved = select(ExchangeMatch.id).where(ExchangeMatch.status == "approved")
    parts = (_to_propose(now), approved, _quiet(now), _stalled(now))
    return bool(session.exec(select(or_(*(part.exists() for part in parts)))).one())


def _to_propose(now: datetime) -> SelectOfScalar[ExchangeProgramme]:
    """Open programmes whose sign-ups have closed and whose round is not yet proposed."""
    proposed = select(ExchangeRound.id).where(
        ExchangeRound.programme_id == ExchangeProgramme.id,
        ExchangeRound.number == ExchangeProgramme.round_number,
    )
    return select(ExchangeProgramme).where(
        col(ExchangeProgramme.closed_at).is_(None),
        ExchangeProgramme.signup_deadline <= now,
        ~proposed.exists(),
    )


def _quiet(now: datetime) -> SelectOfScalar[ExchangeMatch]:
    """Matches introduced a week ago with no date, not yet nudged."""
    return select(ExchangeMatch).where(
        ExchangeMatch.status == "introduced",
        col(ExchangeMatch.nudged_at).is_(None),
        col(ExchangeMatch.introduced_at) <= now - NO_DATE_AFTER,
    )


def _stalled(now: datetime) -> SelectOfScalar[ExchangeMatch]:
    """Matches four weeks without being done, not yet reported to the lead."""
    return select(ExchangeMatch).where(
        col(ExchangeMatch.status).in_(("introduced", "date_set")),
        col(ExchangeMatch.stalled_reported_at).is_(None),
        col(ExchangeMatch.introduced_at) <= now - STALLED_AFTER,
    )


def _working_time(session: Session, settings: Settings, team_id: str, now: datetime) -> datetime:
    """Group DMs and notes to leads wait for working hours in the community's time zone."""
    zone = community_settings(session, team_id, settings).timezone
    return next_allowed(now, Quiet(), zone)


def _nudge_no_date(session: Session, settings: Settings, now: datetime) -> int:
    quiet = list(session.exec(_quiet(now)))
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
    stalled = list(session.exec(_stalled(now)))
    by_programme: dict[int, list[ExchangeMatch]] = {}
    for match in stalled:
        by_programme.setdefault(match.programme_id, []).append(match)
    for programme_id, found in by_programme.items():
        programme = session.get(ExchangeProgramme, programme_id)
        if programme is None:
            continue
        lines = [
            f"• {messages.people(progress.members_of(session, m.id or 0))}: "
            + ("date set, not yet done" if m.status == "date_set" else "no date yet")
            for m in found
        ]
        progress.tell_lead(
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
