"""A challenge's scheduled steps, run by the scheduler's job: announce at opening, remind a
day before closing (inviting the target group privately), close with a summary and CSV."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlmodel import select

from bot.config import Settings
from bot.ideas import challenges
from bot.ideas.jobs import challenge_steps
from bot.members import actor_for
from bot.platform import scheduling
from bot.slack import WebClientPort, make_web_client
from bot.workspaces import ensure_workspace
from slacktwin import SlackTwin
from storage import Challenge, Database, Member, OutboxMessage, utcnow
from tests.support import BOT_TOKEN, CHANNEL, LEAD, MEMBER, OTHER, TEAM, Copbot, make_settings


@pytest.fixture
def settings(twin: SlackTwin, database_url: str) -> Settings:
    return make_settings(twin, database_url, copbot_ideas_channel=CHANNEL)


def channel_posts(twin: SlackTwin) -> str:
    return json.dumps(twin.messages(CHANNEL))


def test_the_scheduled_job_takes_each_step_once(
    copbot: Copbot, twin: SlackTwin, database: Database, settings: Settings
) -> None:
    scheduling.configure(
        database, settings, lambda: WebClientPort(make_web_client(BOT_TOKEN, twin.api_url))
    )
    now = utcnow()
    with database.session() as session:
        ensure_workspace(session, TEAM)
        lead = Member(team_id=TEAM, slack_user_id=LEAD, real_name="Lena Lead", is_lead=True)
        session.add(lead)
        session.add(Member(team_id=TEAM, slack_user_id=MEMBER, staff_group="Pharmacy"))
        session.add(Member(team_id=TEAM, slack_user_id=OTHER, staff_group="Medical"))
        session.flush()
        fields = challenges.ChallengeFields(
            title="How do we cut medicines waste?",
            description="",
            tags=(),
            channel_id=CHANNEL,
            opens_at=now - timedelta(minutes=1),
            closes_at=now + timedelta(days=5),
            target_groups=("Pharmacy",),
        )
        challenge_id = challenges.create(session, actor_for(lead, settings), fields).id

    challenge_steps()
    challenge_steps()  # a second run finds nothing new to do
    twin.wait_for(lambda: "Challenge: How do we cut medicines waste?" in channel_posts(twin))
    with database.session() as session:
        invited = list(
            session.exec(select(OutboxMessage).where(OutboxMessage.kind == "challenge.opening"))
        )
    assert [row.user_id for row in invited] == [MEMBER]  # the target group only, privately

    with database.session() as session:
        session.get(Challenge, challenge_id).closes_at = now + timedelta(hours=12)
    challenge_steps()
    twin.wait_for(lambda: "Closing soon: How do we cut medicines waste?" in channel_posts(twin))

    with database.session() as session:
        session.get(Challenge, challenge_id).closes_at = now - timedelta(minutes=1)
    challenge_steps()
    challenge_steps()
    twin.wait_for(lambda: "Challenge closed: How do we cut medicines waste?" in channel_posts(twin))
    twin.wait_for(lambda: twin.files, message="the CSV for the lead")
    assert twin.files[-1]["ims"] == [twin.dm_channel(LEAD)]
    posts = [m for m in twin.messages(CHANNEL) if "medicines waste" in json.dumps(m)]
    assert len(posts) == 3  # announced, reminded and summarised once each
    assert len(twin.files) == 1
