"""Privacy rights end to end: a member who has used every capability sees what is kept,
downloads it, and is forgotten; afterwards no column of any table holds their ID, while
counts stay true and anonymous pulse answers are untouched. Leads' audit log as CSV."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, Table, Text, cast, func, inspect, or_, select
from sqlmodel import SQLModel

from bot import rights
from bot.config import Settings
from bot.housekeeping import profile_sync
from bot.privacy.jobs import unfinished_forgets
from bot.pulse.jobs import pulse_steps
from slacktwin import SlackDriver, SlackTwin
from storage import (
    AuditEntry,
    CapturedMessage,
    Database,
    ForgottenPerson,
    Idea,
    Member,
    PulseAnswer,
    PulseRun,
    Support,
    utcnow,
)
from tests.e2e.test_ideas import card_text, cards, post_idea, share, wait_for_card
from tests.e2e.test_learning import turn_on_capture
from tests.support import ADMIN, CHANNEL, LEAD, MEMBER, OTHER, TEAM, Copbot, make_settings


@pytest.fixture
def settings(twin: SlackTwin, database_url: str) -> Settings:
    return make_settings(twin, database_url, copbot_ideas_channel=CHANNEL)


def holding(database: Database, user_id: str) -> dict[str, int]:
    """Rows per table in which any column, read as text, contains ``user_id``."""
    found = {}
    with database.session() as session:
        for table in SQLModel.metadata.sorted_tables:
            condition = or_(*(cast(c, Text).like(f"%{user_id}%") for c in table.columns))
            count = session.scalar(select(func.count()).select_from(table).where(condition))
            if count:
                found[table.name] = count
    return found


def use_everything(driver: SlackDriver, twin: SlackTwin) -> None:
    """MEMBER shares and supports ideas, answers a pulse, signs up to an exchange, has a
    message captured, writes a reflection and sets nudge preferences."""
    mine = post_idea(driver, twin, MEMBER, "Open a discharge lounge")
    theirs = post_idea(driver, twin, OTHER, "Weekend therapy cover on frailty wards")
    driver.click(OTHER, "Support", message=(CHANNEL, mine))
    driver.click(MEMBER, "Support", message=(CHANNEL, theirs))
    twin.wait_for(lambda: "1 supporter" in json.dumps(cards(twin)), message="supports")
    driver.command(MEMBER, "/copbot", "learned Shadowing a paramedic changed how I refer")
    turn_on_capture(driver, twin, LEAD, CHANNEL)
    driver.post_message(MEMBER, CHANNEL, f"Thanks <@{OTHER}>, the huddle worked well.")
    driver.post_message(OTHER, CHANNEL, f"Agreed with <@{MEMBER}> on the huddle.")

    driver.command(LEAD, "/pulse", "new", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None)
    driver.fill(LEAD, {"Name": "week", "Questions": ["I can raise a concern and be heard"]})
    driver.fill(LEAD, {"Schedule": "Weekly", "Day": "Monday"})
    assert not driver.submit(LEAD).errors
    driver.command(LEAD, "/pulse", "send-now week", channel=CHANNEL)
    for user in (MEMBER, OTHER):
        twin.wait_for(lambda u=user: "Nobody" in json.dumps(twin.dms(u)), message="pulse DM")
        driver.click(user, "4", message=(twin.dm_channel(user), twin.dms(user)[-1]["ts"]))
        twin.wait_for(lambda u=user: "answer is in" in twin.dms(u)[-1]["text"], message="answer")

    driver.command(LEAD, "/exchange", "new", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None)
    driver.fill(LEAD, {"Name": "swap", "Format": "Half-day swap"})
    assert not driver.submit(LEAD).errors
    driver.command(MEMBER, "/exchange", "join swap", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(MEMBER) is not None)
    driver.fill(
        MEMBER,
        {
            "Staff group": "Medical",
            "Organisation": "Wye Valley NHS Trust",
            "Professional interests": ["Frailty"],
            "People I should not be paired with": [OTHER],
        },
    )
    assert not driver.submit(MEMBER).errors


def test_see_download_and_forget_me(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    use_everything(driver, twin)
    before = holding(database, MEMBER)
    assert {"member", "idea", "support", "captured_message", "reflection"} <= before.keys()
    with database.session() as session:
        supporters = sorted(i.supporter_count for i in session.scalars(select(Idea)))
        answers = sorted((a.value, a.question) for a in session.scalars(select(PulseAnswer)))

    reply = driver.command(MEMBER, "/copbot", "privacy").json()
    text = json.dumps(reply)
    assert "What copbot keeps about you" in text and "1 you wrote, 1 you support" in text
    assert "Download my data" in text and "Forget me" in text

    driver.app_home_opened(MEMBER)
    twin.wait_for(lambda: "Your data" in json.dumps(twin.home_view(MEMBER) or {}))
    driver.click(MEMBER, "What copbot keeps", home=True)
    twin.wait_for(lambda: twin.current_modal(MEMBER) is not None, message="rights modal")
    driver.click(MEMBER, "Download my data", modal=True)
    twin.wait_for(lambda: twin.files, message="my data as a file")
    data = json.loads(twin.files[-1]["content"])
    assert twin.files[-1]["ims"] == [twin.dm_channel(MEMBER)]
    assert data["user_id"] == MEMBER and "reflection" in data["tables"]
    assert "pulse_answer" not in data["tables"]  # anonymous answers are not theirs to see

    driver.close(MEMBER)
    driver.click(MEMBER, "Forget me", home=True)
    twin.wait_for(lambda: "Forget me" in json.dumps(twin.current_modal(MEMBER) or {}))
    assert not driver.submit(MEMBER).errors
    twin.wait_for(lambda: "has forgotten you" in json.dumps(twin.dms(MEMBER)), message="done")

    assert holding(database, MEMBER) == {}  # every table, every column
    with database.session() as session:
        assert sorted(i.supporter_count for i in session.scalars(select(Idea))) == (supporters)
        assert len(session.scalars(select(Support)).all()) == 2
        assert (
            sorted((a.value, a.question) for a in session.scalars(select(PulseAnswer))) == answers
        )
    assert holding(database, OTHER)  # nobody else was touched


def test_only_admins_get_the_audit_log_as_csv(driver: SlackDriver, twin: SlackTwin) -> None:
    driver.command(LEAD, "/pulse", "new", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None)
    driver.fill(LEAD, {"Name": "audited", "Questions": ["What is working well?"]})
    assert not driver.submit(LEAD).errors
    driver.command(LEAD, "/pulse", "pause audited", channel=CHANNEL)
    driver.app_home_opened(LEAD)
    twin.wait_for(lambda: "Your data" in json.dumps(twin.home_view(LEAD) or {}))
    assert "Audit log" not in json.dumps(twin.home_view(LEAD))  # leads are not admins
    driver.app_home_opened(ADMIN)
    twin.wait_for(lambda: "Download audit log" in json.dumps(twin.home_view(ADMIN) or {}))
    driver.click(ADMIN, "Download audit log", home=True)
    twin.wait_for(lambda: twin.files, message="audit CSV")
    csv_text = twin.files[-1]["content"].decode()
    header, *rows = csv_text.strip().splitlines()
    assert header == "at,actor_id,action,target,before,after"
    assert any(LEAD in row and "pulse" in row for row in rows)


# ------------------------------------------------------------ issue 13: repro 6 and 7

ANXIETY = "how to cope with my anxiety at work"
OTHERS_WORDS = "Agreed with the huddle idea, it saved my shift"


def download(driver: SlackDriver, twin: SlackTwin, user: str) -> dict[str, Any]:
    before = len(twin.files)
    driver.app_home_opened(user)
    twin.wait_for(lambda: "Download my data" in json.dumps(twin.home_view(user) or {}))
    driver.click(user, "Download my data", home=True)
    twin.wait_for(lambda: len(twin.files) > before, message="my data as a file")
    return json.loads(twin.files[-1]["content"])


def join_exchange(driver: SlackDriver, twin: SlackTwin, user: str, values: dict[str, Any]) -> None:
    driver.command(user, "/exchange", "join swap", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(user) is not None, message=f"sign-up {user}")
    driver.fill(user, values)
    assert not driver.submit(user).errors


def new_programme(driver: SlackDriver, twin: SlackTwin) -> None:
    driver.command(LEAD, "/exchange", "new", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None)
    driver.fill(LEAD, {"Name": "swap", "Format": "Half-day swap"})
    assert not driver.submit(LEAD).errors


def test_my_data_holds_only_what_is_mine(driver: SlackDriver, twin: SlackTwin) -> None:
    """Repro 6: the download held another member's message mentioning me, and another
    member's sign-up naming me as do-not-pair with their "I want to learn"."""
    turn_on_capture(driver, twin, LEAD, CHANNEL)
    driver.post_message(MEMBER, CHANNEL, "Our huddle board now sits by the nurses station")
    driver.post_message(OTHER, CHANNEL, f"<@{MEMBER}> {OTHERS_WORDS}")
    driver.command(MEMBER, "/copbot", "learned Shadowing a paramedic changed how I refer")
    new_programme(driver, twin)
    join_exchange(
        driver,
        twin,
        OTHER,
        {
            "Staff group": "Pharmacy",
            "Organisation": "Taurus Healthcare",
            "Professional interests": ["Frailty"],
            "I want to learn": ANXIETY,
            "People I should not be paired with": [MEMBER],
        },
    )
    join_exchange(
        driver,
        twin,
        MEMBER,
        {
            "Staff group": "Medical",
            "Organisation": "Wye Valley NHS Trust",
            "Professional interests": ["Frailty"],
        },
    )

    data = download(driver, twin, MEMBER)
    text = json.dumps(data, ensure_ascii=False)
    # Mine: my message, my reflection, my sign-up.
    assert "Our huddle board now sits by the nurses station" in text
    assert "Shadowing a paramedic changed how I refer" in text
    assert [row["organisation"] for row in data["tables"]["exchange_interest"]] == [
        "Wye Valley NHS Trust"
    ]
    # Not mine: another person's words, their private choices, their ID.
    assert ANXIETY not in text and OTHERS_WORDS not in text
    assert OTHER not in text and "Taurus" not in text and "Pharmacy" not in text
    # Mentions by others are a count, not their words.
    assert data["mentions"] == {"messages by others that mention you": 1}


