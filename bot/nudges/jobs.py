"""The nudges feature's scheduled jobs: leads hear about ideas waiting for review."""

from __future__ import annotations

from bot import workspaces
from bot.nudges import kinds
from bot.platform.scheduling import job, job_context, scheduled_time, weekly
from storage import utcnow


# The ID predates this module: the job keeps it, so stored schedules carry on.
@job(
    "ideas:awaiting-review",
    weekly("mon", "09:00"),
    title="Ideas waiting for review (to leads)",
)
def ideas_awaiting_review() -> None:
    """Monday morning: each lead hears which ideas have waited over 14 days."""
    ctx = job_context()
    when = scheduled_time() or utcnow()
    with ctx.database.session() as session:
        for team_id in workspaces.installed_teams(session):
            kinds.ideas_awaiting_review(session, ctx.settings, team_id, when)
