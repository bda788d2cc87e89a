"""Waiting for a reinstall: a change is never lost, whoever else is waiting."""

import threading
import time

from bot.workspaces import InstallState


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
