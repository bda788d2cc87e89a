"""Exchange programmes through their rules: mentoring and sets, and bad input that is
refused with a clear message and changes nothing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import Session, select

from bot.errors import NotAllowed, UserError
from bot.exchange import rounds, rules
from bot.roles import Actor, Role
from bot.workspaces import ensure_workspace
from storage import Database, ExchangeInterest, ExchangeMatch, ExchangeRound, utcnow

TEAM = "T0EXCH"
LEAD = Actor(TEAM, "U0LEAD", "Lena", Role.LEAD)
MEMBER = Actor(TEAM, "U0MEMB", "Max", Role.MEMBER)
TODAY = date(2026, 11, 23)
ORGS = ("Wye Valley NHS Trust", "Taurus Healthcare", "Herefordshire Council", "Hospice")


@pytest.fixture
def session(database: Database):
    with database.session() as session:
        ensure_workspace(session, TEAM)
        yield session


def programme(session: Session, name: str, format: str, **extra: object):
    fields = rules.validate_programme(
        name=name,
        format=format,
        group_size=extra.pop("group_size", None),
        differ_by=extra.pop("differ_by", ["organisation"]),
        cooldown_months=None,
        deadline=utcnow().date() + timedelta(days=7),
        recurring=False,
        timezone="Europe/London",
        today=utcnow().date(),
        **extra,
    )
    return rules.create_programme(session, LEAD, fields)


def sign_up(session: Session, found, user: str, org: str, **extra: object) -> None:
    fields = rules.validate_interest(
        user,
        staff_group="Medical",
        organisation=org,
        locality=None,
        professional=["Frailty"],
        personal=None,
        other_interests=None,
        offers=None,
        wants=None,
        career_stage=None,
        availability=None,
        mode=None,
        role=extra.pop("role", None),
        do_not_pair=extra.pop("do_not_pair", None),
        paused=False,
    )
    rules.join(session, TEAM, user, found, fields)


def test_mentoring_respects_each_mentors_capacity(session: Session) -> None:
    found = programme(session, "mentors", "Mentoring", mentor_capacity="2")
    for n in range(2):
        sign_up(session, found, f"U0MENTOR{n}", ORGS[n], role="mentor")
    for n in range(4):
        sign_up(session, found, f"U0MENTEE{n}", ORGS[2 + n % 2], role="mentee")
    round_ = rounds.run_matching(session, LEAD, found)
    pairs = [members for _, members in rounds.round_matches(session, round_.id)]
    assert len(pairs) == 4 and all(m[0].startswith("U0MENTOR") for m in pairs)
    assert all(sum(m[0] == mentor for m in pairs) <= 2 for mentor in ("U0MENTOR0", "U0MENTOR1"))


def test_sets_of_four_mix_organisations(session: Session) -> None:
    found = programme(session, "sets", "Action learning set", group_size="4")
    for n in range(12):
        sign_up(session, found, f"U0SET{n:02d}", ORGS[n % 4])
    round_ = rounds.run_matching(session, LEAD, found)
    groups = [members for _, members in rounds.round_matches(session, round_.id)]
    assert sorted(len(g) for g in groups) == [4, 4, 4]
    assert all(len({ORGS[int(u[-2:]) % 4] for u in g}) == 4 for g in groups)


def test_bad_input_is_refused_and_changes_nothing(session: Session) -> None:
    found = programme(session, "swaps", "Half-day swap")
    with pytest.raises(UserError, match="yourself"):
        sign_up(session, found, "U0SELF", ORGS[0], do_not_pair=["U0SELF"])
    with pytest.raises(UserError, match="at least one"):
        rules.validate_interest(
            "U0NONE", staff_group=None, organisation=ORGS[0], locality=None, professional=[],
            personal=[], other_interests="", offers=None, wants=None, career_stage=None,
            availability=None, mode=None, role=None, do_not_pair=None, paused=False,
        )  # fmt: skip
    for n in range(4):
        sign_up(session, found, f"U0SAME{n}", ORGS[0])  # one organisation: nobody fits
    with pytest.raises(NotAllowed):
        rounds.run_matching(session, MEMBER, found)
    with pytest.raises(UserError, match="Nobody in swaps can be matched"):
        rounds.run_matching(session, LEAD, found)
    assert not session.exec(select(ExchangeRound)).all()
    assert not session.exec(select(ExchangeMatch)).all()
    found.signup_deadline = utcnow() - timedelta(minutes=1)
    with pytest.raises(UserError, match="Sign-ups for swaps closed"):
        sign_up(session, found, "U0LATE", ORGS[1])
    assert not session.exec(
        select(ExchangeInterest).where(ExchangeInterest.user_id == "U0LATE")
    ).all()
    with pytest.raises(UserError, match="Sets have 3 to 8"):
        programme(session, "bad", "Quad", group_size="12")
