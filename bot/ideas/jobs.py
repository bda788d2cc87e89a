"""The ideas feature's scheduled jobs: challenge steps, and idea cards a crash cut short."""

from __future__ import annotations

import logging

from bot import workspaces
from bot.ideas import actions, challenges, publish
from bot.platform.scheduling import every, job, job_context
from storage import utcnow

log = logging.getLogger("copbot.jobs")


@job("ideas:challenge-steps", every(minutes=5), title="Challenges: announce, remind, close")
def challenge_steps() -> None:
    """Announce, remind and close every challenge whose time has come; each in its own
    transaction, so one failing challenge doesn't hold up the others."""
    ctx, now = job_context(), utcnow()
    held = workspaces.held_teams(ctx.database)
    with ctx.database.session() as session:
        if not challenges.anything_due(session, now):
            return
        due = challenges.due(session, now)
        found = sorted(
            {
                (challenge.team_id, challenge.id)
                for group in due.values()
                for challenge in group
                if challenge.team_id not in held and challenge.id is not None
            }
        )
    for team_id, challenge_id in found:
        try:
            actions.advance_challenge(
                ctx.database, ctx.slack(), ctx.settings, team_id, challenge_id, now
            )
        except Exception:
            log.exception(
                "challenge %s: its next step failed; it is tried again next run", challenge_id
            )


@job("ideas:unposted-cards", every(minutes=5), title="Ideas: link cards a crash cut short")
def unposted_cards() -> None:
    """Idea cards a crash cut short: linked (or posted), redrawn, their authors thanked."""
    ctx = job_context()
    if workspaces.nothing_installed(ctx.database):
        return
    mended = publish.recover_unposted_cards(
        ctx.database, ctx.slack(), held=workspaces.held_teams(ctx.database)
    )
    if mended:
        log.info("unposted idea cards: mended %s", mended)
