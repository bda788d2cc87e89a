"""Privacy rights for every member: what copbot keeps about me, my data as a file, and
"forget me".

``LINKS`` is the one map of every column that names a person (their Slack user ID), what
"Download my data" takes from a row it names them in, and what "forget me" does to it.
A row is the member's own only through one of these columns: another person's sign-up that
names them as do-not-pair, or a message that mentions them, is not theirs, so its words and
choices are never exported (mentions are counted instead). ``NOT_THEIRS`` lists the other
places a user ID can sit, and why they are not the member's own. The test of
``docs/privacy.md`` holds both against the tables.

Erasure then searches every text and JSON column of every table for what is left: the
member's ID, their names, and each distinctive thing they wrote, and replaces it with
words that link nothing ("a former member", "[removed]"). Where a row must stay so counts
stay true (a support), the user ID becomes a random placeholder of its own, never one
tombstone shared by many rows. Anonymous pulse answers are untouched: nothing links them.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, String, Table, Text, cast, delete, func, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, SQLModel

from bot import audit, members
from bot.config import Settings
from bot.slack import SlackPort
from bot.text import counted, escape
from storage import (
    AuditEntry,
    CapturedMessage,
    Database,
    ExchangeInterest,
    ExchangeMatch,
    ExchangeMatchMember,
    ExchangeProgramme,
    Idea,
    IdeaTerm,
    Member,
    Organisation,
    OutboxMessage,
    OutboxStatus,
    ProcessedEvent,
    Pulse,
    PulseBallot,
    PulseRun,
    Reflection,
    Support,
    utcnow,
)

log = logging.getLogger("copbot.rights")


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

REMOVED_TITLE = "Removed: its author asked copbot to forget them"
FORMER = "a former member"
REMOVED = "[removed]"
PLACEHOLDER_PREFIX = "erased-"
# Where copbot copies what people wrote (digests, case studies, messages, the audit log):
# erasure looks for the member's words only here; elsewhere for their ID and names. A
# colleague who quoted them in their own message keeps their own words.
COPIES = frozenset({"outbox", "digest", "case_study", "audit_log", "exchange_round", "idea"})
# Shorter texts are too common to erase from other people's words without damaging them.
DISTINCTIVE = 12
# A handle shorter than this is only erased as "@handle", not as a bare word.
BARE_HANDLE = 4


def tables() -> list[Table]:
    return [t for t in SQLModel.metadata.sorted_tables if t.name != "apscheduler_jobs"]


def _table(name: str) -> Table:
    return SQLModel.metadata.tables[name]


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


# ------------------------------------------------------------------------------- export


def mentions(session: Session, user_id: str) -> dict[str, int]:
    """How often others mention the person (``<@U…>``), without their words."""
    found = {}
    for what, model, text_column, author in MENTIONS:
        body, by = getattr(model, text_column), getattr(model, author)
        count = session.scalar(
            select(func.count())
            .select_from(model)
            .where(body.contains(f"<@{user_id}", autoescape=True), or_(by.is_(None), by != user_id))
        )
        if count:
            found[what] = count
    return found


def own_rows(session: Session, user_id: str) -> dict[str, list[dict[str, Any]]]:
    """The person's own rows, table by table, with only the columns ``LINKS`` exports."""
    found: dict[str, list[dict[str, Any]]] = {}
    for link in LINKS:
        if not link.export:
            continue
        table = _table(link.table)
        columns = [table.c[name] for name in link.columns]
        rows = session.execute(select(*columns).where(table.c[link.column] == user_id)).mappings()
        shown = [{k: _plain(v) for k, v in row.items()} for row in rows]
        if shown:
            found[link.key] = shown
    return found


def export(session: Session, team_id: str, user_id: str) -> str:
    """The person's own data, as JSON, for "Download my data"."""
    data = {
        "about": (
            "What copbot holds that is yours, table by table. Other people's words and "
            "choices are not here, even where they name you: mentions are only counted. "
            "Anonymous pulse answers are not here either: nothing links them to you."
        ),
        "user_id": user_id,
        "team_id": team_id,
        "exported_at": utcnow().isoformat(),
        "tables": own_rows(session, user_id),
        "mentions": mentions(session, user_id),
    }
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


@dataclass(frozen=True)
class Summary:
    lines: tuple[str, ...]


