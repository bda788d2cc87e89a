"""Profiles refresh in pages from users.list: no per-member Slack call at send time."""

from sqlmodel import select

from bot.members import sync_profiles
from bot.slack import WebClientPort, make_web_client
from bot.workspaces import ensure_workspace
from slacktwin import SlackTwin
from storage import Database, Member
from tests.support import BOT_TOKEN, TEAM


def test_known_members_refresh_from_users_list_pages(twin: SlackTwin, database: Database) -> None:
    for n in range(450):
        twin.add_user(f"U1SYNC{n:04d}", name=f"p{n}", real_name=f"Person {n}", tz="Europe/Dublin")
    with database.session() as session:
        ensure_workspace(session, TEAM)
        for n in range(0, 450, 3):  # copbot has met a third of them
            session.add(Member(team_id=TEAM, slack_user_id=f"U1SYNC{n:04d}", real_name="old"))
    twin.reset_calls()
    port = WebClientPort(make_web_client(BOT_TOKEN, twin.api_url))
    assert sync_profiles(database, TEAM, port) == 150
    pages = twin.calls_to("users.list")
    assert len(pages) == 3 and all(int(call.args["limit"]) == 200 for call in pages)
    assert not twin.calls_to("users.info")
    with database.session() as session:
        people = list(session.exec(select(Member)))
    assert len(people) == 150  # nobody new: members are created on first contact
    assert {person.tz for person in people} == {"Europe/Dublin"}
    assert all(person.real_name.startswith("Person ") for person in people)
