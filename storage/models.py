"""Tables. Times are aware UTC throughout (``storage.db.utcnow``)."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.db import random_key, utcnow


class Workspace(SQLModel, table=True):
    """One Slack workspace (installation). Unset settings fall back to the environment."""

    team_id: str = Field(primary_key=True, max_length=32)
    name: str = Field(default="", max_length=200)
    ideas_channel: str | None = Field(default=None, max_length=32)
    digest_channel: str | None = Field(default=None, max_length=32)
    hub_channel: str | None = Field(default=None, max_length=32)  # case studies
    # Retention in days; None means the default (bot.retention.DEFAULTS).
    keep_messages_days: int | None = None
    keep_audit_days: int | None = None
    keep_outbox_days: int | None = None
    timezone: str | None = Field(default=None, max_length=64)
    anonymity_min: int | None = None
    installed_at: datetime = Field(default_factory=utcnow)
    # The whole directory (users.list) was last read into Member rows; None: never.
    directory_synced_at: datetime | None = None
    # Slack told us the app was uninstalled or its bot token revoked; None: installed.
    uninstalled_at: datetime | None = None


class Organisation(SQLModel, table=True):
    """An organisation in the community's list; ``org_type`` is one of the field defaults."""

    __table_args__ = (UniqueConstraint("team_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32, index=True)
    name: str = Field(max_length=200)
    org_type: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow)


class Member(SQLModel, table=True):
    """A person in the community, created on first contact from their Slack profile."""

    __table_args__ = (UniqueConstraint("team_id", "slack_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32, index=True)
    slack_user_id: str = Field(max_length=32)
    display_name: str = Field(default="", max_length=200)
    real_name: str = Field(default="", max_length=200)
    tz: str | None = Field(default=None, max_length=64)
    staff_group: str | None = Field(default=None, max_length=100)
    organisation_id: int | None = Field(default=None, foreign_key="organisation.id")
    is_slack_admin: bool = False
    is_lead: bool = False
    # Deactivated in Slack: kept for history, never in an audience.
    deactivated: bool = False
    profile_refreshed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def name(self) -> str:
        return self.display_name or self.real_name or self.slack_user_id


class ForgottenPerson(SQLModel, table=True):
    """Someone who asked copbot to forget them: a keyed hash (HMAC) of (team, user ID)
    under a key derived from the deployment secret, so the list names nobody without it.
    The directory sync and profile events skip them until they use copbot again."""

    __tablename__ = "forgotten_person"

    key: str = Field(primary_key=True, max_length=64)


class ProcessedEvent(SQLModel, table=True):
    """A delivery key (event_id, or channel+ts for message actions) already handled."""

    key: str = Field(primary_key=True, max_length=200)
    team_id: str | None = Field(default=None, max_length=32)
    received_at: datetime = Field(default_factory=utcnow, index=True)


class AuditEntry(SQLModel, table=True):
    """Who did what, when, with the state before and after."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    actor_id: str | None = Field(default=None, max_length=32, index=True)
    action: str = Field(max_length=100)
    target: str = Field(default="", max_length=200)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    at: datetime = Field(default_factory=utcnow, index=True)


class IdeaStatus(StrEnum):
    NEW = "new"
    UNDER_REVIEW = "under_review"
    IN_PROGRESS = "in_progress"
    IMPLEMENTED = "implemented"
    NOT_TAKEN_FORWARD = "not_taken_forward"
    MERGED = "merged"


class Challenge(SQLModel, table=True):
    """A question leads pose to the community, open between two dates."""

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32, index=True)
    title: str = Field(max_length=150)
    description: str = Field(default="", max_length=3000)
    tags: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    target_groups: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    channel_id: str = Field(max_length=32)
    opens_at: datetime
    closes_at: datetime
    created_by: str | None = Field(default=None, max_length=32)
    announced_at: datetime | None = None
    reminder_sent_at: datetime | None = None
    closed_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Idea(SQLModel, table=True):
    """An improvement idea. ``author_id`` is kept even when anonymous, only to send the
    author their status DMs; it is never shown, exported or broken down."""

    __table_args__ = (Index("ix_idea_team_status_created", "team_id", "status", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32)
    title: str = Field(max_length=150)
    description: str = Field(default="", max_length=3000)
    themes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    challenge_id: int | None = Field(default=None, foreign_key="challenge.id", index=True)
    author_id: str | None = Field(default=None, max_length=32, index=True)
    submitted_by: str | None = Field(default=None, max_length=32, index=True)
    is_anonymous: bool = False
    status: str = Field(default=IdeaStatus.NEW, max_length=32)
    rationale: str | None = Field(default=None, max_length=3000)
    owner_id: str | None = Field(default=None, max_length=32)
    next_review: date | None = None
    merged_into_id: int | None = Field(default=None, foreign_key="idea.id")
    supporter_count: int = 0
    channel_id: str | None = Field(default=None, max_length=32)
    card_ts: str | None = Field(default=None, max_length=32)
    permalink: str | None = Field(default=None, max_length=500)
    discussion_ts: str | None = Field(default=None, max_length=32)
    source_permalink: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None


class Support(SQLModel, table=True):
    """One person's support for one idea."""

    __table_args__ = (UniqueConstraint("idea_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id")
    user_id: str = Field(max_length=32, index=True)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class IdeaSubscriber(SQLModel, table=True):
    """Who hears about an idea's progress: its author, submitter and supporters."""

    __tablename__ = "idea_subscriber"
    __table_args__ = (UniqueConstraint("idea_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    idea_id: int = Field(foreign_key="idea.id")
    user_id: str = Field(max_length=32, index=True)


class IdeaTerm(SQLModel, table=True):
    """Inverted index of an idea's words, for search and similar ideas on any database."""

    __tablename__ = "idea_term"
    # Covering (weight included): search and similar ideas read only the index.
    __table_args__ = (Index("ix_idea_term_lookup", "team_id", "term", "idea_id", "weight"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    term: str = Field(max_length=64)
    idea_id: int = Field(foreign_key="idea.id", index=True)
    weight: int = 1


class IdeaDraft(SQLModel, table=True):
    """A submitted idea waiting on the similar-ideas step ("Post mine anyway")."""

    __tablename__ = "idea_draft"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    user_id: str = Field(max_length=32, index=True)
    fields: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    UNDELIVERABLE = "undeliverable"
    CANCELLED = "cancelled"


class OutboxMessage(SQLModel, table=True):
    """A message copbot will send from scheduled or bulk work: written first, sent once.

    ``key`` is the idempotency key (for example member + nudge kind + period); a second
    enqueue with the same key is ignored, and the key travels in the message's metadata
    so a crash between sending and recording can be recovered without a second send.
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("key"),
        Index("ix_outbox_status_due", "status", "due_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    key: str = Field(max_length=200)
    kind: str = Field(max_length=64)
    user_id: str | None = Field(default=None, max_length=32, index=True)
    channel: str = Field(max_length=32)
    text: str = Field(max_length=4000)
    blocks: list[dict[str, Any]] | None = Field(default=None, sa_column=Column(JSON))
    essential: bool = False
    due_at: datetime = Field(default_factory=utcnow)
    status: str = Field(default=OutboxStatus.PENDING, max_length=16)
    attempts: int = 0
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = None
    sent_ts: str | None = Field(default=None, max_length=32)
    sent_channel: str | None = Field(default=None, max_length=32)
    sent_at: datetime | None = None
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)


class NudgePreference(SQLModel, table=True):
    """How and when a member may be nudged; defaults suit staff on day shifts."""

    __tablename__ = "nudge_preference"
    __table_args__ = (UniqueConstraint("team_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32)
    user_id: str = Field(max_length=32)
    quiet_start: time = time(19, 0)
    quiet_end: time = time(8, 0)
    quiet_weekends: bool = True
    weekly_budget: int = 3
    opted_out: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    snoozed_until: datetime | None = None
    dm_channel: str | None = Field(default=None, max_length=32)
    undeliverable_since: datetime | None = None
    undeliverable_reason: str | None = Field(default=None, max_length=100)


class Pulse(SQLModel, table=True):
    """A pulse check a lead designed: who gets it, what it asks, when, and for how long.

    ``questions`` is a list of ``{"kind", "text", "options"}`` (at most 5). ``name`` is
    one lower-case word, unique in the team, so it can be typed in ``/pulse results``.
    """

    __table_args__ = (UniqueConstraint("team_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32, index=True)
    name: str = Field(max_length=40)
    audience_kind: str = Field(max_length=16)  # channel, staff_group, organisation, everyone
    audience_value: str | None = Field(default=None, max_length=200)
    questions: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    schedule: str = Field(default="one_off", max_length=16)  # one_off, weekly
    weekday: int | None = None  # 0 = Monday, for weekly pulses
    local_time: str | None = Field(default=None, max_length=5)  # "HH:MM"
    timezone: str | None = Field(default=None, max_length=64)
    open_days: int = 3
    anonymous: bool = True
    paused: bool = False
    results_channel: str | None = Field(default=None, max_length=32)
    created_by: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow)
    # The lead's minimum for showing written answers (e.g. 10); None: the anonymity minimum.
    comment_min: int | None = None


class PulseRun(SQLModel, table=True):
    """One sending of a pulse. Questions and anonymity are copied at opening, so editing
    the pulse later never changes what people were told when they answered."""

    __tablename__ = "pulse_run"
    __table_args__ = (UniqueConstraint("pulse_id", "opens_at"),)

    id: int | None = Field(default=None, primary_key=True)
    pulse_id: int = Field(foreign_key="pulse.id", index=True)
    questions: list[dict[str, Any]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    anonymous: bool = True
    opens_at: datetime
    closes_at: datetime
    status: str = Field(default="open", max_length=16)  # open, closed
    invited: int = 0
    reminder_sent_at: datetime | None = None
    closed_at: datetime | None = None
    results_sent_at: datetime | None = None
    # The anonymity minimum in force when the run opened: it can only rise for this run.
    anonymity_min: int | None = None
    # Written answers are shown only from at least this many people (never below the above).
    comment_min: int | None = None
    respondents: int | None = None  # counted at close (a withheld run keeps only this)


class PulseAnswer(SQLModel, table=True):
    """One answer to one question of a closed run. Answers are written only when the run
    closes (``bot.pulse.closing.close_run``), all at once, in shuffled order, with random
    row keys: nothing here tells who answered, when, or in what order. ``respondent`` is
    random per person and run, made at close (never derived from their token), so one
    person's answers can be grouped for breakdowns. ``staff_group`` and
    ``organisation_type`` hold a group only when at least the run's minimum of respondents
    share it, else "Other (small groups)". ``user_id`` is set only for attributed runs."""

    __tablename__ = "pulse_answer"
    __table_args__ = (UniqueConstraint("run_id", "respondent", "question"),)

    id: str = Field(default_factory=random_key, primary_key=True, max_length=32)
    run_id: int = Field(foreign_key="pulse_run.id", index=True)
    respondent: str = Field(max_length=64)
    question: int
    value: int | None = None  # scale, 0-10, yes (1) / no (0), chosen option's index
    text: str | None = Field(default=None, max_length=3000)
    staff_group: str | None = Field(default=None, max_length=100)
    organisation_type: str | None = Field(default=None, max_length=100)
    user_id: str | None = Field(default=None, max_length=32)


class PulseBallot(SQLModel, table=True):
    """One member's answers while their run is open, sealed (AES-GCM, padded to a fixed
    size) with a key derived from a deployment secret that is not in the database
    (``bot.pulse.ballots``). A backup taken between two answers shows that a ballot
    appeared when someone's participation flipped, never what it holds; at close the
    ballots are opened, shuffled into ``PulseAnswer`` rows and deleted. ``id`` is a hash of
    the member's answer token (which lives only in their own DM), so they can change it."""

    __tablename__ = "pulse_ballot"

    id: str = Field(primary_key=True, max_length=64)
    run_id: int = Field(foreign_key="pulse_run.id", index=True)
    sealed: str = Field(sa_column=Column(Text, nullable=False))


class PulseParticipation(SQLModel, table=True):
    """Who was asked and whether they answered, kept apart from answers: only to send
    one reminder to those who have not. Never shown, never joined to answers."""

    __tablename__ = "pulse_participation"
    __table_args__ = (UniqueConstraint("run_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="pulse_run.id", index=True)
    user_id: str = Field(max_length=32)
    answered: bool = False
    reminded: bool = False


class ExchangeProgramme(SQLModel, table=True):
    """An exchange scheme a lead runs: its format, group size, matching rules and rounds.

    ``name`` is one lower-case word, unique in the team (``/exchange join <name>``).
    ``weights`` overrides the matcher's default weights by name. A recurring programme
    opens its next round ``every_days`` after a round is approved.
    """

    __tablename__ = "exchange_programme"
    __table_args__ = (UniqueConstraint("team_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(foreign_key="workspace.team_id", max_length=32, index=True)
    name: str = Field(max_length=40)
    format: str = Field(max_length=40)
    group_size: int = 2
    mentor_capacity: int = 2
    differ_by_organisation: bool = True
    differ_by_staff_group: bool = False
    cooldown_days: int = 365
    signup_deadline: datetime
    every_days: int | None = None  # None: one-off
    weights: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    round_number: int = 1
    created_by: str | None = Field(default=None, max_length=32)
    created_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None


class ExchangeInterest(SQLModel, table=True):
    """One member's expression of interest in a programme (editable until the round is
    matched). Lists hold option labels and free text; ``do_not_pair`` holds user IDs."""

    __tablename__ = "exchange_interest"
    __table_args__ = (UniqueConstraint("programme_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="exchange_programme.id", index=True)
    team_id: str = Field(max_length=32, index=True)
    user_id: str = Field(max_length=32, index=True)
    staff_group: str = Field(default="", max_length=100)
    organisation: str = Field(default="", max_length=200)
    locality: str = Field(default="", max_length=100)
    professional_interests: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    personal_interests: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    offers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    wants: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    career_stage: int = 0
    availability: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    mode: str = Field(default="either", max_length=16)
    role: str = Field(default="either", max_length=16)
    do_not_pair: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    paused: bool = False
    priority: bool = False  # carried over from the last round: matched first
    withdrawn_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ExchangeRound(SQLModel, table=True):
    """One matching of a programme. A proposal is replaced by a re-run until the lead
    approves it; ``outcome`` keeps who was carried over or could not be matched, and why."""

    __tablename__ = "exchange_round"
    __table_args__ = (UniqueConstraint("programme_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    programme_id: int = Field(foreign_key="exchange_programme.id", index=True)
    number: int
    seed: int = 0
    weights: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    outcome: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    proposed_at: datetime = Field(default_factory=utcnow)
    review_channel: str | None = Field(default=None, max_length=32)
    review_ts: str | None = Field(default=None, max_length=32)
    approved_at: datetime | None = None
    approved_by: str | None = Field(default=None, max_length=32)


class ExchangeMatch(SQLModel, table=True):
    """A pair, set or mentoring pair in a round, followed from proposal to a completed
    exchange. Members are rows of ``exchange_match_member``."""

    __tablename__ = "exchange_match"

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="exchange_round.id", index=True)
    programme_id: int = Field(foreign_key="exchange_programme.id", index=True)
    team_id: str = Field(max_length=32, index=True)
    score: float = 0.0
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="proposed", max_length=16, index=True)
    channel_id: str | None = Field(default=None, max_length=32)
    introduced_at: datetime | None = None
    date_set_at: datetime | None = None
    done_at: datetime | None = None
    cancelled_at: datetime | None = None
    nudged_at: datetime | None = None
    stalled_reported_at: datetime | None = None


class ExchangeMatchMember(SQLModel, table=True):
    """Who is in a match; also the history the cooldown reads (who met whom, when)."""

    __tablename__ = "exchange_match_member"

    match_id: int = Field(foreign_key="exchange_match.id", primary_key=True)
    user_id: str = Field(max_length=32, primary_key=True, index=True)
    position: int = 0


class ExchangeFeedback(SQLModel, table=True):
    """After an exchange: a rating, what I learned (feeds digests), would I recommend it."""

    __tablename__ = "exchange_feedback"
    __table_args__ = (UniqueConstraint("match_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    match_id: int = Field(foreign_key="exchange_match.id", index=True)
    team_id: str = Field(max_length=32, index=True)
    user_id: str = Field(max_length=32, index=True)
    rating: int
    learned: str = Field(default="", max_length=3000)
    recommend: bool | None = None
    created_at: datetime = Field(default_factory=utcnow, index=True)


class CaptureChannel(SQLModel, table=True):
    """A channel whose messages copbot keeps for learning digests, turned on by a lead."""

    __tablename__ = "capture_channel"

    team_id: str = Field(primary_key=True, max_length=32)
    channel_id: str = Field(primary_key=True, max_length=32)
    enabled_by: str | None = Field(default=None, max_length=32)
    enabled_at: datetime = Field(default_factory=utcnow)


class CaptureOptOut(SQLModel, table=True):
    """A member who asked that none of their messages be captured."""

    __tablename__ = "capture_opt_out"

    team_id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(primary_key=True, max_length=32)
    at: datetime = Field(default_factory=utcnow)


class CapturedMessage(SQLModel, table=True):
    """A message (or thread reply) from a captured channel, kept until the retention
    limit; ``learning`` is set when someone marks it with :memo:."""

    __tablename__ = "captured_message"
    __table_args__ = (UniqueConstraint("team_id", "channel_id", "ts"),)

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    channel_id: str = Field(max_length=32)
    ts: str = Field(max_length=32)
    thread_ts: str | None = Field(default=None, max_length=32)
    user_id: str = Field(max_length=32, index=True)
    text: str = Field(default="", max_length=40000)
    learning: bool = False
    captured_at: datetime = Field(default_factory=utcnow, index=True)


class LearningMark(SQLModel, table=True):
    """A :memo: on a message of a captured channel that copbot has not kept yet (Slack may
    deliver the reaction before the message); applied when the message arrives."""

    __tablename__ = "learning_mark"

    team_id: str = Field(max_length=32, primary_key=True)
    channel_id: str = Field(max_length=32, primary_key=True)
    ts: str = Field(max_length=32, primary_key=True)
    marked_at: datetime = Field(default_factory=utcnow, index=True)


class Reflection(SQLModel, table=True):
    """What a member learned, from ``/copbot learned <text>``."""

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    user_id: str = Field(max_length=32, index=True)
    text: str = Field(max_length=3000)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class Digest(SQLModel, table=True):
    """A learning digest: drafted privately for a lead, published only on approval.

    The row is written when the preview is asked for (status "preparing"), before any work,
    so a process that dies half-way leaves it for another to finish (``claimed_until``)."""

    __table_args__ = (
        Index("ux_digest_occasion", "team_id", "requested_by", "occasion", unique=True),
    )

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    requested_by: str = Field(max_length=32)
    status: str = Field(default="ready", max_length=16, index=True)  # preparing, ready, failed
    occasion: str | None = Field(default=None, max_length=64)  # "weekly <time>": one per lead
    attempts: int = 0
    claimed_until: datetime | None = None
    period_start: datetime
    period_end: datetime
    engine: str = Field(default="offline", max_length=16)
    notice: str = Field(default="", max_length=500)
    # [{"title": "Key themes", "text": mrkdwn}, ...]: what the lead previews, edits, publishes
    sections: list[dict[str, str]] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    preview_channel: str | None = Field(default=None, max_length=32)
    preview_ts: str | None = Field(default=None, max_length=32)
    published_channel: str | None = Field(default=None, max_length=32)
    published_ts: str | None = Field(default=None, max_length=32)
    published_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow, index=True)


class CaseStudy(SQLModel, table=True):
    """A thread written up as Background, Our approach, Challenges, Impact, Lessons."""

    __tablename__ = "case_study"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    title: str = Field(max_length=150)
    background: str = Field(default="", max_length=3000)
    approach: str = Field(default="", max_length=3000)
    challenges: str = Field(default="", max_length=3000)
    impact: str = Field(default="", max_length=3000)
    lessons: str = Field(default="", max_length=3000)
    source_channel: str | None = Field(default=None, max_length=32)
    source_ts: str | None = Field(default=None, max_length=32)
    source_permalink: str | None = Field(default=None, max_length=500)
    engine: str = Field(default="offline", max_length=16)
    written_by: str | None = Field(default=None, max_length=32, index=True)
    channel_id: str | None = Field(default=None, max_length=32)
    ts: str | None = Field(default=None, max_length=32)
    permalink: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow, index=True)


class LLMCall(SQLModel, table=True):
    """One call to the language model, for cost and audit: nothing of its content."""

    __tablename__ = "llm_call"

    id: int | None = Field(default=None, primary_key=True)
    team_id: str = Field(max_length=32, index=True)
    purpose: str = Field(max_length=32)
    model: str = Field(max_length=100)
    tokens_in: int = 0
    tokens_out: int = 0
    duration_ms: int = 0
    ok: bool = True
    error: str = Field(default="", max_length=200)
    requested_by: str | None = Field(default=None, max_length=32)
    at: datetime = Field(default_factory=utcnow, index=True)
