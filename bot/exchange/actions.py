"""What people do with exchanges, one use case per listener call.

Each use case owns its unit of work (``with db.session()``), takes plain values (the
Database, the Slack port, the Actor, typed answers) and reaches Slack only once its rows
are committed: by ``after_commit`` or after the session has closed (rules 2 and 3 of
docs/architecture.md). The rules themselves are in ``rules`` (programmes, sign-ups),
``rounds``, ``followup`` and ``progress``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from functools import partial
from zoneinfo import ZoneInfo

from sqlmodel import Session

from bot import members, workspaces
from bot.config import Settings
from bot.errors import UserError
from bot.exchange import followup, progress, rounds, rules, stats
from bot.platform.effects import after_commit
from bot.platform.rendering import render
from bot.roles import Actor
from bot.slack import SlackPort
from storage import (
    Database,
    ExchangeInterest,
    ExchangeProgramme,
    ExchangeRound,
    Member,
    Organisation,
    utcnow,
)

# A programme as a person names it: its id (a button's value), or the name typed after
# /exchange ("" for the only one open for sign-up).
Which = int | str


@dataclass(frozen=True)
class ProgrammeAnswers:
    """The new-programme form as submitted (checked by ``rules.validate_programme``)."""

    name: str | None
    format: str | None
    group_size: str | None
    differ_by: list[str] | None
    cooldown_months: str | None
    deadline: date | None
    recurring: bool
    mentor_capacity: str | None


@dataclass(frozen=True)
class SignupAnswers:
    """The sign-up form as submitted (checked by ``rules.validate_interest``)."""

    staff_group: str | None
    organisation: str | None
    locality: str | None
    professional: list[str] | None
    personal: list[str] | None
    other_interests: str | None
    offers: str | None
    wants: str | None
    career_stage: str | None
    availability: list[str] | None
    mode: str | None
    role: str | None
    do_not_pair: list[str] | None
    paused: bool


@dataclass(frozen=True)
class FeedbackAnswers:
    rating: str | None
    learned: str | None
    recommend: str | None


@dataclass(frozen=True)
class SignupForm:
    """What the sign-up form is drawn from: the programme, the member's profile and their
    earlier sign-up (rows read in the use case's session, not to be written)."""

    programme: ExchangeProgramme
    member: Member | None
    organisation: str
    organisations: list[str]
    previous: ExchangeInterest | None
    mode: str | None


@dataclass(frozen=True)
class MyExchanges:
    matches: list[tuple[str, list[str], str]]  # (programme, the others, status)
    open_now: list[ExchangeProgramme]


@dataclass(frozen=True)
class SignUp:
    programme: str
    created: bool
    paused: bool


def _programme(session: Session, actor: Actor, which: Which) -> ExchangeProgramme:
    if isinstance(which, str):
        return rules.choose_programme(session, actor.team_id, which)
    programme = session.get(ExchangeProgramme, which)
    if programme is None or programme.team_id != actor.team_id:
        raise UserError("That programme no longer exists.")
    return programme


def _today(session: Session, settings: Settings, team_id: str) -> date:
    zone = workspaces.community_settings(session, team_id, settings).timezone
    return utcnow().astimezone(ZoneInfo(zone)).date()


# ---------------------------------------------------------------------------- /exchange


def my_exchanges(db: Database, actor: Actor) -> MyExchanges:
    with db.session() as session:
        return MyExchanges(
            rounds.matches_of(session, actor.team_id, actor.user_id),
            rules.open_for_signup(session, actor.team_id),
        )


def check_join(db: Database, actor: Actor, name: str) -> None:
    """Refuse a join before the form opens: no such programme, or sign-ups closed."""
    with db.session() as session:
        rules.check_open(_programme(session, actor, name), utcnow())


def leave(db: Database, actor: Actor, name: str) -> str:
    """Withdraw the actor's sign-up; returns the programme's name."""
    with db.session() as session:
        programme = _programme(session, actor, name)
        rules.leave(session, actor.team_id, actor.user_id, programme)
        return programme.name


def programme_name(db: Database, actor: Actor, name: str) -> str:
    """The programme called ``name`` (refused if there is none), as it is stored."""
    with db.session() as session:
        return rules.by_name(session, actor.team_id, name).name


def figures(db: Database, actor: Actor, name: str) -> stats.Figures:
    """A lead's figures for one programme, or for all of them when ``name`` is empty."""
    with db.session() as session:
        programme_id = rules.by_name(session, actor.team_id, name).id if name else None
        return stats.figures(session, actor.team_id, programme_id)


# --------------------------------------------------------------------------- programmes


def community_today(db: Database, settings: Settings, actor: Actor) -> date:
    """Today in the community's time zone (the new-programme form's first deadline)."""
    with db.session() as session:
        return _today(session, settings, actor.team_id)


def create_programme(
    db: Database, settings: Settings, actor: Actor, answers: ProgrammeAnswers
) -> int:
    """Sign-ups close at the end of the chosen day in the community's time zone."""
    with db.session() as session:
        community = workspaces.community_settings(session, actor.team_id, settings)
        fields = rules.validate_programme(
            **asdict(answers),
            timezone=community.timezone,
            today=utcnow().astimezone(ZoneInfo(community.timezone)).date(),
        )
        return rules.create_programme(session, actor, fields).id or 0


def announce_programme(
    db: Database, slack: SlackPort, settings: Settings, actor: Actor, programme_id: int
) -> None:
    """Tell the lead who created it how people join, and when sign-ups close."""
    with db.session() as session:
        programme = _programme(session, actor, programme_id)
        zone = workspaces.community_settings(session, programme.team_id, settings).timezone
        name, closes = programme.name, programme.signup_deadline.astimezone(ZoneInfo(zone))
    slack.post_message(
        actor.user_id,
        f"The {name} exchange is ready. Invite people to join with "
        f"`/exchange join {name}` (or from App Home); sign-ups close at the end of "
        f"{closes:%A %-d %B}, and then I send you the proposed matches to review.",
    )


# ------------------------------------------------------------------------------ sign-up


def signup_form(db: Database, actor: Actor, which: Which, mode: str | None = None) -> SignupForm:
    """The sign-up form for the actor, prefilled from their profile or earlier sign-up."""
    with db.session() as session:
        programme = _programme(session, actor, which)
        member = members.find(session, actor.team_id, actor.user_id)
        organisation = (
            session.get(Organisation, member.organisation_id)
            if member and member.organisation_id
            else None
        )
        return SignupForm(
            programme,
            member,
            organisation.name if organisation else "",
            [o.name for o in members.organisations(session, actor.team_id)],
            rules.interest(session, programme.id or 0, actor.user_id),
            mode,
        )


def sign_up(db: Database, actor: Actor, programme_id: int, answers: SignupAnswers) -> SignUp:
    """Save (or edit) the actor's sign-up."""
    with db.session() as session:
        programme = _programme(session, actor, programme_id)
        fields = rules.validate_interest(actor.user_id, **asdict(answers))
        _, created = rules.join(session, actor.team_id, actor.user_id, programme, fields)
        return SignUp(programme.name, created, fields.paused)


def confirm_sign_up(slack: SlackPort, actor: Actor, done: SignUp) -> None:
    if done.paused:
        text = f"Saved. You're paused in {done.programme}: I won't match you until you unpause."
    elif done.created:
        text = (
            f"You're signed up to {done.programme}. I'll introduce you once sign-ups close "
            "and a lead has approved the matches. Edit or withdraw any time before then."
        )
    else:
        text = f"Your {done.programme} sign-up is updated."
    slack.post_message(actor.user_id, text)


# -------------------------------------------------------------------------- lead review


def run_matching(db: Database, slack: SlackPort, actor: Actor, which: Which) -> None:
    """Propose the programme's current round; the lead's review is sent once it is stored."""
    with db.session() as session:
        round_ = rounds.run_matching(session, actor, _programme(session, actor, which))
        after_commit(session, partial(send_review, db, slack, round_.id or 0))


def send_review(db: Database, slack: SlackPort, round_id: int) -> None:
    """Post the proposal to the lead, or redraw it in place."""
    followup.send_review(db.session, slack, round_id)


def approve(db: Database, actor: Actor, round_id: int) -> int:
    with db.session() as session:
        return rounds.approve(session, actor, round_id).id or 0


def introduce(db: Database, slack: SlackPort, round_id: int) -> None:
    """After an approval: the review says so, and each match is introduced."""
    followup.send_review(db.session, slack, round_id)
    followup.introduce(db.session, slack, round_id)


def swap(db: Database, actor: Actor, round_id: int, first: str, second: str) -> int:
    with db.session() as session:
        return rounds.swap(session, actor, round_id, first, second).id or 0


def weights(db: Database, actor: Actor, round_id: int) -> dict[str, float]:
    """The weights a proposal was matched with, for the re-run form."""
    with db.session() as session:
        round_ = session.get(ExchangeRound, round_id)
        programme = session.get(ExchangeProgramme, round_.programme_id) if round_ else None
        if round_ is None or programme is None or programme.team_id != actor.team_id:
            raise UserError("That proposal no longer exists.")
        found = rounds.weights_of(round_.weights)
    return {name: getattr(found, name) for name in rounds.WEIGHT_NAMES}


def rerun(
    db: Database, slack: SlackPort, actor: Actor, round_id: int, chosen: dict[str, float]
) -> None:
    """Match the proposal again with other weights; the review is redrawn once stored."""
    with db.session() as session:
        round_ = rounds.rerun(session, actor, round_id, chosen)
        after_commit(session, partial(send_review, db, slack, round_.id or 0))


# ------------------------------------------------------------------ the match's group DM


def set_status(db: Database, settings: Settings, actor: Actor, match_id: int, status: str) -> None:
    with db.session() as session:
        progress.set_status(session, settings, actor.team_id, actor.user_id, match_id, status)


def redraw_match(
    db: Database, slack: SlackPort, actor: Actor, match_id: int, channel: str, ts: str
) -> None:
    """Redraw the introduction the actor pressed a button on, with the match's status."""
    with db.session() as session:
        view = progress.match_view(session, actor.team_id, actor.user_id, match_id)
    intro = render(view.introduction)
    slack.update_message(channel, ts, intro.text, blocks=intro.blocks)


def feedback_programme(db: Database, actor: Actor, match_id: int) -> str:
    """The programme a match belongs to, for the actor's feedback form."""
    with db.session() as session:
        return progress.match_view(session, actor.team_id, actor.user_id, match_id).programme.name


def record_feedback(db: Database, actor: Actor, match_id: int, answers: FeedbackAnswers) -> None:
    with db.session() as session:
        progress.record_feedback(session, actor.team_id, actor.user_id, match_id, **asdict(answers))


def thank_for_feedback(slack: SlackPort, actor: Actor) -> None:
    slack.post_message(actor.user_id, "Thank you for your feedback.")
