"""Waiting for a reinstall: a change is never lost, whoever else is waiting."""

import threading
import time

from bot import workspaces
from bot.workspaces import InstallState, ensure_workspace
from storage import Database, Workspace, utcnow


def test_a_change_made_before_the_wait_begins_is_not_lost() -> None:
    """The deliverer checks auth.test, then waits; a reinstall noticed in between (and a
    second waiter that has already woken for it) must not leave it asleep."""
    state = InstallState()
    state.set("T1", uninstalled=True)
    seen = state.changes
    state.set("T1", uninstalled=False)  # the reinstall, while the deliverer was busy
    other = state.wait_for_change(seen, timeout=5)  # another waiter wakes for it first
    started = time.monotonic()
    assert state.wait_for_change(seen, timeout=5) == other
    assert time.monotonic() - started < 1


def test_waiters_wake_on_a_change_and_not_without_one() -> None:
    state = InstallState()
    seen = state.changes
    state.set("T1", uninstalled=False)  # installed already: not a change
    assert state.wait_for_change(seen, timeout=0.05) == seen
    woken: list[int] = []
    waiter = threading.Thread(target=lambda: woken.append(state.wait_for_change(seen, 10)))
    waiter.start()
    time.sleep(0.05)
    state.set("T1", uninstalled=True)
    waiter.join(timeout=5)
    assert woken == [seen + 1]


def test_jobs_see_an_uninstall_and_a_reinstall_at_once(database: Database) -> None:
    """The held workspaces are kept for a moment between scheduled runs; an uninstall or
    a reinstall this process records is seen by the next run all the same."""
    with database.session() as session:
        ensure_workspace(session, "T1")
    assert workspaces.held_teams(database) == set()
    assert not workspaces.nothing_installed(database)
    with database.session() as session:
        workspaces.mark_uninstalled(session, "T1", "app_uninstalled")
    assert workspaces.held_teams(database) == {"T1"}
    assert workspaces.nothing_installed(database)
    with database.session() as session:
        workspaces.mark_installed(session, "T1", "a signed request")
    assert workspaces.held_teams(database) == set()
    assert not workspaces.nothing_installed(database)


def test_an_uninstall_recorded_elsewhere_is_seen_within_seconds(database: Database) -> None:
    """Another process (a worker) recorded the uninstall: read again once the kept answer
    is older than INSTALLS_FRESH_FOR."""
    with database.session() as session:
        ensure_workspace(session, "T1")
    assert workspaces.held_teams(database) == set()
    with database.session() as session:
        workspace = session.get(Workspace, "T1")
        assert workspace is not None
        workspace.uninstalled_at = utcnow()
        session.add(workspace)
    time.sleep(workspaces.INSTALLS_FRESH_FOR + 0.1)
    assert workspaces.held_teams(database) == {"T1"}
    assert workspaces.nothing_installed(database)
