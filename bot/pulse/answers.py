"""Pulse answers: sealed ballots while a run is open.

Anonymity is a property of the data. While a run is open, what each member answered is a
sealed ballot (``bot.pulse.ballots``), found again only through their answer token
(random, made at their first answer and carried only in their own DM); so a backup taken
between two answers shows who answered, never what. Plain functions taking a Session.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select, update

from bot.config import Settings
from bot.errors import UserError
from bot.members import find
from bot.pulse.ballots import Ballot, Sealer, Unreadable, ballot_id
from bot.pulse.questions import Answer, check_answer
from bot.pulse.runs import answerable_run, cancel_reminder
from storage import (
    Member,
    Organisation,
    Pulse,
    PulseAnswer,
    PulseBallot,
    PulseParticipation,
    PulseRun,
    utcnow,
)

log = logging.getLogger(__name__)


def new_token() -> str:
    """256 random bits: unguessable, so its hash can't be matched by trying tokens."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """How answers stored before sealed ballots were grouped (``PulseAnswer.respondent``)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Receipt:
    """What the member's reply shows; ``token`` goes into their updated DM's buttons."""

    run_id: int
    token: str
    changed: bool
    chosen: Mapping[int, int]


def record_answers(
    session: Session,
    settings: Settings,
    *,
    run_id: int,
    user_id: str,
    token: str | None,
    answers: Sequence[Answer],
    replace_all: bool = False,
    now: datetime | None = None,
) -> Receipt:
    """Seal a member's answers into their ballot; a change replaces the earlier ones, so
    they count once.

    ``user_id`` is the one Slack signed into the request: it is used only to check that
    the member was asked and to mark them answered, and is sealed into the ballot only for
    attributed runs. Without a token this must be the member's first answer (claimed
    atomically, so a double tap counts once) and a new token is made; with one, the token
    must already hold a ballot in this run. ``replace_all`` (the full form) clears answers
    the form left empty; a one-tap answer replaces only its question.
    """
    now = now or utcnow()
    run = answerable_run(session, run_id, now, lock=True)
    checked = {answer.question: check_answer(run.questions, answer) for answer in answers}
    given = [answer for answer in checked.values() if answer.value is not None or answer.text]
    participation = session.exec(
        select(PulseParticipation).where(
            PulseParticipation.run_id == run_id, PulseParticipation.user_id == user_id
        )
    ).first()
    if participation is None:
        raise UserError("This pulse wasn't sent to you, so I can't take an answer.")
    sealer = Sealer(settings, run_id, run.questions)
    stored: PulseBallot | None = None
    if token is None:
        if not given:
            raise UserError("Choose an answer first.", field="answer")
        claimed = session.exec(  # type: ignore[call-overload]
            update(PulseParticipation)
            .where(
                col(PulseParticipation.id) == participation.id,
                col(PulseParticipation.answered).is_(False),
            )
            .values(answered=True)
        )
        if claimed.rowcount != 1:
            raise UserError(
                "You've already answered this pulse. To change your answers, use the buttons "
                "in my latest message to you.",
                field="answer",
            )
        token, changed, ballot = new_token(), False, Ballot()
        cancel_reminder(session, run_id, user_id)
    else:
        changed = True
        stored = session.exec(
            select(PulseBallot)
            .where(PulseBallot.id == ballot_id(token), PulseBallot.run_id == run_id)
            .with_for_update()
        ).first()
        found = _ballot_of(sealer, stored) if stored else _earlier_answers(session, run_id, token)
        if found is None:
            raise UserError("That answer link doesn't belong to this pulse.", field="answer")
        if replace_all and not given:
            raise UserError("Choose an answer first.", field="answer")
        ballot = found
    if replace_all:
        ballot.answers = {}
    for question in checked:
        ballot.answers.pop(question, None)
    for answer in given:
        ballot.answers[answer.question] = (answer.value, answer.text)
    if not ballot.answers:
        # Every earlier answer was cleared: nothing would hold the token any more.
        raise UserError("Choose an answer first.", field="answer")
    member = find(session, _team_of(session, run), user_id)
    ballot.staff_group, ballot.organisation_type = _snapshot(session, member)
    ballot.user_id = None if run.anonymous else user_id
    key = ballot_id(token)
    if stored is None:
        stored = PulseBallot(id=key, run_id=run_id, sealed="")
    stored.sealed = sealer.seal(key, ballot)
    session.add(stored)
    session.flush()
    return Receipt(run_id, token, changed, ballot.chosen())


def _ballot_of(sealer: Sealer, stored: PulseBallot) -> Ballot:
    """A stored ballot, opened; one sealed under another secret starts again empty."""
    try:
        return sealer.open(stored.id, stored.sealed)
    except Unreadable:
        log.warning("a pulse ballot could not be opened (the secret changed); it starts again")
        return Ballot()


def _earlier_answers(session: Session, run_id: int, token: str) -> Ballot | None:
    """Answers stored as rows before ballots existed (an upgrade during an open run):
    taken back into a ballot, so a change still replaces them."""
    rows = session.exec(
        select(PulseAnswer).where(
            PulseAnswer.run_id == run_id, PulseAnswer.respondent == hash_token(token)
        )
    ).all()
    if not rows:
        return None
    for row in rows:
        session.delete(row)
    return Ballot({row.question: (row.value, row.text) for row in rows})


def _team_of(session: Session, run: PulseRun) -> str:
    pulse = session.get(Pulse, run.pulse_id)
    assert pulse is not None
    return pulse.team_id


def _snapshot(session: Session, member: Member | None) -> tuple[str | None, str | None]:
    """Staff group and organisation type as they are now, for breakdowns only."""
    if member is None:
        return None, None
    organisation = (
        session.get(Organisation, member.organisation_id) if member.organisation_id else None
    )
    return member.staff_group, organisation.org_type if organisation else None
