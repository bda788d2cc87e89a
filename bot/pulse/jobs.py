"""The pulse feature's scheduled jobs: a weekly pulse's run opened on its day, and runs
reminded, closed and reported."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot import workspaces
from bot.platform.scheduling import (
    Scheduling,
    every,
    job,
    job_context,
    scheduled_time,
    weekly_trigger,
)
from bot.pulse import results as pulse_results
from bot.pulse.chart import trend_png
from bot.pulse.closing import close_run
from bot.pulse.design import read_audience
from bot.pulse.runs import open_run, runs_due, send_reminders
from storage import Pulse, PulseRun, utcnow

# A weekly pulse's run opens just after midnight in its zone: each member's DM is then due
# at the chosen local time in their own zone, which for most of them is later that day.
OPENS_AT = "00:05"


@job("pulse:open")
def pulse_open(pulse_id: int) -> None:
    """A weekly pulse's day has come: open its run; each member's DM is due at the local
    time in their own time zone, so this runs early in the day."""
    ctx = job_context()
    when = scheduled_time() or utcnow()
    with ctx.database.session() as session:
        pulse = session.get(Pulse, pulse_id)
        if pulse is None or pulse.paused or pulse.team_id in workspaces.uninstalled_teams(session):
            return
    people = read_audience(ctx.database, ctx.slack(), pulse, ctx.settings)
    with ctx.database.session() as session:
        pulse = session.get(Pulse, pulse_id)
        if pulse is None:
            return
        local_day = when.astimezone(ZoneInfo(pulse.timezone)).date()
        open_run(session, ctx.settings, pulse, now=when, on_date=local_day, channel_members=people)


def schedule_open(scheduling: Scheduling, pulse: Pulse) -> None:
    """Open ``pulse``'s run every week on its weekday (replacing an earlier schedule)."""
    scheduling.ensure_job(
        f"pulse:{pulse.id}:open",
        pulse_open,
        weekly_trigger(pulse.weekday or 0, OPENS_AT, pulse.timezone),
        args=[pulse.id],
        name=f"Pulse {pulse.name}: open this week's run",
    )


@job("pulse:steps", every(minutes=5), title="Pulses: remind, close, send results")
def pulse_steps() -> None:
    """Remind non-responders once, close runs that are over, and send their results."""
    ctx, now = job_context(), utcnow()
    if workspaces.nothing_installed(ctx.database):
        return
    with ctx.database.session() as session:
        to_remind, to_close = runs_due(session, now)
    for run_id in to_remind:
        with ctx.database.session() as session:
            send_reminders(session, ctx.settings, run_id, now=now)
    for run_id in to_close:
        with ctx.database.session() as session:
            close_run(session, ctx.settings, run_id, now=now)
        with ctx.database.session() as session:
            pulse_results.announce(session, ctx.settings, run_id)
        _send_trend_chart(run_id)


def _send_trend_chart(run_id: int) -> None:
    """The lead's trend chart, uploaded once the results are queued (a file, so not
    through the outbox); skipped when no run has figures safe to show."""
    ctx = job_context()
    with ctx.database.session() as session:
        run = session.get(PulseRun, run_id)
        pulse = session.get(Pulse, run.pulse_id) if run else None
        if run is None or pulse is None or not pulse.created_by:
            return
        points = pulse_results.trend(session, ctx.settings, pulse.id or 0)
        png = trend_png(pulse.name, run.questions, points)
    if png is not None and not workspaces.INSTALLS.uninstalled(pulse.team_id):
        ctx.slack().upload_file(
            pulse.created_by,
            f"pulse-{pulse.name}-trend.png",
            png,
            title=f"Pulse {pulse.name}: trend",
            comment="How the averages have moved over the last runs.",
        )
