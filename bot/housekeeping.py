"""Scheduled jobs of no one feature: the member directory read from Slack each night, and
retention's daily deletions."""

from __future__ import annotations

import logging

from bot import members, workspaces
from bot import retention as retention_rules
from bot.platform.scheduling import daily, job, job_context

log = logging.getLogger("copbot.jobs")


@job("members:profile-sync", daily("03:00"), title="Profiles and time zones from Slack")
def profile_sync() -> None:
    """Nightly: the directory from users.list (new people added, profiles, time zones and
    deactivations refreshed), a page at Tier 2's pace, so a fan-out to thousands never
    asks Slack about each member at send time and every audience is the whole workspace.
    Uninstalled workspaces are skipped."""
    ctx = job_context()
    with ctx.database.session() as session:
        teams = workspaces.installed_teams(session)
    for team_id in teams:
        try:
            count = members.sync_directory(ctx.database, team_id, ctx.slack(), ctx.settings)
        except Exception:
            log.exception("profile sync of %s failed; the next run tries again", team_id)
            continue
        log.info("profile sync: %s people in the directory of %s", count, team_id)


@job(
    "copbot:retention",
    daily("02:30"),
    title="Retention: delete messages, audit entries and outbox rows past their limits",
)
def retention() -> None:
    """Delete captured messages, audit entries and sent outbox rows past their limits."""
    ctx = job_context()
    with ctx.database.session() as session:
        deleted = retention_rules.enforce(session)
    log.info("retention: deleted %s", deleted)