def scan(database: Database, needles: dict[str, str]) -> dict[str, list[str]]:
    """Every column of every table in the database (read from the database itself, so
    tables copbot's models do not know are included), as text: which needles are where.
    Needles are matched case-insensitively; a short handle must stand as a word."""
    found: dict[str, list[str]] = {}
    patterns = {
        label: re.compile(rf"(?<![\w]){re.escape(needle)}(?![\w])", re.IGNORECASE)
        for label, needle in needles.items()
    }
    engine = database.engine
    for name in inspect(engine).get_table_names():
        table = Table(name, MetaData(), autoload_with=engine)
        with engine.connect() as connection:
            for row in connection.execute(select(table)):
                for column, value in zip(table.columns, row, strict=True):
                    if value is None:
                        continue
                    shown = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                    for label, pattern in patterns.items():
                        if pattern.search(shown):
                            found.setdefault(label, []).append(f"{name}.{column.name}")
    return found


def raw_sqlite_hits(database: Database, needles: dict[str, str]) -> dict[str, list[str]]:
    """The SQLite file and its -wal, byte for byte: deleted text must not linger there."""
    path = Path(database.engine.url.database or "")
    found: dict[str, list[str]] = {}
    for file in (path, path.with_name(path.name + "-wal")):
        if not file.exists():
            continue
        content = file.read_bytes().lower()
        for label, needle in needles.items():
            if needle.lower().encode() in content:
                found.setdefault(label, []).append(file.name)
    return found