def summary(session: Session, team_id: str, user_id: str) -> Summary:
    """What copbot keeps about the person, in plain words."""

    def count(model: Any, *where: Any) -> int:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    profile = session.scalars(
        select(Member).where(Member.team_id == team_id, Member.slack_user_id == user_id)
    ).first()
    lines = [
        "*Your profile*: your name and time zone from Slack"
        + (f", staff group {profile.staff_group}" if profile and profile.staff_group else "")
        + (", your organisation" if profile and profile.organisation_id else "")
        + ".",
        f"*Ideas*: {count(Idea, Idea.author_id == user_id)} you wrote, "
        f"{count(Support, Support.user_id == user_id)} you support.",
        "*Pulse checks*: whether you have answered each open pulse, only to send one "
        "reminder. What you answered in an anonymous pulse is stored with no link to you, "
        "so it can't be shown, exported or deleted as yours.",
        f"*Exchanges*: "
        f"{counted(count(ExchangeInterest, ExchangeInterest.user_id == user_id), 'sign-up')}, "
        "your matches and any feedback you gave.",
        f"*Learning*: {count(CapturedMessage, CapturedMessage.user_id == user_id)} of your "
        "messages kept from captured channels, "
        f"{counted(count(Reflection, Reflection.user_id == user_id), 'reflection')}.",
        "*Settings*: your nudge choices, and a log of what leads and admins did.",
    ]
    return Summary(tuple(lines))


# ------------------------------------------------------------------------------ erasure

REQUESTED = "member.forget_requested"
# A request still naming its member this long after it was made was cut short by a crash.
FINISH_AFTER = timedelta(minutes=2)
FORGOTTEN_DM = "Done: copbot has forgotten you. If you use copbot again it will start afresh."


def request_forget(session: Session, team_id: str, user_id: str) -> None:
    """Written before the confirmation's ack, so the request outlives a crash in the work
    after it (``finish_forgets``). Erasure empties its ``actor_id``: that marks it done."""
    audit.record(session, team_id=team_id, actor_id=user_id, action=REQUESTED)


def finish_forgets(
    db: Database, slack: SlackPort, settings: Settings, now: datetime | None = None
) -> int:
    """Carry out requests a crash cut short; returns how many."""
    cutoff = (now or utcnow()) - FINISH_AFTER
    with db.session() as session:
        waiting = session.execute(
            select(AuditEntry.team_id, AuditEntry.actor_id)
            .where(
                AuditEntry.action == REQUESTED,
                AuditEntry.actor_id.is_not(None),  # type: ignore[union-attr]
                AuditEntry.at < cutoff,  # type: ignore[operator]
            )
            .distinct()
        ).all()
    for team_id, user_id in waiting:
        carry_out(db, slack, settings, team_id, user_id)
    return len(waiting)


def carry_out(
    db: Database, slack: SlackPort, settings: Settings, team_id: str, user_id: str
) -> None:
    """Forget the person, redraw what Slack shows, clean the files, and tell them."""
    with db.session() as session:
        done = forget(session, team_id, user_id, settings)
    redraw(db, slack, done)
    clean_storage(db, done)
    slack.post_message(user_id, FORGOTTEN_DM)


@dataclass
class Forgotten:
    """What erasure changed that Slack still shows: redrawn by ``redraw``."""

    team_id: str
    ideas: set[int] = field(default_factory=set)  # cards
    matches: set[int] = field(default_factory=set)  # exchange introductions
    rounds: set[int] = field(default_factory=set)  # a lead's review message
    messages: set[int] = field(default_factory=set)  # outbox rows already sent
    tables: set[str] = field(default_factory=set)  # touched, for the storage clean-up


def forget(
    session: Session, team_id: str, user_id: str, settings: Settings | None = None
) -> Forgotten:
    """Erase the person everywhere copbot keeps them (every workspace: a Slack user ID is
    one person). Returns what Slack still shows, for ``redraw`` after the commit.
    ``settings`` opens the sealed ballots of open attributed pulses, which name them, and
    keys the suppression list that keeps the directory from adding them back."""
    if not user_id or len(user_id) < 3:
        raise ValueError("a user ID is needed")
    done = Forgotten(team_id)
    if settings is not None:
        _forget_attributed_ballots(session, settings, user_id)
        _suppress(session, settings, team_id, user_id)
    _remember_what_slack_shows(session, user_id, done)
    organisations = _forget_organisations(session, user_id)
    needles = _needles(session, user_id, organisations)
    _remove_idea_text(session, user_id)
    for link in LINKS:
        _erase(session, link, user_id, done)
    session.execute(delete(ProcessedEvent).where(ProcessedEvent.key.contains(user_id)))  # type: ignore[attr-defined]
    for table in tables():
        _scrub(session, table, needles, done)
    audit.record(session, team_id=team_id, actor_id=None, action="member.forgotten")
    return done


