"""Closing a pulse run: its sealed ballots opened and stored as answers all at once.

At close the ballots are opened and written as answer rows in one batch, in shuffled
order with random keys and groups too small to show folded into "Other"; a run that
closes below its minimum keeps only its count, since its answers can never be shown.
Plain functions taking a Session (one transaction, the caller's).
"""

from __future__ import annotations

import logging
import random
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlmodel import Session, col, delete, select, update

from bot.config import Settings
from bot.errors import UserError
from bot.ideas.insights import OTHER_GROUPS
from bot.pulse.ballots import Ballot, Sealer, Unreadable
from bot.pulse.questions import FREE_TEXT
from bot.pulse.runs import CLOSED, comment_minimum_for, locked_run, minimum_for
from storage import (
    OutboxMessage,
    OutboxStatus,
    Pulse,
    PulseAnswer,
    PulseBallot,
    PulseRun,
    utcnow,
)

_CHUNK = 500
_SHUFFLE = random.SystemRandom()

log = logging.getLogger(__name__)


def close_run(
    session: Session, settings: Settings, run_id: int, *, now: datetime | None = None
) -> PulseRun:
    """Close the run: no more answers, and anything of it still queued is not sent.

    Its ballots are opened and written as answer rows in one shuffled batch with random
    keys, then deleted; a run whose respondents are fewer than its minimum keeps only
    their number (its answers could never be shown). Breakdown groups with fewer
    respondents than the minimum are stored as "Other (small groups)", with
    complementary folding, so no stored group picks anyone out.
    """
    run = locked_run(session, run_id, shared=False)
    if run is None:
        raise UserError("I can't find that pulse.")
    if run.status == CLOSED:
        return run
    run.status, run.closed_at = CLOSED, now or utcnow()
    pulse = session.get(Pulse, run.pulse_id)
    assert pulse is not None
    opened, unreadable = _open_ballots(session, settings, run)
    run.respondents = len(opened) + unreadable
    minimum = minimum_for(session, settings, run, pulse.team_id)
    if run.anonymous:
        _drop_few_comments(run, opened, comment_minimum_for(session, settings, run, pulse.team_id))
    if opened and (run.respondents >= minimum or not run.anonymous):
        _write_answers(session, run_id, opened, minimum)
    session.exec(delete(PulseBallot).where(col(PulseBallot.run_id) == run_id))  # type: ignore[call-overload]
    session.add(run)
    session.exec(  # type: ignore[call-overload]
        update(OutboxMessage)
        .where(
            col(OutboxMessage.key).startswith(f"pulse:{run_id}:"),
            col(OutboxMessage.status) == OutboxStatus.PENDING,
        )
        .values(status=OutboxStatus.CANCELLED)
    )
    return run


def _open_ballots(session: Session, settings: Settings, run: PulseRun) -> tuple[list[Ballot], int]:
    """Every ballot of the run, opened (and answers stored as rows before ballots existed,
    taken back), with how many could not be opened (sealed under another secret)."""
    sealer = Sealer(settings, run.id or 0, run.questions)
    opened: list[Ballot] = []
    unreadable = 0
    for stored in session.exec(select(PulseBallot).where(PulseBallot.run_id == run.id)):
        try:
            opened.append(sealer.open(stored.id, stored.sealed))
        except Unreadable:
            unreadable += 1
    earlier: dict[str, Ballot] = {}
    for row in session.exec(select(PulseAnswer).where(PulseAnswer.run_id == run.id)):
        ballot = earlier.setdefault(
            row.respondent, Ballot({}, row.staff_group, row.organisation_type, row.user_id)
        )
        ballot.answers[row.question] = (row.value, row.text)
    if earlier:
        session.exec(delete(PulseAnswer).where(col(PulseAnswer.run_id) == run.id))  # type: ignore[call-overload]
        opened.extend(earlier.values())
    if unreadable:
        log.warning("%s pulse ballots of run %s could not be opened", unreadable, run.id)
    return opened, unreadable


def _drop_few_comments(run: PulseRun, opened: list[Ballot], comment_min: int) -> None:
    """Written answers to a question fewer than ``comment_min`` people wrote can never be
    shown, and kept they would point at the few who wrote (their ballots changed when
    they did): they are not kept. Their other answers are."""
    for index, question in enumerate(run.questions):
        if question.get("kind") != FREE_TEXT:
            continue
        writers = [b for b in opened if (b.answers.get(index) or (None, None))[1]]
        if len(writers) >= comment_min:
            continue
        for ballot in writers:
            del ballot.answers[index]


def shown_groups(labels: Sequence[str | None], minimum: int) -> set[str | None]:
    """The groups that may be stored as they are: each held by at least ``minimum``
    respondents, and what is folded into Other is itself 0 or at least ``minimum``."""
    counts: dict[str | None, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0] or ""))
    shown = [item for item in ordered if item[1] >= minimum]
    other = len(labels) - sum(people for _, people in shown)
    while shown and 0 < other < minimum:
        other += shown.pop()[1]
    return {label for label, _ in shown}


def _write_answers(session: Session, run_id: int, opened: list[Ballot], minimum: int) -> None:
    groups = shown_groups([b.staff_group for b in opened], minimum)
    types = shown_groups([b.organisation_type for b in opened], minimum)
    rows: list[dict[str, Any]] = []
    for ballot in opened:
        respondent = secrets.token_hex(16)
        staff_group = ballot.staff_group if ballot.staff_group in groups else OTHER_GROUPS
        org_type = ballot.organisation_type if ballot.organisation_type in types else OTHER_GROUPS
        for question, (value, text) in ballot.answers.items():
            rows.append(
                {
                    "id": secrets.token_hex(16),
                    "run_id": run_id,
                    "respondent": respondent,
                    "question": question,
                    "value": value,
                    "text": text,
                    "staff_group": staff_group,
                    "organisation_type": org_type,
                    "user_id": ballot.user_id,
                }
            )
    _SHUFFLE.shuffle(rows)
    for start in range(0, len(rows), _CHUNK):
        session.execute(insert(PulseAnswer), rows[start : start + _CHUNK])
