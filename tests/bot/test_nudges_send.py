"""The member's choices decide whether and when a nudge is queued (controllable clock)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import Session, select

from bot.config import Settings
from bot.nudges import send as nudges
from bot.workspaces import ensure_workspace
from storage import Database, Member, OutboxMessage, OutboxStatus

TEAM, NURSE = "T0NUDGE", "U0NURSE01"
LONDON = ZoneInfo("Europe/London")
WEDNESDAY_NOON = datetime(2026, 11, 25, 12, 0, tzinfo=LONDON).astimezone(UTC)


@pytest.fixture
def settings() -> Settings:
    return Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def session(database: Database):
    with database.session() as session:
        ensure_workspace(session, TEAM)
        session.add(Member(team_id=TEAM, slack_user_id=NURSE, tz="Europe/London"))
        yield session


def nudge(session: Session, settings: Settings, kind: str, key: str, now: datetime):
    return nudges.send(
        session,
        settings,
        team_id=TEAM,
        user_id=NURSE,
        kind=kind,
        key=key,
        text="A gentle reminder",
        now=now,
    )


def queued(session: Session) -> list[OutboxMessage]:
    return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_a_nudge_in_working_hours_is_due_now(session: Session, settings: Settings) -> None:
    outcome = nudge(session, settings, "pulse.reminder", "r1", WEDNESDAY_NOON)
    assert outcome.queued and outcome.due_at == WEDNESDAY_NOON
    [row] = queued(session)
    assert (row.channel, row.user_id, row.kind, row.essential) == (
        NURSE,
        NURSE,
        "pulse.reminder",
        False,
    )


def test_quiet_hours_delay_until_the_next_allowed_time(
    session: Session, settings: Settings
) -> None:
    friday_evening = datetime(2026, 11, 27, 20, 0, tzinfo=LONDON).astimezone(UTC)
    outcome = nudge(session, settings, "challenge.opening", "c1", friday_evening)
    assert outcome.due_at == datetime(2026, 11, 30, 8, 0, tzinfo=LONDON).astimezone(UTC)


def test_the_same_key_is_queued_once(session: Session, settings: Settings) -> None:
    assert nudge(session, settings, "pulse.delivery", "p1", WEDNESDAY_NOON).queued
    again = nudge(session, settings, "pulse.delivery", "p1", WEDNESDAY_NOON)
    assert (again.queued, again.skipped) == (False, "duplicate")
    assert len(queued(session)) == 1


def test_the_weekly_budget_counts_only_non_essential_nudges(
    session: Session, settings: Settings
) -> None:
    outcomes = [
        nudge(session, settings, "challenge.closing", f"c{n}", WEDNESDAY_NOON) for n in range(4)
    ]
    assert [o.skipped for o in outcomes] == [None, None, None, "over_budget"]
    assert nudge(session, settings, "pulse.delivery", "p1", WEDNESDAY_NOON).queued
    next_monday = WEDNESDAY_NOON + timedelta(days=5)
    assert nudge(session, settings, "challenge.closing", "c9", next_monday).queued


def test_opting_out_skips_and_cancels_what_was_queued(session: Session, settings: Settings) -> None:
    nudge(session, settings, "pulse.reminder", "r1", WEDNESDAY_NOON)
    nudges.update_preferences(
        session,
        TEAM,
        NURSE,
        quiet_start=time(19),
        quiet_end=time(8),
        quiet_weekends=True,
        weekly_budget=3,
        opted_out=["pulse.reminder"],
    )
    assert queued(session)[0].status == OutboxStatus.CANCELLED
    assert nudge(session, settings, "pulse.reminder", "r2", WEDNESDAY_NOON).skipped == "opted_out"
    assert nudge(session, settings, "pulse.delivery", "p1", WEDNESDAY_NOON).queued


def test_snooze_stops_non_essential_nudges_for_a_week(session: Session, settings: Settings) -> None:
    nudge(session, settings, "challenge.opening", "c1", WEDNESDAY_NOON)
    until = nudges.snooze(session, TEAM, NURSE, now=WEDNESDAY_NOON)
    assert until == WEDNESDAY_NOON + timedelta(days=7)
    assert queued(session)[0].status == OutboxStatus.CANCELLED
    assert nudge(session, settings, "challenge.opening", "c2", WEDNESDAY_NOON).skipped == "snoozed"
    assert nudge(session, settings, "pulse.delivery", "p1", WEDNESDAY_NOON).queued
    assert nudge(session, settings, "challenge.opening", "c3", until + timedelta(hours=1)).queued
    nudges.resume(session, TEAM, NURSE)
    assert nudges.preferences(session, TEAM, NURSE).snoozed_until is None


def test_members_who_cannot_be_reached_are_not_queued(session: Session, settings: Settings) -> None:
    preference = nudges.preferences(session, TEAM, NURSE)
    preference.undeliverable_since = WEDNESDAY_NOON
    session.add(preference)
    outcome = nudge(session, settings, "pulse.delivery", "p1", WEDNESDAY_NOON)
    assert outcome.skipped == "undeliverable"


def test_preferences_are_validated(session: Session) -> None:
    from bot.errors import UserError

    with pytest.raises(UserError):
        nudges.update_preferences(
            session,
            TEAM,
            NURSE,
            quiet_start=time(19),
            quiet_end=time(8),
            quiet_weekends=True,
            weekly_budget=99,
            opted_out=[],
        )


def test_a_fan_out_looks_members_up_as_one_at_a_time_would(
    session: Session, settings: Settings
) -> None:
    """``reach_of`` (many members at once) agrees with ``preferences`` and ``timezone_of``,
    saves defaults for members who have none, and keeps the choices others made."""
    night = nudges.preferences(session, TEAM, NURSE)
    night.quiet_start, night.opted_out = time(22, 0), ["pulse.reminder"]
    session.add(night)
    others = [f"U0NEW{n:04d}" for n in range(1200)]  # more than one lookup chunk
    session.add(Member(team_id=TEAM, slack_user_id=others[0], tz="Asia/Kolkata"))
    session.flush()

    reach = nudges.reach_of(session, settings, TEAM, [NURSE, *others, NURSE])

    assert sorted(reach) == sorted([NURSE, *others])
    assert reach[NURSE].preference.quiet_start == time(22, 0)
    assert reach[NURSE].preference.opted_out == ["pulse.reminder"]
    for user_id in (NURSE, others[0], others[-1]):
        assert reach[user_id].zone == nudges.timezone_of(session, TEAM, user_id, settings)
        one = nudges.preferences(session, TEAM, user_id)
        assert reach[user_id].preference.id == one.id  # saved once, found again
        assert (one.quiet_start, one.weekly_budget) == (
            reach[user_id].preference.quiet_start,
            reach[user_id].preference.weekly_budget,
        )
    assert reach[others[-1]].preference.quiet_start == time(19, 0)  # the defaults
    assert reach[others[-1]].preference.opted_out == []
    outcome = nudges.send(
        session,
        settings,
        team_id=TEAM,
        user_id=NURSE,
        kind="pulse.reminder",
        key="r-fan",
        text="A gentle reminder",
        now=WEDNESDAY_NOON,
        reach=reach[NURSE],
    )
    assert outcome.skipped == "opted_out"