@dataclass(frozen=True)
class Needles:
    """What erasure looks for in every column: the ID, the names, what they wrote."""

    user_id: str
    names: tuple[str, ...]
    texts: tuple[str, ...]

    def like(self, table: str) -> list[str]:
        """What to look for in ``table``: their words only where copbot copies words."""
        return [self.user_id, *self.names, *(self.texts if table in COPIES else ())]

    def replace(self, value: str) -> str:
        value = re.sub(rf"<@{re.escape(self.user_id)}(\|[^>]*)?>", FORMER, value)
        value = value.replace(self.user_id, FORMER)
        for found in self.texts:
            value = value.replace(found, REMOVED)
        for name in self.names:
            value = _name_pattern(name).sub(FORMER, value)
        return value


def _name_pattern(name: str) -> re.Pattern[str]:
    word = rf"(?<![\w@]){re.escape(name)}(?!\w)"
    at = rf"@{re.escape(name)}(?!\w)"
    bare = len(name) >= BARE_HANDLE or " " in name
    return re.compile(f"{at}|{word}" if bare else at, re.IGNORECASE)


def _needles(session: Session, user_id: str, organisations: list[str]) -> Needles:
    names: set[str] = set()
    for member in session.scalars(select(Member).where(Member.slack_user_id == user_id)):
        names |= {n.strip() for n in (member.real_name, member.display_name) if n.strip()}
    texts: set[str] = set()

    def add(values: Iterable[str | None]) -> None:
        for value in values:
            if value and len(value.strip()) >= DISTINCTIVE:
                texts.update({value.strip(), escape(value.strip())})

    add(session.scalars(select(CapturedMessage.text).where(CapturedMessage.user_id == user_id)))
    add(session.scalars(select(Reflection.text).where(Reflection.user_id == user_id)))
    for idea in session.scalars(select(Idea).where(Idea.author_id == user_id)):
        add((idea.title, idea.description))
    feedback = _table("exchange_feedback")
    add(session.scalars(select(feedback.c.learned).where(feedback.c.user_id == user_id)))
    for interest in session.scalars(
        select(ExchangeInterest).where(ExchangeInterest.user_id == user_id)
    ):
        add(interest.offers + interest.wants + interest.personal_interests + [interest.locality])
    add(organisations)
    # Longest first, so a name inside a longer text is not replaced before the text.
    return Needles(
        user_id,
        tuple(sorted(names, key=len, reverse=True)),
        tuple(sorted(texts, key=len, reverse=True)),
    )


def _suppress(session: Session, settings: Settings, team_id: str, user_id: str) -> None:
    """Erasure must not be undone by the next directory read or profile event: the person
    goes on the suppression list in every workspace copbot knows them in
    (``members.suppress``; it holds a keyed hash, never the ID)."""
    teams = set(session.scalars(select(Member.team_id).where(Member.slack_user_id == user_id)))
    for team in sorted(teams | {team_id}):
        members.suppress(session, settings, team, user_id)


def _forget_attributed_ballots(session: Session, settings: Settings, user_id: str) -> None:
    """A ballot of an open run that is not anonymous carries the member's ID inside its
    seal and would become an answer row naming them at close: opened and deleted. An
    anonymous run's ballots carry no ID and stay, like its answers."""
    from bot.pulse.ballots import Sealer, Unreadable

    runs = session.scalars(
        select(PulseRun).where(PulseRun.status == "open", PulseRun.anonymous.is_(False))  # type: ignore[attr-defined]
    )
    for run in runs:
        sealer = Sealer(settings, run.id or 0, run.questions)
        for ballot in session.scalars(select(PulseBallot).where(PulseBallot.run_id == run.id)):
            try:
                opened = sealer.open(ballot.id, ballot.sealed)
            except Unreadable:
                continue
            if opened.user_id == user_id:
                session.delete(ballot)


def _remember_what_slack_shows(session: Session, user_id: str, done: Forgotten) -> None:
    idea = _table("idea")
    done.ideas |= set(
        session.scalars(
            select(idea.c.id).where(
                idea.c.team_id == done.team_id,
                idea.c.card_ts.is_not(None),
                or_(
                    idea.c.author_id == user_id,
                    idea.c.submitted_by == user_id,
                    idea.c.owner_id == user_id,
                ),
            )
        )
    )
    match, member = _table("exchange_match"), _table("exchange_match_member")
    rows = session.execute(
        select(match.c.id, match.c.round_id)
        .join(member, member.c.match_id == match.c.id)
        .where(member.c.user_id == user_id, match.c.team_id == done.team_id)
    ).all()
    done.matches |= {row.id for row in rows}
    done.rounds |= {row.round_id for row in rows}
    round_ = _table("exchange_round")
    mentioned = _as_text(round_.c.outcome).contains(user_id, autoescape=True)
    done.rounds |= set(session.scalars(select(round_.c.id).where(mentioned)))


