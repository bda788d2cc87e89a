"""The privacy feature's scheduled job: "forget me" requests a crash cut short."""

from __future__ import annotations

import logging

from bot import rights
from bot.platform.scheduling import every, job, job_context

log = logging.getLogger("copbot.jobs")


@job(
    "privacy:unfinished-forgets",
    every(minutes=5),
    title="Forget me: finish requests a crash cut short",
)
def unfinished_forgets() -> None:
    """Forget me requests a crash cut short after the confirmation: carried out now."""
    ctx = job_context()
    finished = rights.finish_forgets(ctx.database, ctx.slack(), ctx.settings)
    if finished:
        log.info("forget me: finished %s cut short", finished)
