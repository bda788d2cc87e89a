""":memo: marks whatever order Slack delivers the reaction and the message in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from bot import retention, workspaces
from bot.learning import capture
from bot.roles import Actor, Role
from storage import CapturedMessage, Database, LearningMark, utcnow

TEAM = "T0MEMO"
CHANNEL = "C0TALK001"
LEAD = Actor(TEAM, "U0LEAD001", "Lena", Role.LEAD)


@pytest.fixture
def session(database: Database):
    with database.session() as session:
        workspaces.ensure_workspace(session, TEAM)
        capture.enable(session, LEAD, CHANNEL)
        yield session


def message(ts: str, user: str = "U0MEMB001") -> dict[str, str]:
    return {"type": "message", "channel": CHANNEL, "user": user, "ts": ts, "text": "It worked."}


def learning(session: Session, ts: str) -> bool | None:
    query = select(CapturedMessage.learning).where(CapturedMessage.ts == ts)
    return session.exec(query).first()


def test_a_memo_before_its_message_marks_it_when_it_arrives(session: Session) -> None:
    assert capture.mark_learning(session, TEAM, CHANNEL, "1.000100")
    assert learning(session, "1.000100") is None  # nothing kept yet
    assert capture.on_message(session, TEAM, message("1.000100")) == "kept"
    assert capture.on_message(session, TEAM, message("1.000200")) == "kept"
    assert learning(session, "1.000100") is True
    assert learning(session, "1.000200") is False
    assert not session.exec(select(LearningMark)).all()  # the mark was used up


def test_a_memo_after_its_message_marks_it_at_once(session: Session) -> None:
    capture.on_message(session, TEAM, message("1.000300"))
    assert capture.mark_learning(session, TEAM, CHANNEL, "1.000300")
    assert learning(session, "1.000300") is True
    assert not session.exec(select(LearningMark)).all()


def test_a_memo_outside_captured_channels_keeps_nothing(session: Session) -> None:
    assert not capture.mark_learning(session, TEAM, "C0ELSEWHERE", "1.000400")
    assert not session.exec(select(LearningMark)).all()


def test_marks_whose_message_never_comes_go_with_the_retention_limit(session: Session) -> None:
    capture.mark_learning(session, TEAM, CHANNEL, "1.000500")
    capture.mark_learning(session, TEAM, CHANNEL, "1.000600")
    old = session.get(LearningMark, (TEAM, CHANNEL, "1.000500"))
    assert old is not None
    old.marked_at = utcnow() - timedelta(days=91)
    session.add(old)
    retention.enforce(session)
    assert [m.ts for m in session.exec(select(LearningMark))] == ["1.000600"]
    capture.disable(session, LEAD, CHANNEL)  # turning capture off forgets the rest
    assert not session.exec(select(LearningMark)).all()


def test_a_captured_message_is_kept_without_patient_identifiers(session: Session) -> None:
    """Messages cannot be refused like a form, so what must never be stored is taken out
    before the row is written, on arrival and on edit; the rest stays as written."""
    said = "Bed 4 again: NHS 943.476.5919, DOB 01/02/1950, 6 beds a day on ward 7"
    capture.on_message(session, TEAM, {**message("1.000400"), "text": said})
    kept = session.exec(select(CapturedMessage.text)).one()
    assert "943" not in kept and "1950" not in kept
    assert "[NHS number]" in kept and "6 beds a day on ward 7" in kept
    edited = {"ts": "1.000400", "text": "Corrected: 9434765919"}
    event = {"type": "message", "subtype": "message_changed", "channel": CHANNEL}
    capture.on_message(session, TEAM, {**event, "message": edited})
    assert session.exec(select(CapturedMessage.text)).one() == "Corrected: [NHS number]"