def _remove_idea_text(session: Session, user_id: str) -> None:
    """Their ideas stay (others supported them, leads decided on them) but say nothing of
    them: no title, description, source link or index words."""
    ids = list(session.scalars(select(Idea.id).where(Idea.author_id == user_id)))
    if not ids:
        return
    session.execute(delete(IdeaTerm).where(IdeaTerm.idea_id.in_(ids)))  # type: ignore[attr-defined]
    session.execute(
        update(Idea)
        .where(Idea.id.in_(ids))  # type: ignore[union-attr]
        .values(
            title=REMOVED_TITLE,
            description="",
            source_permalink=None,
            is_anonymous=True,
            updated_at=utcnow(),
        )
    )


def _forget_organisations(session: Session, user_id: str) -> list[str]:
    """An organisation they typed into the list (found by its audit entry) goes, unless
    someone else uses it. Returns the names that went."""
    added = session.scalars(
        select(AuditEntry.target).where(
            AuditEntry.actor_id == user_id, AuditEntry.action == members.ORGANISATION_ADDED
        )
    )
    ids = [int(t.split(":", 1)[1]) for t in added if t.split(":", 1)[-1].isdigit()]
    gone = []
    for org in session.scalars(select(Organisation).where(Organisation.id.in_(ids))):  # type: ignore[union-attr]
        others = (
            select(func.count())
            .select_from(Member)
            .where(Member.organisation_id == org.id, Member.slack_user_id != user_id)
        )
        signed_up = (
            select(func.count())
            .select_from(ExchangeInterest)
            .where(
                func.lower(ExchangeInterest.organisation) == org.name.lower(),
                ExchangeInterest.user_id != user_id,
            )
        )
        audience = select(func.count()).select_from(Pulse).where(Pulse.audience_value == org.name)
        if session.scalar(others) or session.scalar(signed_up) or session.scalar(audience):
            continue
        session.execute(
            update(Member).where(Member.organisation_id == org.id).values(organisation_id=None)  # type: ignore[arg-type]
        )
        session.execute(delete(Organisation).where(Organisation.id == org.id))  # type: ignore[arg-type]
        gone.append(org.name)
    return gone


def _erase(session: Session, link: Link, user_id: str, done: Forgotten) -> None:
    table = _table(link.table)
    column = table.c[link.column]
    if link.erase is Erase.DELETE:
        result = session.execute(delete(table).where(column == user_id))
    elif link.erase is Erase.NULL:
        result = session.execute(update(table).where(column == user_id).values({column: None}))
    else:
        keys = list(table.primary_key.columns)
        rows = session.execute(select(*keys).where(column == user_id)).all()
        for row in rows:
            where = [key == value for key, value in zip(keys, row, strict=True)]
            placeholder = PLACEHOLDER_PREFIX + secrets.token_hex(8)
            session.execute(update(table).where(*where).values({column: placeholder}))
        result = None
    if result is None or result.rowcount:  # type: ignore[attr-defined]
        done.tables.add(link.table)


def _columns(table: Table) -> Iterator[Any]:
    """Columns that can hold a name or words: strings and JSON."""
    for column in table.columns:
        kind = getattr(column.type, "impl_instance", column.type)  # through TypeDecorators
        if isinstance(kind, String | Text | JSON):
            yield column


def _as_text(column: Any) -> Any:
    return cast(column, Text) if isinstance(column.type, JSON) else column


def _scrub(session: Session, table: Table, needles: Needles, done: Forgotten) -> None:
    """Replace what is left of the person in every text and JSON column of ``table``."""
    columns = list(_columns(table))
    if not columns:
        return
    condition = or_(
        *(
            func.lower(_as_text(column)).contains(needle.lower(), autoescape=True)
            for column in columns
            for needle in needles.like(table.name)
        )
    )
    keys = list(table.primary_key.columns)
    for row in session.execute(select(table).where(condition)).mappings().all():
        changes: dict[str, Any] = {}
        for column in columns:
            value = row[column.name]
            if value is None:
                continue
            cleaned = _clean(value, needles)
            if cleaned != value:
                changes[column.name] = cleaned
        if not changes:
            continue
        where = [key == row[key.name] for key in keys]
        if any(key.name in changes for key in keys):
            session.execute(delete(table).where(*where))  # bookkeeping keyed by them
        else:
            if table.name == OutboxMessage.__tablename__:
                changes |= _outbox_change(row, done)
            session.execute(update(table).where(*where).values(**changes))
        done.tables.add(table.name)


