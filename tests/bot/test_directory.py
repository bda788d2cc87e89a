"""The directory read into members: everyone Slack lists, at Tier 2's pace, never bots,
Slackbot or deactivated accounts."""

from sqlmodel import select

from bot.config import Settings
from bot.members import (
    first_contact,
    forgotten,
    forgotten_key,
    refresh_profile,
    suppress,
    sync_directory,
)
from bot.slack import WebClientPort, make_web_client
from bot.workspaces import ensure_workspace
from slacktwin import SlackTwin
from storage import Database, Member, Workspace
from tests.support import ADMIN, BOT_TOKEN, LEAD, MEMBER, OTHER, TEAM


def test_everyone_slack_lists_becomes_a_member_page_by_page(
    twin: SlackTwin, database: Database, settings: Settings
) -> None:
    for n in range(396):
        twin.add_user(f"U1DIR{n:04d}", name=f"p{n}", real_name=f"Person {n}")
    twin.add_user("U1DIRBOT1", name="rss", is_bot=True)
    twin.add_user("U1DIRGONE", name="gone", deleted=True)
    with database.session() as session:
        ensure_workspace(session, TEAM)
        session.add(Member(team_id=TEAM, slack_user_id=OTHER, real_name="old"))
    pauses: list[float] = []
    port = WebClientPort(make_web_client(BOT_TOKEN, twin.api_url))
    twin.reset_calls()

    assert sync_directory(database, TEAM, port, settings, sleep=pauses.append) == 400

    pages = twin.calls_to("users.list")
    assert len(pages) == 3 and pauses == [3.0, 3.0]  # Tier 2: ~20 a minute
    assert not twin.calls_to("users.info")
    with database.session() as session:
        people = {m.slack_user_id: m for m in session.exec(select(Member))}
        workspace = session.get(Workspace, TEAM)
    assert {LEAD, MEMBER, OTHER, ADMIN} <= people.keys() and len(people) == 400
    assert people[OTHER].real_name == "Olive Other" and people[ADMIN].is_slack_admin
    assert not {"U1DIRBOT1", "U1DIRGONE", "USLACKBOT", twin.bot_user_id} & people.keys()
    assert workspace is not None and workspace.directory_synced_at is not None

    twin.update_user(MEMBER, deleted=True)  # deactivated since: kept, out of audiences
    sync_directory(database, TEAM, port, settings, sleep=pauses.append)
    with database.session() as session:
        member = session.exec(select(Member).where(Member.slack_user_id == MEMBER)).one()
    assert member.deactivated


def test_a_profile_already_fresh_is_not_asked_for_again(
    twin: SlackTwin, database: Database, settings: Settings
) -> None:
    """Two requests from a stranger can both ask for their profile; Slack is asked once."""
    port = WebClientPort(make_web_client(BOT_TOKEN, twin.api_url))
    with database.session() as session:
        first_contact(session, TEAM, MEMBER, "max", settings=settings)
    twin.reset_calls()
    for _ in range(2):
        refresh_profile(database, TEAM, MEMBER, port)

    assert len(twin.calls_to("users.info")) == 1
    with database.session() as session:
        member = session.exec(select(Member).where(Member.slack_user_id == MEMBER)).one()
    assert member.real_name == "Max Member"


def test_a_forgotten_person_is_skipped_until_they_use_copbot_themselves(
    twin: SlackTwin, database: Database, settings: Settings
) -> None:
    port = WebClientPort(make_web_client(BOT_TOKEN, twin.api_url))
    with database.session() as session:
        assert suppress(session, settings, TEAM, MEMBER)
        assert suppress(session, settings, TEAM, MEMBER)  # twice is once
    sync_directory(database, TEAM, port, settings, sleep=lambda _: None)
    with database.session() as session:
        people = set(session.exec(select(Member.slack_user_id)))
        assert MEMBER not in people and {LEAD, OTHER, ADMIN} <= people
        # the list holds a keyed hash only: another secret finds nobody
        other = settings.model_copy(update={"slack_signing_secret": "another"})
        assert forgotten(session, other, TEAM, [MEMBER]) == set()
        assert forgotten(session, settings, "T0ELSEWHERE", [MEMBER]) == set()
        assert first_contact(session, TEAM, MEMBER, "max", settings=settings, deliberate=False) == (
            None,
            False,
        )
        member, created = first_contact(session, TEAM, MEMBER, "max", settings=settings)
        assert created and member is not None and member.display_name == "max"
        assert forgotten(session, settings, TEAM, [MEMBER]) == set()


def test_without_a_deployment_secret_nobody_can_be_listed(
    database: Database, settings: Settings
) -> None:
    bare = settings.model_copy(update={"slack_signing_secret": None, "slack_app_token": None})
    assert forgotten_key(bare, TEAM, MEMBER) is None
    with database.session() as session:
        assert not suppress(session, bare, TEAM, MEMBER)
        assert forgotten(session, bare, TEAM, [MEMBER]) == set()
