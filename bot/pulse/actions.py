"""Pulse use cases: what a listener asks for, one call each.

Each owns its unit of work (``with database.session()``), takes what it uses explicitly
(the Database, the Slack port, the Actor, plain values) and reaches Slack only outside the
transaction: reads before it, effects queued with ``after_commit``. The rules they apply
are in ``design``, ``runs``, ``answers`` (sealed ballots), ``closing`` and ``results``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import select

from bot import members
from bot.config import Settings
from bot.errors import UserError
from bot.platform.effects import after_commit
from bot.platform.rendering import render
from bot.platform.scheduling import Scheduling
from bot.pulse import design, jobs, results, runs
from bot.pulse.answers import Receipt, record_answers
from bot.pulse.messages import PulseDM
from bot.pulse.questions import Answer
from bot.roles import Actor
from bot.slack import SlackPort
from bot.text import escape
from bot.workspaces import community_settings
from storage import Database, Organisation, Pulse, PulseRun, utcnow


@dataclass(frozen=True)
class Design:
    """The designer's answers, read from the form (``handlers/pulse/views.py``)."""

    name: str
    audience_kind: str
    audience_value: str | None
    questions: list[dict[str, Any]]
    schedule: str
    weekday: int | None
    local_time: str | None
    open_days: int
    anonymous: bool
    results_channel: str | None
    comment_min: int | None


# ------------------------------------------------------------------------------ leads


def list_pulses(database: Database, actor: Actor) -> list[Pulse]:
    """``/pulse list``: the workspace's pulses."""
    with database.session() as session:
        return list(session.exec(select(Pulse).where(Pulse.team_id == actor.team_id)))


def latest_results(
    database: Database, settings: Settings, actor: Actor, name: str
) -> results.RunResults:
    """``/pulse results <name>``: the latest closed run's results."""
    with database.session() as session:
        return results.latest_results(session, settings, actor.team_id, name)


def pause(database: Database, actor: Actor, name: str) -> Pulse:
    """``/pulse pause <name>``: nothing more is sent."""
    with database.session() as session:
        return design.set_paused(session, actor, name)


def find(database: Database, actor: Actor, name: str) -> Pulse:
    """The pulse called ``name``; an unknown name is refused (answered at the ack)."""
    with database.session() as session:
        return design.by_name(session, actor.team_id, name)


def organisations(database: Database, actor: Actor) -> list[Organisation]:
    """What the designer offers as an organisation audience."""
    with database.session() as session:
        return members.organisations(session, actor.team_id)


def create_pulse(database: Database, settings: Settings, actor: Actor, spec: Design) -> Pulse:
    """The designer submitted: the pulse, checked whole before anything is written."""
    with database.session() as session:
        return design.create_pulse(
            session,
            actor,
            settings,
            name=spec.name,
            audience_kind=spec.audience_kind,
            audience_value=spec.audience_value,
            questions=spec.questions,
            schedule=spec.schedule,
            weekday=spec.weekday,
            local_time=spec.local_time,
            open_days=spec.open_days,
            anonymous=spec.anonymous,
            results_channel=spec.results_channel,
            comment_min=spec.comment_min,
        )


def tell(slack: SlackPort, actor: Actor, note: str) -> None:
    """A plain DM to the person who acted (what their action set going)."""
    slack.post_message(actor.user_id, escape(note))


def schedule_weekly(scheduling: Scheduling, slack: SlackPort, actor: Actor, pulse: Pulse) -> None:
    """A weekly pulse's run opens every week on its day; the lead hears so."""
    jobs.schedule_open(scheduling, pulse)
    tell(slack, actor, f"The {pulse.name} pulse will go out every week.")


def open_today(
    database: Database, slack: SlackPort, settings: Settings, actor: Actor, pulse_id: int
) -> runs.OpenedRun:
    """A one-off pulse's run opens today (each DM due at the chosen local time); the lead
    hears how many it goes to."""
    with database.session() as session:
        pulse = session.get_one(Pulse, pulse_id)
    people = design.read_audience(database, slack, pulse, settings)
    with database.session() as session:
        pulse = session.get_one(Pulse, pulse_id)
        today = utcnow().astimezone(ZoneInfo(pulse.timezone)).date()
        opened = runs.open_run(session, settings, pulse, on_date=today, channel_members=people)
        note = f"The {pulse.name} pulse goes to {opened.invited} people today."
        after_commit(session, lambda: tell(slack, actor, note))
    return opened


