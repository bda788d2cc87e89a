"""What names a person: ``LINKS``, the one map of every column that holds a member's Slack
user ID, what "Download my data" takes from a row it names them in, and what "forget me"
does to it; ``NOT_THEIRS``, the other places an ID can sit and why the row is not theirs;
``MENTIONS``, others' words that mention them, only counted. The test of
``docs/privacy.md`` holds these against the tables."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import Table
from sqlmodel import SQLModel

from storage import CapturedMessage, Idea, Reflection


class Erase(StrEnum):
    DELETE = "row deleted"
    NULL = "set to empty"
    PLACEHOLDER = "a random placeholder of its own (the row stays, so counts stay true)"


@dataclass(frozen=True)
class Link:
    """A column that names a person, what their export takes from the row, and what
    erasure does to it. An empty ``export`` means the row is not exported (``why``)."""

    table: str
    column: str
    erase: Erase
    export: str  # column names, space-separated
    why: str
    name: str = ""  # the export's key when a table has more than one link

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.export.split())

    @property
    def key(self) -> str:
        return self.name or self.table


LINKS: tuple[Link, ...] = (
    Link(
        "member",
        "slack_user_id",
        Erase.DELETE,
        "team_id display_name real_name tz staff_group organisation_id is_lead "
        "is_slack_admin created_at",
        "your profile",
    ),
    Link(
        "nudge_preference",
        "user_id",
        Erase.DELETE,
        "quiet_start quiet_end quiet_weekends weekly_budget opted_out snoozed_until "
        "undeliverable_since undeliverable_reason",
        "your nudge choices",
    ),
    Link(
        "idea",
        "author_id",
        Erase.NULL,
        "id title description themes status is_anonymous permalink created_at",
        "ideas you wrote (on erasure their text is removed too)",
    ),
    Link(
        "idea",
        "submitted_by",
        Erase.NULL,
        "id status permalink created_at",
        "ideas you shared for a colleague: their words are theirs, so only the link",
        name="idea (shared by you)",
    ),
    Link(
        "idea",
        "owner_id",
        Erase.NULL,
        "id status next_review permalink",
        "ideas a lead made you the owner of",
        name="idea (owned by you)",
    ),
    Link("support", "user_id", Erase.PLACEHOLDER, "idea_id created_at", "your supports"),
    Link("idea_subscriber", "user_id", Erase.DELETE, "idea_id", "ideas you hear about"),
    Link("idea_draft", "user_id", Erase.DELETE, "fields created_at", "drafts waiting"),
    Link(
        "outbox",
        "user_id",
        Erase.DELETE,
        "kind text status created_at sent_at",
        "messages copbot sent or will send you",
    ),
    Link(
        "pulse_participation",
        "user_id",
        Erase.DELETE,
        "run_id answered reminded",
        "whether you answered each pulse, for one reminder",
    ),
    Link(
        "pulse_answer",
        "user_id",
        Erase.DELETE,
        "run_id question value text",
        "answers to pulses that were not anonymous (anonymous answers carry no user ID)",
    ),
    Link(
        "exchange_interest",
        "user_id",
        Erase.DELETE,
        "programme_id staff_group organisation locality professional_interests "
        "personal_interests offers wants career_stage availability mode role do_not_pair "
        "paused withdrawn_at created_at updated_at",
        "your exchange sign-ups",
    ),
    Link(
        "exchange_match_member",
        "user_id",
        Erase.DELETE,
        "match_id position",
        "the matches you were in",
    ),
    Link(
        "exchange_feedback",
        "user_id",
        Erase.DELETE,
        "match_id rating learned recommend created_at",
        "feedback you gave after an exchange",
    ),
    Link("capture_opt_out", "user_id", Erase.DELETE, "team_id at", "your capture opt-out"),
    Link(
        "captured_message",
        "user_id",
        Erase.DELETE,
        "channel_id ts thread_ts text learning captured_at",
        "your messages kept from captured channels",
    ),
    Link("reflection", "user_id", Erase.DELETE, "text created_at", "your reflections"),
    Link(
        "audit_log",
        "actor_id",
        Erase.NULL,
        "action at",
        "what you did as a lead or admin (what it changed may name others, so only the action)",
    ),
    Link("challenge", "created_by", Erase.NULL, "id title created_at", "your challenges"),
    Link("pulse", "created_by", Erase.NULL, "name created_at", "pulses you designed"),
    Link(
        "exchange_programme",
        "created_by",
        Erase.NULL,
        "name format created_at",
        "programmes you run",
    ),
    Link(
        "exchange_round",
        "approved_by",
        Erase.NULL,
        "programme_id number approved_at",
        "rounds you approved",
    ),
    Link(
        "capture_channel",
        "enabled_by",
        Erase.NULL,
        "channel_id enabled_at",
        "channels you turned capture on for",
    ),
    Link(
        "digest",
        "requested_by",
        Erase.DELETE,
        "status period_start period_end published_at created_at",
        "digests you asked for (their text summarises others' words, so not included)",
    ),
    Link(
        "case_study",
        "written_by",
        Erase.NULL,
        "title permalink created_at",
        "case studies you wrote up (their text is the thread's, so only the title)",
    ),
    Link(
        "llm_call",
        "requested_by",
        Erase.NULL,
        "purpose model tokens_in tokens_out at",
        "language-model calls made for you (no content is kept)",
    ),
)

# Other places a person's user ID can be, and why the row is not theirs to download.
NOT_THEIRS: dict[tuple[str, str], str] = {
    ("exchange_interest", "do_not_pair"): (
        "another member's private choice; never exported, the ID is removed on erasure"
    ),
    ("captured_message", "text"): "another member's words; mentions are counted, not shown",
    ("reflection", "text"): "another member's words; mentions are counted, not shown",
    ("exchange_round", "outcome"): "a lead's matching record; the ID is removed on erasure",
    ("audit_log", "before"): "what a lead changed; the ID is removed on erasure",
    ("audit_log", "after"): "what a lead changed; the ID is removed on erasure",
    ("outbox", "text"): "messages to others that name you; your name is removed on erasure",
    ("processedevent", "key"): "delivery bookkeeping; rows naming you are deleted on erasure",
    ("outbox", "claimed_by"): "the delivery process that claimed the row, not a person",
}

# Mentions by others, counted in the export: (what, table, text column, author column).
MENTIONS = (
    ("messages by others that mention you", CapturedMessage, "text", "user_id"),
    ("reflections by others that mention you", Reflection, "text", "user_id"),
    ("ideas by others that mention you", Idea, "description", "author_id"),
)


def tables() -> list[Table]:
    return [t for t in SQLModel.metadata.sorted_tables if t.name != "apscheduler_jobs"]


def table_named(name: str) -> Table:
    return SQLModel.metadata.tables[name]