def _clean(value: Any, needles: Needles) -> Any:
    """The value without the person: their ID leaves lists and dict keys; text is
    rewritten."""
    if isinstance(value, str):
        return needles.replace(value)
    if isinstance(value, list):
        return [_clean(item, needles) for item in value if item != needles.user_id]
    if isinstance(value, dict):
        return {
            needles.replace(k): _clean(v, needles) for k, v in value.items() if k != needles.user_id
        }
    return value


def _outbox_change(row: Any, done: Forgotten) -> dict[str, Any]:
    """A message to someone else that named them: not sent if still waiting; redrawn in
    Slack if it went (introductions are redrawn from their match, with its status)."""
    if row["status"] in (OutboxStatus.PENDING, OutboxStatus.SENDING):
        return {"status": OutboxStatus.CANCELLED}
    if row["sent_ts"] and row["sent_channel"] and row["kind"] != "exchange.intro":
        done.messages.add(row["id"])
    return {}


# ------------------------------------------------------------------ after the commit


def redraw(db: Database, slack: SlackPort, done: Forgotten) -> int:
    """Redraw, at once, every card and message copbot posted that named the person.
    Each is tried on its own: one Slack refusal does not stop the rest. Returns how many
    Slack took."""
    from bot.exchange import followup, messages
    from bot.ideas import publish

    redrawn = 0
    for idea_id in sorted(done.ideas):
        redrawn += _try(lambda i=idea_id: publish.refresh_card(db, slack, done.team_id, i))
    for message_id in sorted(done.messages):

        def again(i: int = message_id) -> None:
            with db.session() as session:
                row = session.get(OutboxMessage, i)
                if row and row.sent_channel and row.sent_ts:
                    slack.update_message(row.sent_channel, row.sent_ts, row.text, blocks=row.blocks)

        redrawn += _try(again)
    for match_id in sorted(done.matches):

        def intro(i: int = match_id) -> None:
            with db.session() as session:
                row = session.scalars(
                    select(OutboxMessage).where(OutboxMessage.key == f"exchange:{i}:intro")
                ).first()
                match = session.get(ExchangeMatch, i)
                if not (row and row.sent_channel and row.sent_ts and match):
                    return
                programme = session.get(ExchangeProgramme, match.programme_id)
                assert programme is not None
                people = list(
                    session.scalars(
                        select(ExchangeMatchMember.user_id)
                        .where(ExchangeMatchMember.match_id == i)
                        .order_by(ExchangeMatchMember.position)  # type: ignore[arg-type]
                    )
                )
                view = followup.MatchView(match, people, programme)
                text = messages.intro_text(programme.name, people)
                slack.update_message(row.sent_channel, row.sent_ts, text, blocks=view.blocks)

        redrawn += _try(intro)
    for round_id in sorted(done.rounds):

        def review(i: int = round_id) -> None:
            with db.session() as session:
                followup.send_review(session, slack, i)

        redrawn += _try(review)
    return redrawn


def _try(work: Any) -> int:
    try:
        work()
        return 1
    except Exception:
        log.exception("redraw after forget me failed")
        return 0


def clean_storage(db: Database, done: Forgotten) -> bool:
    """Deleted text must not linger in the database's files.

    SQLite keeps deleted rows in free pages and in its write-ahead log: VACUUM rewrites the
    file without them and a TRUNCATE checkpoint empties the log. PostgreSQL keeps them as
    dead tuples until VACUUM reclaims the space; run it on the tables erasure touched (see
    docs/privacy.md for what remains in WAL segments and backups). The erasure itself is
    already committed: if the database is too busy now, this is logged and False returned
    (the next "forget me" or a manual VACUUM clears it)."""
    if db.dialect == "sqlite":
        statements = ["VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"]
    elif db.dialect == "postgresql":
        statements = [f'VACUUM "{_table(name).name}"' for name in sorted(done.tables)]
    else:
        return True
    try:
        with db.engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            for statement in statements:
                connection.exec_driver_sql(statement).close()
        return True
    except OperationalError as error:
        log.warning("forget me: the database files are not cleaned yet (%s)", error.orig)
        return False