def send_now(
    database: Database, slack: SlackPort, settings: Settings, actor: Actor, name: str
) -> tuple[Pulse, runs.OpenedRun]:
    """``/pulse send-now <name>``: the audience read from Slack first, then the run opened
    with every DM due now."""
    pulse = find(database, actor, name)
    people = design.read_audience(database, slack, pulse, settings)
    with database.session() as session:
        opened = runs.send_now(session, actor, settings, name, channel_members=people)
    return pulse, opened


def my_pulses(database: Database, actor: Actor) -> list[tuple[str, bool]]:
    """``/pulse`` for a member: their open pulses and whether they answered."""
    with database.session() as session:
        return design.open_for(session, actor.user_id)


# ---------------------------------------------------------------------------- members


def answer(
    database: Database,
    settings: Settings,
    actor: Actor,
    *,
    run_id: int,
    token: str | None,
    answers: Sequence[Answer],
    replace_all: bool = False,
) -> Receipt:
    """A member's answers sealed into their ballot (``bot.pulse.answers``)."""
    with database.session() as session:
        return record_answers(
            session,
            settings,
            run_id=run_id,
            user_id=actor.user_id,
            token=token,
            answers=answers,
            replace_all=replace_all,
        )


def answered_dm(database: Database, settings: Settings, receipt: Receipt) -> PulseDM:
    """The member's pulse DM again, their choices marked and their token in its buttons."""
    with database.session() as session:
        run = session.get(PulseRun, receipt.run_id)
        pulse = session.get(Pulse, run.pulse_id) if run else None
        assert run is not None and pulse is not None
        minimum = runs.minimum_for(session, settings, run, pulse.team_id)
    return PulseDM(
        run_id=run.id or 0,
        pulse_name=pulse.name,
        questions=run.questions,
        anonymous=run.anonymous,
        anonymity_min=minimum,
        closes_at=run.closes_at,
        token=receipt.token,
        chosen=receipt.chosen,
    )


def redraw_dm(
    database: Database,
    slack: SlackPort,
    settings: Settings,
    receipt: Receipt,
    channel: str,
    ts: str,
    text: str,
) -> None:
    """After the full form: the member's DM at ``channel``/``ts`` redrawn as answered."""
    shown = render(answered_dm(database, settings, receipt))
    slack.update_message(channel, ts, text, blocks=shown.blocks)


@dataclass(frozen=True)
class OpenRun:
    """A run a member may still answer: what the full answer form shows."""

    run_id: int
    pulse_name: str
    questions: list[dict[str, Any]]


def run_to_answer(database: Database, actor: Actor, run_id: int) -> OpenRun:
    """The run behind an "Answer" button, if it is this workspace's and still open."""
    with database.session() as session:
        run, pulse = runs.run_of_team(session, actor.team_id, run_id)
        if run.status != "open":
            raise UserError("This pulse has closed. Thank you.")
        return OpenRun(run.id or 0, pulse.name, run.questions)


def set_opt_out(database: Database, actor: Actor, pulse_id: int, out: bool) -> None:
    """A member stops (or resumes) receiving one pulse, from App Home."""
    with database.session() as session:
        design.set_opt_out(session, actor.team_id, actor.user_id, pulse_id, out)


# ---------------------------------------------------------------------------- results


def run_of_team(database: Database, actor: Actor, run_id: int) -> OpenRun:
    """A run of this workspace (any status), named for the lead's close-the-loop form."""
    with database.session() as session:
        run, pulse = runs.run_of_team(session, actor.team_id, run_id)
        return OpenRun(run.id or 0, pulse.name, run.questions)


def theme_challenge(
    database: Database, settings: Settings, actor: Actor, value: str
) -> tuple[results.ChallengeDraft, date]:
    """A challenge drafted from a theme of a run's results (found again, never trusted),
    and today in the community's time zone (the form's first possible start)."""
    with database.session() as session:
        draft = results.challenge_draft(session, settings, actor, value)
        zone = community_settings(session, actor.team_id, settings).timezone
    return draft, utcnow().astimezone(ZoneInfo(zone)).date()


def close_the_loop(database: Database, actor: Actor, run_id: int, response: str | None) -> int:
    """The lead's answer to the results, DM'd to everyone who answered."""
    with database.session() as session:
        return results.close_the_loop(session, actor, run_id, response)
