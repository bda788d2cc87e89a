"""Workspace rows and the community settings leads edit in App Home."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import event
from sqlmodel import Session, col, select

from bot import audit
from bot.config import ANONYMITY_FLOOR, Settings
from bot.errors import UserError
from bot.retention import LIMITS, Retention
from bot.retention import of as retention_of
from bot.roles import Actor, Role
from bot.slack import SlackPort
from storage import Database, Workspace, insert_or_ignore, utcnow

log = logging.getLogger("copbot.workspaces")


@dataclass(frozen=True)
class CommunitySettings:
    ideas_channel: str | None
    digest_channel: str | None
    timezone: str
    anonymity_min: int
    hub_channel: str | None = None  # where case studies go; the digest channel if unset
    retention: Retention = field(default_factory=lambda: retention_of(None))


def ensure_workspace(session: Session, team_id: str, name: str = "") -> Workspace:
    insert_or_ignore(session, Workspace(team_id=team_id, name=name))
    workspace = session.get(Workspace, team_id)
    assert workspace is not None
    return workspace


# ------------------------------------------------------------------ install lifecycle
#
# Slack sends ``app_uninstalled`` (or ``tokens_revoked`` naming the bot token) when the app
# is removed. From then on copbot sends nothing to that workspace and its scheduled work
# skips it: queued outbox rows stay pending, untouched, until the app is back.
#
# A reinstall is noticed when Slack speaks for the workspace again: any signed request
# from the team other than the uninstall events themselves (Slack sends nothing to an
# uninstalled app), or a successful ``auth.test`` with the configured token (every process
# checks at start, and the deliverer checks again while it holds messages). Either one
# clears ``uninstalled_at``, and the held messages go out once, in order.


class InstallState:
    """This process's view of which workspaces are uninstalled, so the ack path and every
    send can check without the database; refreshed from the database by the deliverer
    (other processes may have seen the event). ``wait_for_change`` wakes whoever waits
    for a reinstall."""

    def __init__(self) -> None:
        self._uninstalled: set[str] = set()
        self._version = 0
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._changes = 0  # how often the set of uninstalled workspaces has changed

    @property
    def changes(self) -> int:
        return self._changes

    def wait_for_change(self, seen: int, timeout: float) -> int:
        """Block until a change after the ``seen``-th (or ``timeout`` s); returns the
        count now. A counter, not a shared Event: one waiter can never clear a change
        another has not woken for yet."""
        with self._changed:
            self._changed.wait_for(lambda: self._changes != seen, timeout)
            return self._changes

    def wake(self) -> None:
        """Wake every waiter (stopping)."""
        with self._changed:
            self._note_change()

    def _note_change(self) -> None:  # with the lock held
        self._changes += 1
        self._changed.notify_all()

    def uninstalled(self, team_id: str | None) -> bool:
        return bool(team_id) and team_id in self._uninstalled

    @property
    def any_uninstalled(self) -> bool:
        return bool(self._uninstalled)

    def teams(self) -> set[str]:
        return set(self._uninstalled)

    @property
    def version(self) -> int:
        """Changes with every ``set``: a refresh read before a change must not undo it."""
        return self._version

    def set(self, team_id: str, uninstalled: bool) -> None:
        with self._lock:
            self._version += 1
            before = team_id in self._uninstalled
            if uninstalled:
                self._uninstalled.add(team_id)
            else:
                self._uninstalled.discard(team_id)
            if before != uninstalled:
                self._note_change()

    def replace(self, teams: set[str], version: int) -> None:
        """The database's view, read when ``version`` was current; ignored if a ``set``
        came since (it is newer than what was read)."""
        with self._lock:
            if version != self._version:
                return
            before, self._uninstalled = self._uninstalled, set(teams)
            if before != teams:
                self._note_change()


INSTALLS = InstallState()


def mark_uninstalled(session: Session, team_id: str, why: str) -> bool:
    """Record that the app was removed from the workspace; True if it was installed."""
    workspace = ensure_workspace(session, team_id)
    INSTALLS.set(team_id, True)
    if workspace.uninstalled_at is not None:
        return False
    workspace.uninstalled_at = utcnow()
    session.add(workspace)
    log.warning("workspace %s: %s; sending and scheduled work are held", team_id, why)
    return True


def mark_installed(session: Session, team_id: str, why: str) -> bool:
    """Record that the app is (back) in the workspace; True if it had been uninstalled."""
    workspace = session.get(Workspace, team_id)
    if workspace is None or workspace.uninstalled_at is None:
        INSTALLS.set(team_id, False)
        return False
    workspace.uninstalled_at = None
    session.add(workspace)
    # Sending resumes once the database says so (the deliverer claims by the database).
    event.listen(session, "after_commit", lambda _: INSTALLS.set(team_id, False), once=True)
    log.warning("workspace %s: installed again (%s); held messages and jobs resume", team_id, why)
    return True


def confirm_installed(
    database: Database, slack: SlackPort, why: str, team_id: str | None = None
) -> str | None:
    """Ask Slack whose token copbot holds (``auth.test``, before any transaction) and
    record that workspace, with its name, as installed. With ``team_id``, only if it is
    that one: a late retry of an event from before an uninstall resumes nothing. Returns
    the workspace, or None when Slack refused the token or could not be reached."""
    found = slack.identity()
    if found is None or (team_id is not None and found[0] != team_id):
        return None
    team, name = found
    with database.session() as session:
        workspace = ensure_workspace(session, team, name[:200])
        if name and not workspace.name:
            workspace.name = name[:200]
            session.add(workspace)
        mark_installed(session, team, why)
    return team


def uninstalled_teams(session: Session) -> set[str]:
    """Workspaces the app is not installed in now (and refresh this process's view)."""
    version = INSTALLS.version
    query = select(Workspace.team_id).where(col(Workspace.uninstalled_at).is_not(None))
    teams = set(session.exec(query))
    INSTALLS.replace(teams, version)
    return teams


def installed_teams(session: Session) -> list[str]:
    query = select(Workspace.team_id).where(col(Workspace.uninstalled_at).is_(None))
    return sorted(session.exec(query))


# Every scheduled run first asks which workspaces are held (a sandbox week replays
# thousands of runs; each asked the database twice). The answer is read once and kept
# for INSTALLS_FRESH_FOR seconds: an install or uninstall seen by this process
# (INSTALLS.version) is taken at once; one seen only by another process within that time.
INSTALLS_FRESH_FOR = 2.0


@dataclass(frozen=True)
class _Installs:
    database: Database
    version: int  # INSTALLS.version when read
    read_at: float  # time.monotonic()
    installed: frozenset[str]
    uninstalled: frozenset[str]


_installs: _Installs | None = None


def _read_installs(database: Database) -> _Installs:
    """Which workspaces the app is in and which it was removed from, from one query
    (repeated at most every INSTALLS_FRESH_FOR seconds), refreshing INSTALLS too."""
    global _installs
    known, version = _installs, INSTALLS.version
    if (
        known is not None
        and known.database is database
        and known.version == version
        and time.monotonic() - known.read_at < INSTALLS_FRESH_FOR
    ):
        return known
    read_at = time.monotonic()
    with database.session() as session:
        rows = session.exec(select(Workspace.team_id, Workspace.uninstalled_at)).all()
    uninstalled = frozenset(team for team, at in rows if at is not None)
    INSTALLS.replace(set(uninstalled), version)
    _installs = _Installs(
        database,
        version,
        read_at,
        frozenset(team for team, at in rows if at is None),
        uninstalled,
    )
    return _installs


def held_teams(database: Database) -> set[str]:
    """Workspaces whose scheduled work is held because the app is uninstalled."""
    return set(_read_installs(database).uninstalled)


def nothing_installed(database: Database) -> bool:
    """True when copbot knows workspaces and the app is installed in none of them: jobs
    that work across workspaces skip their run (for copbot's one bot token, the same)."""
    installs = _read_installs(database)
    return bool(installs.uninstalled) and not installs.installed


def community_settings(session: Session, team_id: str, settings: Settings) -> CommunitySettings:
    """What the leads chose in App Home, else the environment's defaults."""
    workspace = session.get(Workspace, team_id)
    return CommunitySettings(
        ideas_channel=(workspace and workspace.ideas_channel) or settings.copbot_ideas_channel,
        digest_channel=(workspace and workspace.digest_channel) or settings.copbot_digest_channel,
        timezone=(workspace and workspace.timezone) or settings.copbot_timezone,
        anonymity_min=(workspace and workspace.anonymity_min) or settings.copbot_anonymity_min,
        hub_channel=(workspace and workspace.hub_channel)
        or (workspace and workspace.digest_channel)
        or settings.copbot_digest_channel,
        retention=retention_of(workspace),
    )


def update_settings(
    session: Session,
    actor: Actor,
    settings: Settings,
    *,
    ideas_channel: str | None,
    digest_channel: str | None,
    timezone: str,
    anonymity_min: int,
    hub_channel: str | None = None,
    keep: Mapping[str, str | int | None] | None = None,
) -> CommunitySettings:
    actor.require(Role.LEAD, "change copbot's settings")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise UserError(
            f"“{timezone}” is not a time zone I know. Try one like Europe/London.",
            field="timezone",
        ) from None
    if anonymity_min < ANONYMITY_FLOOR:
        raise UserError(
            f"The anonymity minimum can't be below {ANONYMITY_FLOOR}: smaller groups "
            "could identify people.",
            field="anonymity_min",
        )
    before = community_settings(session, actor.team_id, settings)
    workspace = ensure_workspace(session, actor.team_id)
    workspace.ideas_channel = ideas_channel
    workspace.digest_channel = digest_channel
    workspace.hub_channel = hub_channel
    for name, days in _retention_days(keep or {}).items():
        setattr(workspace, f"keep_{name}_days", days)
    workspace.timezone = timezone
    workspace.anonymity_min = anonymity_min
    session.add(workspace)
    after = community_settings(session, actor.team_id, settings)
    audit.record(
        session,
        team_id=actor.team_id,
        actor_id=actor.user_id,
        action="settings.update",
        target="community settings",
        before=asdict(before),
        after=asdict(after),
    )
    return after


def _retention_days(keep: Mapping[str, str | int | None]) -> dict[str, int | None]:
    """Days typed for each retention limit; empty means the default."""
    found: dict[str, int | None] = {}
    for name, raw in keep.items():
        if raw in (None, ""):
            found[name] = None
            continue
        try:
            days = int(str(raw))
        except ValueError:
            raise UserError("Enter a whole number of days.", field=f"keep_{name}") from None
        if not LIMITS[0] <= days <= LIMITS[1]:
            raise UserError(
                f"Choose between {LIMITS[0]} and {LIMITS[1]} days.", field=f"keep_{name}"
            )
        found[name] = days
    return found