def test_forget_me_leaves_no_trace_in_the_database_or_in_slack(
    driver: SlackDriver, twin: SlackTwin, database: Database, copbot: Copbot
) -> None:
    """Repro 7 and the scan: after "forget me" no column of any table holds the member's
    ID, name, handle or anything they wrote; no tombstone links rows; copbot's cards and
    messages in Slack no longer name them; nothing lingers in the SQLite file or WAL."""
    mine = {
        "idea title": "Huddle boards on every frailty ward",
        "idea text": "A whiteboard by the nurses station listing who waits for what",
        "reflection": "Shadowing a paramedic changed how I refer frail people",
        "message": "Our huddle board moved next to the discharge lounge",
        "feedback": "Seeing the porters side of discharge was eye opening",
        "organisation": "Friends of Kington Cottage Hospital",
    }
    turn_on_capture(driver, twin, LEAD, CHANNEL)
    driver.post_message(MEMBER, CHANNEL, mine["message"])
    driver.post_message(OTHER, CHANNEL, f"Thanks <@{MEMBER}> and Max Member for the board")
    driver.command(MEMBER, "/copbot", f"learned {mine['reflection']}")
    my_card = post_idea(driver, twin, MEMBER, mine["idea title"], Description=mine["idea text"])
    their_card = post_idea(driver, twin, OTHER, "Saturday physiotherapy rota")
    driver.click(MEMBER, "Support", message=(CHANNEL, their_card))
    driver.click(OTHER, "Support", message=(CHANNEL, my_card))
    wait_for_card(twin, my_card, "1 supporter")
    # A lead makes MEMBER the owner of OTHER's idea: the card and OTHER's DM name them.
    driver.click(LEAD, "Manage", message=(CHANNEL, their_card))
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None, message="manage modal")
    driver.fill(
        LEAD,
        {
            "Status": "In progress",
            "Rationale": "Pilot agreed.",
            "Owner": MEMBER,
            "Next review": "2030-01-15",
        },
    )
    assert not driver.submit(LEAD).errors
    wait_for_card(twin, their_card, "Max Member")
    twin.wait_for(lambda: "Owner: Max Member" in json.dumps(twin.dms(OTHER)), message="DM")
    assert "By Max Member" in card_text(twin, my_card)

    # An exchange: signed up, matched, introduced, done, and feedback given.
    new_programme(driver, twin)
    join_exchange(
        driver,
        twin,
        MEMBER,
        {
            "Staff group": "Medical",
            "Organisation": "Wye Valley NHS Trust",
            "Professional interests": ["Frailty"],
        },
    )
    join_exchange(
        driver,
        twin,
        OTHER,
        {
            "Staff group": "Pharmacy",
            "Organisation": "Taurus Healthcare",
            "Professional interests": ["Frailty"],
        },
    )
    driver.command(LEAD, "/exchange", "match swap", channel=CHANNEL)
    twin.wait_for(lambda: "Proposed matches" in json.dumps(twin.dms(LEAD)), message="review")
    proposal = next(m for m in reversed(twin.dms(LEAD)) if "Proposed matches" in m["text"])
    driver.click(LEAD, "Approve", message=(twin.dm_channel(LEAD), proposal["ts"]))
    twin.wait_for(lambda: twin.group_dms(MEMBER), message="introduction")
    group = twin.group_dms(MEMBER)[0]
    twin.wait_for(lambda: twin.messages(group), message="intro message")
    assert MEMBER in json.dumps(twin.messages(group))
    driver.click(MEMBER, "Done", message=(group, twin.messages(group)[-1]["ts"]))
    twin.wait_for(lambda: "Give feedback" in json.dumps(twin.dms(MEMBER)), message="ask")
    ask = next(m for m in twin.dms(MEMBER) if "Give feedback" in json.dumps(m))
    driver.click(MEMBER, "Give feedback", message=(twin.dm_channel(MEMBER), ask["ts"]))
    twin.wait_for(lambda: twin.current_modal(MEMBER) is not None, message="feedback form")
    driver.fill(
        MEMBER,
        {"Rating": "5 of 5", "What I learned": mine["feedback"], "Would you recommend it?": "Yes"},
    )
    assert not driver.submit(MEMBER).errors

    # MEMBER adds their own organisation to the community's list.
    driver.app_home_opened(MEMBER)
    twin.wait_for(lambda: "Edit profile" in json.dumps(twin.home_view(MEMBER) or {}))
    driver.click(MEMBER, "Edit profile", home=True)
    twin.wait_for(lambda: twin.current_modal(MEMBER) is not None, message="profile form")
    driver.fill(
        MEMBER,
        {
            "Staff group": "Medical",
            "Or add your organisation": mine["organisation"],
            "Organisation type": "VCSE",
        },
    )
    assert not driver.submit(MEMBER).errors
    copbot.settle()

    needles = {"user ID": MEMBER, "name": "Max Member", "handle": "@max"} | mine
    before = scan(database, needles)
    assert set(before) == set(needles) - {"handle"}, before  # the scan sees them all first

    driver.app_home_opened(MEMBER)
    twin.wait_for(lambda: "Forget me" in json.dumps(twin.home_view(MEMBER) or {}))
    driver.click(MEMBER, "Forget me", home=True)
    twin.wait_for(lambda: "can't be undone" in json.dumps(twin.current_modal(MEMBER) or {}))
    assert not driver.submit(MEMBER).errors
    twin.wait_for(lambda: "has forgotten you" in json.dumps(twin.dms(MEMBER)), message="done")
    copbot.settle()

    # Slack: copbot's cards and messages no longer name them, and nobody pressed anything.
    twin.wait_for(lambda: "Max Member" not in card_text(twin, my_card), message="my card")
    twin.wait_for(lambda: "Max Member" not in card_text(twin, their_card), message="owner")
    assert mine["idea title"] not in card_text(twin, my_card)
    assert "Anonymous" in card_text(twin, my_card)
    twin.wait_for(lambda: "Max Member" not in json.dumps(twin.dms(OTHER)), message="OTHER's DM")
    twin.wait_for(lambda: MEMBER not in json.dumps(twin.messages(group)), message="intro")

    # The database: nothing of theirs, in any column of any table.
    assert scan(database, needles) == {}
    # No tombstone that links rows: no value stands in for them in two places.
    with database.session() as session:
        supports = session.scalars(select(Support.user_id)).all()
        assert len(supports) == 2 and len(set(supports)) == 2
        ideas = session.scalars(select(Idea)).all()
        assert sorted(i.supporter_count for i in ideas) == [1, 1]  # counts stay true
        assert not session.scalars(
            select(AuditEntry).where(AuditEntry.actor_id.like("gone-%"))
        ).all()
    # SQLite keeps deleted text in its file and write-ahead log unless told not to.
    if database.dialect == "sqlite":
        assert raw_sqlite_hits(database, needles) == {}
    # OTHER keeps everything of theirs.
    assert "Saturday physiotherapy rota" in card_text(twin, their_card)
    assert scan(database, {"other": OTHER})


