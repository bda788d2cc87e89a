"""The directory read into members: everyone Slack lists, at Tier 2's pace, never bots,
Slackbot or deactivated accounts."""

from sqlmodel import select

from bot.members import first_contact, refresh_profile, sync_directory
from bot.slack import WebClientPort, make_web_client
from bot.workspaces import ensure_workspace
from slacktwin import SlackTwin
from storage import Database, Member, Workspace
from tests.support import ADMIN, BOT_TOKEN, LEAD, MEMBER, OTHER, TEAM


def test_everyone_slack_lists_becomes_a_member_page_by_page(
    twin: SlackTwin, database: Database
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

    assert sync_directory(database, TEAM, port, sleep=pauses.append) == 400

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
    sync_directory(database, TEAM, port, sleep=pauses.append)
    with database.session() as session:
        member = session.exec(select(Member).where(Member.slack_user_id == MEMBER)).one()
    assert member.deactivated


def test_a_profile_already_fresh_is_not_asked_for_again(
    twin: SlackTwin, database: Database
) -> None:
    """Two requests from a stranger can both ask for their profile; Slack is asked once."""
    port = WebClientPort(make_web_client(BOT_TOKEN, twin.api_url))
    with database.session() as session:
        first_contact(session, TEAM, MEMBER, "max")
    twin.reset_calls()
    for _ in range(2):
        with database.session() as session:
            refresh_profile(session, TEAM, MEMBER, port)

    assert len(twin.calls_to("users.info")) == 1
    with database.session() as session:
        member = session.exec(select(Member).where(Member.slack_user_id == MEMBER)).one()
    assert member.real_name == "Max Member"
