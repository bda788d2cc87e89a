"""The exchange feature's scheduled job: rounds and matches moved on."""

from __future__ import annotations

from bot import workspaces
from bot.exchange import followup
from bot.platform.scheduling import every, job, job_context
from storage import utcnow


@job(
    "exchange:steps",
    every(minutes=15),
    title="Exchanges: propose, introduce, nudge, report stalled",
)
def exchange_steps() -> None:
    """Propose rounds whose sign-ups have closed, introduce approved matches, nudge
    matches with no date, and tell leads about stalled ones."""
    ctx = job_context()
    if workspaces.nothing_installed(ctx.database):
        return
    followup.steps(ctx.database.session, ctx.slack(), ctx.settings, utcnow())