def test_an_attributed_answer_sealed_before_forget_me_never_names_them(
    driver: SlackDriver, twin: SlackTwin, database: Database, job_context: object
) -> None:
    """An open pulse that is not anonymous seals the member's ID in their ballot: forget
    me opens and deletes it, so the close writes no answer naming them. Anonymous ballots
    carry no ID and are left alone."""
    for user in (MEMBER, OTHER):
        driver.command(user, "/copbot", "help", channel=CHANNEL)
    driver.command(LEAD, "/pulse", "new", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None, message="designer")
    driver.fill(
        LEAD,
        {
            "Name": "named",
            "Audience": "Everyone",
            "Questions": ["I can raise a concern and be heard"],
            "Anonymous": [],
        },
    )
    assert not driver.submit(LEAD).errors
    driver.command(LEAD, "/pulse", "send-now named", channel=CHANNEL)
    for user in (MEMBER, OTHER):
        twin.wait_for(lambda u=user: twin.dms(u), message="pulse DM")
        driver.click(user, "4", message=(twin.dm_channel(user), twin.dms(user)[-1]["ts"]))
        twin.wait_for(lambda u=user: "answer is in" in twin.dms(u)[-1]["text"], message="in")

    driver.app_home_opened(MEMBER)
    twin.wait_for(lambda: "Forget me" in json.dumps(twin.home_view(MEMBER) or {}))
    driver.click(MEMBER, "Forget me", home=True)
    twin.wait_for(lambda: "can't be undone" in json.dumps(twin.current_modal(MEMBER) or {}))
    assert not driver.submit(MEMBER).errors
    twin.wait_for(lambda: "has forgotten you" in json.dumps(twin.dms(MEMBER)), message="done")

    with database.session() as session:
        for run in session.scalars(select(PulseRun)):
            run.closes_at = utcnow() - timedelta(minutes=1)
            session.add(run)
    pulse_steps()
    with database.session() as session:
        answers = session.scalars(select(PulseAnswer)).all()
        assert [(a.user_id, a.value) for a in answers] == [(OTHER, 4)]
    assert scan(database, {"user ID": MEMBER}) == {}


