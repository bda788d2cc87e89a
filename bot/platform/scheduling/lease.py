"""One leader among copbot's processes: the holder of a PostgreSQL advisory lock.

Only the leader runs scheduled jobs. The lock lives on a dedicated connection; when the
leader dies its connection closes and PostgreSQL releases the lock. On SQLite the single
process is the leader.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import NullPool

if TYPE_CHECKING:
    from storage import Database

log = logging.getLogger("copbot.scheduling")

LEASE_KEY = "copbot-scheduler"
DEFAULT_POLL_SECONDS = 5.0

# The lease connection gives up on a dead network (client side, ~10 s) before PostgreSQL
# drops a silent leader's session and its lock (server side, ~10 + 4 x 5 = 30 s), so an
# old leader has stepped down before a new one can take over, and takeover stays < 60 s.
_LEASE_CONNECT_ARGS: dict[str, Any] = {
    "application_name": "copbot-leader",
    "connect_timeout": 5,
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 2,
    "tcp_user_timeout": 10_000,
}
_LEASE_SERVER_OPTIONS = (
    "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=4 "
    "-c statement_timeout=5000"
)


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_try_advisory_lock`` (Python's hash() is salted)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def _noop() -> None:
    return None


class LeaderLease:
    """Exactly one process leads: the holder of a PostgreSQL session-level advisory lock.

    The lock is held on a dedicated connection (its own unpooled engine, never the request
    pool). A thread checks every ``poll_seconds``: a follower tries to take the lock; the
    leader checks it still holds it, and steps down (``on_follow``) the moment its connection
    fails, then contends again. When a leader dies its connection closes, PostgreSQL releases
    the lock, and a follower takes over at its next poll. On SQLite the process always leads.

    ``on_lead``/``on_follow`` run on the lease thread (the first attempt in ``start()``);
    ``on_tick`` runs after each poll that confirms the lease.
    """

    def __init__(
        self,
        database: Database,
        key: str = LEASE_KEY,
        on_lead: Callable[[], None] | None = None,
        on_follow: Callable[[], None] | None = None,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        on_tick: Callable[[], None] | None = None,
    ) -> None:
        if poll_seconds <= 0:
            raise ValueError("poll_seconds must be positive")
        self.database = database
        self.key = key
        self.lock_id = advisory_key(key)
        self.poll_seconds = poll_seconds
        self._on_lead = on_lead or _noop
        self._on_follow = on_follow or _noop
        self._on_tick = on_tick or _noop
        self._uses_lock = database.dialect == "postgresql"
        self._engine: Engine | None = None
        self._connection: Connection | None = None
        self._backend_pid: int | None = None
        self._leader = False
        self._unreachable = False
        self._mutex = threading.RLock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def is_leader(self) -> bool:
        return self._leader

    @property
    def backend_pid(self) -> int | None:
        """The PostgreSQL backend holding (or trying for) the lock, for logs and tests."""
        return self._backend_pid

    def start(self) -> LeaderLease:
        if self._thread is not None:
            raise RuntimeError("the leader lease is already running")
        self._stopping.clear()
        self.tick()
        self._thread = threading.Thread(target=self._run, name="copbot-leader-lease", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop polling; a leader steps down and releases the lock for the next process."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=self.poll_seconds + 15)
            self._thread = None
        with self._mutex:
            if self._leader:
                self._step_down("stopping")
            self._close()
            if self._engine is not None:
                self._engine.dispose()
                self._engine = None

    def tick(self) -> bool:
        """One round: keep, lose or take the lease. Returns whether this process leads."""
        with self._mutex:
            if self._leader:
                if self._holds():
                    self._call(self._on_tick, "on_tick")
                else:
                    self._step_down("lost the lease connection")
            elif self._acquire():
                self._leader = True
                how = f"advisory lock, backend {self._backend_pid}" if self._uses_lock else "SQLite"
                log.info("pid %s is the scheduler leader (%s)", os.getpid(), how)
                try:
                    self._on_lead()
                except Exception:
                    log.exception("starting as leader failed; releasing the lease")
                    self._step_down("on_lead failed")
                else:
                    self._call(self._on_tick, "on_tick")
            return self._leader

    def _run(self) -> None:
        while not self._stopping.wait(self.poll_seconds):
            try:
                self.tick()
            except Exception:  # the lease thread must outlive any one bad round
                log.exception("leader lease round failed")

    def _acquire(self) -> bool:
        if not self._uses_lock:
            return True
        try:
            connection = self._connect()
            taken = connection.execute(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self.lock_id}
            ).scalar()
        except Exception as error:
            self._close()
            if not self._unreachable:
                log.warning("leader lease: database unreachable (%s); will retry", brief(error))
            self._unreachable = True
            return False
        self._unreachable = False
        return bool(taken)

    def _holds(self) -> bool:
        """Ask PostgreSQL whether this session still holds the lock (not merely connects)."""
        if not self._uses_lock:
            return True
        if self._connection is None:
            return False
        try:
            held = self._connection.execute(
                text(
                    "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
                    "AND granted AND pid = pg_backend_pid() AND objsubid = 1 "
                    "AND classid::bigint = :high AND objid::bigint = :low)"
                ),
                {"high": (self.lock_id >> 32) & 0xFFFFFFFF, "low": self.lock_id & 0xFFFFFFFF},
            ).scalar()
        except Exception as error:
            log.warning("leader lease: lease connection failed (%s)", brief(error))
            self._close()
            return False
        return bool(held)

    def _step_down(self, reason: str) -> None:
        self._leader = False
        log.warning("pid %s stops leading the scheduler: %s", os.getpid(), reason)
        self._call(self._on_follow, "on_follow")
        if self._uses_lock and self._connection is not None:
            try:
                self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": self.lock_id}
                )
            except Exception:
                self._close()

    def _connect(self) -> Connection:
        if self._connection is None:
            if self._engine is None:
                self._engine = _lease_engine(self.database)
            self._connection = self._engine.connect()
            self._backend_pid = self._connection.execute(text("SELECT pg_backend_pid()")).scalar()
        return self._connection

    def _close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:
                log.debug("closing the lease connection failed", exc_info=True)
        self._connection = None
        self._backend_pid = None

    @staticmethod
    def _call(callback: Callable[[], None], name: str) -> None:
        try:
            callback()
        except Exception:
            log.exception("leader lease %s callback failed", name)


def _lease_engine(database: Database) -> Engine:
    """An unpooled autocommit engine: one long-lived session, never idle in a transaction."""
    url = database.engine.url
    connect_args = dict(_LEASE_CONNECT_ARGS)
    given = url.query.get("options")
    connect_args["options"] = f"{given} {_LEASE_SERVER_OPTIONS}" if given else _LEASE_SERVER_OPTIONS
    return create_engine(
        url, poolclass=NullPool, isolation_level="AUTOCOMMIT", connect_args=connect_args
    )


def brief(error: BaseException) -> str:
    first = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__
