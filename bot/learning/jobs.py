"""The learning feature's scheduled jobs: weekly digest previews, and digests cut short."""

from __future__ import annotations

from bot import workspaces
from bot.learning import digest
from bot.learning.summariser import make_summariser
from bot.platform.scheduling import every, job, job_context, scheduled_time, weekly
from storage import utcnow


@job(
    "learning:weekly-digests",
    weekly("mon", "08:00"),
    title="Weekly learning digest previews (to leads)",
)
def weekly_digests() -> None:
    """Each lead's private preview of the week's learning digest."""
    ctx = job_context()
    if workspaces.nothing_installed(ctx.database):
        return
    digest.weekly(
        ctx.database.session,
        ctx.slack(),
        ctx.settings,
        make_summariser(ctx.settings),
        scheduled_time() or utcnow(),
    )


@job(
    "learning:unfinished-digests",
    every(minutes=1),
    title="Learning digests: finish any cut short",
)
def unfinished_digests() -> None:
    """Finish digests that were asked for but not prepared (a process died, or a try
    failed and is due again)."""
    ctx = job_context()
    if workspaces.nothing_installed(ctx.database):
        return
    digest.resume(ctx.database.session, ctx.slack(), ctx.settings, make_summariser(ctx.settings))