def test_a_forget_me_cut_short_by_a_crash_is_finished_by_the_scheduled_job(
    driver: SlackDriver, twin: SlackTwin, database: Database, job_context: object
) -> None:
    """The request is saved before the modal's ack; if the process dies before the work
    after it, the job every five minutes carries it out and tells the member."""
    my_card = post_idea(driver, twin, MEMBER, "Huddle boards on every frailty ward")
    with database.session() as session:
        rights.request_forget(session, TEAM, MEMBER)  # what the ack path saved; then a crash
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == rights.REQUESTED)
        ).one()
        entry.at = utcnow() - timedelta(minutes=10)
        session.add(entry)
    unfinished_forgets()
    assert "has forgotten you" in json.dumps(twin.dms(MEMBER))
    assert "Max Member" not in card_text(twin, my_card)
    assert scan(database, {"user ID": MEMBER, "name": "Max Member"}) == {}
    unfinished_forgets()  # done: nothing is carried out twice
    assert json.dumps(twin.dms(MEMBER)).count("has forgotten you") == 1


def test_forget_me_while_their_new_card_waits_for_slack_leaves_nothing_of_them(
    driver: SlackDriver, twin: SlackTwin, database: Database
) -> None:
    """A member shares an idea and asks to be forgotten while Slack has taken the card but
    not yet answered: the card is linked after the erasure. Nothing of them may be left:
    no "thank you" queued to them, and the card does not show their name."""
    twin.fail("chat.postMessage", answer_late=6)
    assert not share(driver, twin, MEMBER, {"Title": "Huddle boards on every frailty ward"}).errors
    twin.wait_for(lambda: cards(twin), message="the card, its answer held")
    forget_me(driver, twin, MEMBER)

    def linked() -> bool:
        with database.session() as session:
            return session.scalars(select(Idea.card_ts)).one() is not None

    twin.wait_for(linked, timeout=30, message="the card linked once Slack answered")
    card = cards(twin)[-1]["ts"]
    twin.wait_for(lambda: "Max Member" not in card_text(twin, card), message="card redrawn")
    assert scan(database, {"user ID": MEMBER, "name": "Max Member"}) == {}
    assert "posted" not in json.dumps(twin.dms(MEMBER)).lower()


