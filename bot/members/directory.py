"""The workspace's directory (``users.list``) read into Member rows: at first start,
nightly, and when an audience names people it lacks; a page at a time at Tier 2's pace."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from datetime import timedelta

from sqlmodel import col, select

from bot.config import Settings
from bot.members.forgotten import forgotten
from bot.members.people import apply_profile, upsert_profile
from bot.slack import SlackPort
from bot.workspaces import INSTALLS, ensure_workspace
from storage import Database, Member, Workspace, utcnow

log = logging.getLogger("copbot.members")

# users.list is Tier 2 (20+ calls a minute): one page every 3 seconds stays inside it.
TIER2_PAUSE = 3.0
# A channel audience with people the directory lacks reads it again, at most this often.
RESYNC_AFTER = timedelta(minutes=1)


def sync_profiles(database: Database, team_id: str, slack: SlackPort) -> int:
    """Refresh every known member's cached profile (names, time zones, admin) from
    ``users.list``, a page at a time, each page in its own transaction, creating nobody.
    Returns how many were updated. (``sync_directory`` also adds the people copbot has
    not met.)"""
    return _read_directory(database, team_id, slack, None, create=False, pause=0.0)


def sync_directory(
    database: Database,
    team_id: str,
    slack: SlackPort,
    settings: Settings,
    *,
    pause: float = TIER2_PAUSE,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Read the whole directory (``users.list``, a page every ``pause`` seconds, Tier 2's
    pace) into Member rows: new people are created, known ones refreshed, deactivated ones
    marked; bots, Slackbot and people who asked to be forgotten are skipped. Each page is
    its own transaction; the workspace's ``directory_synced_at`` is set once the last page
    is in. Returns how many people were created or refreshed."""
    count = _read_directory(
        database, team_id, slack, settings, create=True, pause=pause, sleep=sleep
    )
    with database.session() as session:
        workspace = ensure_workspace(session, team_id)
        workspace.directory_synced_at = utcnow()
        session.add(workspace)
    log.info("directory sync: %s people in %s", count, team_id)
    return count


def _read_directory(
    database: Database,
    team_id: str,
    slack: SlackPort,
    settings: Settings | None,
    *,
    create: bool,
    pause: float,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    updated, cursor, first = 0, None, True
    while True:
        if not first and pause > 0:
            sleep(pause)
        first = False
        profiles, cursor = slack.list_users(cursor)
        by_id = {profile.user_id: profile for profile in profiles if not profile.is_bot}
        with database.session() as session:
            if create:
                assert settings is not None
                skip = forgotten(session, settings, team_id, by_id)
                for profile in by_id.values():
                    found = upsert_profile(session, team_id, profile, settings, skip)
                    updated += found is not None
            else:
                query = select(Member).where(
                    Member.team_id == team_id, col(Member.slack_user_id).in_(sorted(by_id))
                )
                for member in session.exec(query):
                    apply_profile(member, by_id[member.slack_user_id])
                    session.add(member)
                    updated += 1
        if not cursor:
            return updated


_reading: dict[str, threading.Lock] = {}
_reading_guard = threading.Lock()


def read_directory_if_needed(
    database: Database,
    team_id: str,
    slack: SlackPort,
    settings: Settings,
    channel_members: Iterable[str] = (),
    *,
    pause: float = TIER2_PAUSE,
) -> bool:
    """Read the directory when an audience needs it: never read yet (a fresh install), or
    ``channel_members`` names people it lacks and it was not read within ``RESYNC_AFTER``
    (people are created in bulk from ``users.list``, never one ``users.info`` each).

    This asks Slack, so call it before the transaction that uses the audience. One read
    per workspace at a time in this process: a caller arriving meanwhile waits for it.
    True if the directory has been read.
    """
    if INSTALLS.uninstalled(team_id):
        return False
    missing = _unknown(database, team_id, channel_members)
    if missing:  # a forgotten person in the channel is not a reason to read it again
        with database.session() as session:
            missing -= forgotten(session, settings, team_id, missing)
    with _reading_guard:
        lock = _reading.setdefault(team_id, threading.Lock())
    with lock:
        with database.session() as session:
            workspace = session.get(Workspace, team_id)
            synced = workspace.directory_synced_at if workspace else None
        if synced is not None and not (missing and synced < utcnow() - RESYNC_AFTER):
            return True
        try:
            sync_directory(database, team_id, slack, settings, pause=pause)
        except Exception:
            log.exception("directory sync of %s failed; it is tried again later", team_id)
            return False
        return True


def _unknown(database: Database, team_id: str, user_ids: Iterable[str]) -> set[str]:
    """Which of ``user_ids`` have no member row (looked up 500 at a time)."""
    wanted = sorted(set(user_ids))
    known: set[str] = set()
    with database.session() as session:
        for start in range(0, len(wanted), 500):
            query = select(Member.slack_user_id).where(
                Member.team_id == team_id,
                col(Member.slack_user_id).in_(wanted[start : start + 500]),
            )
            known.update(session.exec(query))
    return set(wanted) - known
