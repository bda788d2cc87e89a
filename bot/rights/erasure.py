""" "Forget me": erase a person everywhere copbot keeps them, in one transaction.

Erasure searches every text and JSON column of every table for what is left: the
member's ID, their names, and each distinctive thing they wrote, and replaces it with
words that link nothing ("a former member", "[removed]"). Where a row must stay so counts
stay true (a support), the user ID becomes a random placeholder of its own, never one
tombstone shared by many rows. Anonymous pulse answers are untouched: nothing links them."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, String, Table, Text, cast, delete, func, or_, select, update
from sqlmodel import Session

from bot import audit, members
from bot.config import Settings
from bot.rights.links import LINKS, Erase, Link, table_named, tables
from bot.text import escape
from storage import (
    AuditEntry,
    CapturedMessage,
    ExchangeInterest,
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
    utcnow,
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


REQUESTED = "member.forget_requested"


def request_forget(session: Session, team_id: str, user_id: str) -> None:
    """Written before the confirmation's ack, so the request outlives a crash in the work
    after it (``finish_forgets``). Erasure empties its ``actor_id``: that marks it done."""
    audit.record(session, team_id=team_id, actor_id=user_id, action=REQUESTED)


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
    feedback = table_named("exchange_feedback")
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
    idea = table_named("idea")
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
    match, member = table_named("exchange_match"), table_named("exchange_match_member")
    rows = session.execute(
        select(match.c.id, match.c.round_id)
        .join(member, member.c.match_id == match.c.id)
        .where(member.c.user_id == user_id, match.c.team_id == done.team_id)
    ).all()
    done.matches |= {row.id for row in rows}
    done.rounds |= {row.round_id for row in rows}
    round_ = table_named("exchange_round")
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
    table = table_named(link.table)
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