def member_row(database: Database, user_id: str) -> Member | None:
    with database.session() as session:
        return session.scalars(select(Member).where(Member.slack_user_id == user_id)).first()


def test_a_forgotten_person_stays_forgotten_until_they_use_copbot_again(
    driver: SlackDriver, twin: SlackTwin, database: Database, job_context: object
) -> None:
    """Erasure is not undone by the directory: after "forget me" the nightly read, a
    profile change and a message of theirs (in a captured channel: not kept) make no
    member row, so an "Everyone" pulse does not reach them. When they use copbot
    themselves they are a member again."""
    profile_sync()  # the whole directory, as at first start
    turn_on_capture(driver, twin, LEAD, CHANNEL)
    forget_me(driver, twin, MEMBER)
    assert member_row(database, MEMBER) is None

    profile_sync()
    assert driver.user_change(MEMBER).status_code == 200
    assert driver.app_home_opened(MEMBER, tab="messages").status_code == 200  # reading the DM
    driver.post_message(MEMBER, CHANNEL, "Morning all, huddle at 10:30")
    driver.post_message(OTHER, CHANNEL, "Morning, see you at the huddle")

    def kept() -> list[str]:
        with database.session() as session:
            return list(session.scalars(select(CapturedMessage.text)))

    twin.wait_for(lambda: "Morning, see you at the huddle" in kept(), message="OTHER's kept")
    assert kept() == ["Morning, see you at the huddle"]  # theirs was not
    assert member_row(database, MEMBER) is None
    with database.session() as session:
        listed = session.scalars(select(ForgottenPerson.key)).all()
    assert len(listed) == 1 and MEMBER not in listed[0]  # a keyed hash, not their ID
    assert holding(database, MEMBER) == {}

    driver.command(LEAD, "/pulse", "new", channel=CHANNEL)
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None, message="designer")
    driver.fill(
        LEAD, {"Name": "everyone", "Audience": "Everyone", "Questions": ["What is working well?"]}
    )
    assert not driver.submit(LEAD).errors
    before = len(twin.dms(MEMBER))
    driver.command(LEAD, "/pulse", "send-now everyone", channel=CHANNEL)
    twin.wait_for(
        lambda: "Sent the everyone pulse to 3 people" in json.dumps(twin.ephemerals(LEAD)),
        message="sent to the three others",
    )
    twin.wait_for(lambda: "everyone pulse" in json.dumps(twin.dms(OTHER)), message="OTHER's DM")
    assert len(twin.dms(MEMBER)) == before  # no pulse for them

    reply = driver.command(MEMBER, "/copbot", "help", channel=CHANNEL)
    assert reply.status_code == 200 and "/idea" in json.dumps(reply.json())
    twin.wait_for(
        lambda: (
            (member_row(database, MEMBER) or Member(team_id=TEAM, slack_user_id="")).real_name
            == "Max Member"
        ),
        message="their profile, fetched afresh",
    )
    with database.session() as session:
        assert session.scalars(select(ForgottenPerson)).all() == []
    driver.command(LEAD, "/pulse", "send-now everyone", channel=CHANNEL)
    twin.wait_for(lambda: "everyone pulse" in json.dumps(twin.dms(MEMBER)), message="their DM")


def forget_me(driver: SlackDriver, twin: SlackTwin, user: str) -> None:
    driver.command(user, "/copbot", "help", channel=CHANNEL)
    driver.app_home_opened(user)
    twin.wait_for(lambda: "Forget me" in json.dumps(twin.home_view(user) or {}))
    driver.click(user, "Forget me", home=True)
    twin.wait_for(lambda: "can't be undone" in json.dumps(twin.current_modal(user) or {}))
    assert not driver.submit(user).errors
    twin.wait_for(lambda: "has forgotten you" in json.dumps(twin.dms(user)), message="done")
