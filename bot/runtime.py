"""The scheduled path of one copbot process: the scheduler (jobs run on the leader only)
and an outbox deliverer. ``copbot serve`` runs both beside the web app unless told not
to; ``copbot worker`` runs only these; the sandbox and the tests run them too."""

from __future__ import annotations

import logging
import threading

from bot import housekeeping, members, redaction, workspaces
from bot.config import Settings
from bot.exchange import jobs as exchange_jobs
from bot.ideas import jobs as ideas_jobs
from bot.learning import jobs as learning_jobs
from bot.nudges import jobs as nudges_jobs
from bot.platform.outbox import Deliverer, DeliveryHalted, default_worker_id
from bot.platform.scheduling import Scheduling, standing_jobs
from bot.privacy import jobs as privacy_jobs
from bot.pulse import jobs as pulse_jobs
from bot.slack import WebClientPort, make_web_client
from storage import Database

log = logging.getLogger("copbot.runtime")

# Imported so their jobs register (@job); whoever leads keeps each standing one stored.
JOB_MODULES = (
    exchange_jobs,
    housekeeping,
    ideas_jobs,
    learning_jobs,
    nudges_jobs,
    privacy_jobs,
    pulse_jobs,
)


class Runtime:
    """``cold_start`` (default: in the process that runs scheduled jobs, i.e. ``copbot
    serve`` without ``--no-scheduler``, ``copbot worker`` and Socket Mode) checks the token
    with ``auth.test`` at start, records the workspace as installed, and reads the whole
    directory when it never has been read (a fresh install), so day one reaches everyone.
    (Any process also reads it the first time an audience needs it: ``bot.members``.)
    ``install_check_seconds`` is how often the process re-reads which workspaces are
    uninstalled and, while delivery is halted because Slack refused the token, tries
    ``auth.test`` again (a reinstall also wakes it at once). ``manual_jobs`` (the sandbox)
    keeps the jobs but runs them only when its movable clock is moved."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        *,
        run_jobs: bool = True,
        deliver: bool = True,
        poll_seconds: float = 5.0,
        idle_seconds: float = 1.0,
        cold_start: bool | None = None,
        install_check_seconds: float = 30.0,
        directory_pause: float = members.TIER2_PAUSE,
        manual_jobs: bool = False,
    ) -> None:
        self.settings = settings
        self.database = database
        self.deliver = deliver
        self.idle_seconds = idle_seconds
        self.cold_start = run_jobs if cold_start is None else cold_start
        self.install_check_seconds = install_check_seconds
        self.directory_pause = directory_pause
        self.scheduling = Scheduling(
            database,
            settings,
            run_jobs=run_jobs,
            jobs=standing_jobs(settings.copbot_timezone),
            slack_port_factory=self.slack_port,
            poll_seconds=poll_seconds,
            manual=manual_jobs,
        )
        self._stop = threading.Event()
        self._deliverer: Deliverer | None = None
        self._delivery: threading.Thread | None = None
        self._watch: threading.Thread | None = None
        self._deliver_stop = threading.Event()
        self.cold_started = threading.Event()

    def slack_port(self) -> WebClientPort:
        return WebClientPort(
            make_web_client(self.settings.slack_bot_token, self.settings.slack_api_url)
        )

    def start(self) -> Runtime:
        redaction.warm_up()  # Presidio takes seconds to build: not on the first request
        self._refresh_installs()
        self.scheduling.start()
        if self.deliver:
            self._deliverer = self._new_deliverer()
            self._delivery = threading.Thread(
                target=self._deliver_forever, name="copbot-outbox", daemon=True
            )
            self._delivery.start()
        self._watch = threading.Thread(
            target=self._watch_installs, name="copbot-installs", daemon=True
        )
        self._watch.start()
        return self

    def _new_deliverer(self) -> Deliverer:
        client = make_web_client(self.settings.slack_bot_token, self.settings.slack_api_url)
        return Deliverer(
            self.database, client, worker_id=default_worker_id(), idle_interval=self.idle_seconds
        )

    # ------------------------------------------------------------------ install lifecycle

    def _refresh_installs(self) -> None:
        try:
            with self.database.session() as session:
                workspaces.uninstalled_teams(session)
        except Exception:
            log.exception("could not read which workspaces are installed")

    def check_token(self) -> str | None:
        """``auth.test``: the token's workspace, recorded as installed, or None if Slack
        refused the token (uninstalled, revoked) or could not be reached."""
        if not self.settings.slack_bot_token:
            return None
        return workspaces.confirm_installed(self.database, self.slack_port(), "auth.test succeeded")

    def _cold_start(self) -> None:
        try:
            team_id = self.check_token()
            if team_id is not None:
                members.read_directory_if_needed(
                    self.database,
                    team_id,
                    self.slack_port(),
                    self.settings,
                    pause=self.directory_pause,
                )
        except Exception:
            log.exception("cold start: could not read the directory; the nightly sync will")
        finally:
            self.cold_started.set()

    def _watch_installs(self) -> None:
        """Cold start, then keep this process's view of uninstalled workspaces fresh."""
        if self.cold_start:
            self._cold_start()
        else:
            self.cold_started.set()
        seen = workspaces.INSTALLS.changes
        while not self._stop.is_set():
            seen = workspaces.INSTALLS.wait_for_change(seen, self.install_check_seconds)
            if self._stop.is_set():
                return
            self._refresh_installs()

    def _deliver_forever(self) -> None:
        """Deliver until stopped. When Slack refuses the token (the app was uninstalled or
        its token revoked) delivery halts with the messages still queued; it resumes with a
        fresh deliverer once ``auth.test`` succeeds again, checked when a reinstall is
        noticed and every ``install_check_seconds``."""
        while not self._stop.is_set():
            assert self._deliverer is not None
            # Each deliverer gets its own stop event (closing a halted one sets it), so
            # only ``stop()`` ends this loop.
            self._deliver_stop = threading.Event()
            if self._stop.is_set():
                return
            try:
                self._deliverer.run_forever(self._deliver_stop)
                return
            except DeliveryHalted as error:
                log.warning("outbox: %s; waiting for the app to be installed again", error)
            except Exception:
                log.exception("outbox delivery stopped")
                return
            self._deliverer.close()
            # Counted before the first check: a reinstall noticed at any moment after it
            # (even while auth.test is being asked) wakes the wait below at once.
            seen = workspaces.INSTALLS.changes
            while self.check_token() is None:
                if self._stop.wait(min(1.0, self.install_check_seconds)):
                    return
                seen = workspaces.INSTALLS.wait_for_change(seen, self.install_check_seconds)
                if self._stop.is_set():
                    return
            self._deliverer = self._new_deliverer()

    def stop(self) -> None:
        self._stop.set()
        self._deliver_stop.set()
        workspaces.INSTALLS.wake()
        if self._delivery is not None:
            self._delivery.join(timeout=30)
        if self._deliverer is not None:
            self._deliverer.close()
        if self._watch is not None:
            self._watch.join(timeout=10)
        self.scheduling.stop()
