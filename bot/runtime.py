"""The scheduled path of one copbot process: the scheduler (jobs run on the leader only)
and an outbox deliverer. ``copbot serve`` runs both beside the web app unless told not
to; ``copbot worker`` runs only these; the sandbox and the tests run them too."""

from __future__ import annotations

import logging
import threading
from datetime import UTC

from apscheduler.triggers.interval import IntervalTrigger

from bot import jobs
from bot.config import Settings
from bot.outbox import Deliverer, default_worker_id
from bot.scheduling import JobSpec, Scheduling, daily_trigger, weekly_trigger
from bot.slack import WebClientPort, make_web_client
from storage import Database

log = logging.getLogger("copbot.runtime")


def standing_jobs(settings: Settings) -> list[JobSpec]:
    """Jobs that always exist, added by whichever process leads."""
    return [
        JobSpec(
            "copbot:heartbeat",
            jobs.HEARTBEAT,
            IntervalTrigger(minutes=5, timezone=UTC),
            name="Scheduler heartbeat",
        ),
        JobSpec(
            "ideas:challenge-steps",
            jobs.CHALLENGE_STEPS,
            IntervalTrigger(minutes=5, timezone=UTC),
            name="Challenges: announce, remind, close",
        ),
        JobSpec(
            "pulse:steps",
            jobs.PULSE_STEPS,
            IntervalTrigger(minutes=5, timezone=UTC),
            name="Pulses: remind, close, send results",
        ),
        JobSpec(
            "exchange:steps",
            jobs.EXCHANGE_STEPS,
            IntervalTrigger(minutes=15, timezone=UTC),
            name="Exchanges: propose, introduce, nudge, report stalled",
        ),
        JobSpec(
            "learning:weekly-digests",
            jobs.WEEKLY_DIGESTS,
            weekly_trigger("mon", "08:00", settings.copbot_timezone),
            name="Weekly learning digest previews (to leads)",
        ),
        JobSpec(
            "learning:unfinished-digests",
            jobs.UNFINISHED_DIGESTS,
            IntervalTrigger(minutes=1, timezone=UTC),
            name="Learning digests: finish any cut short",
        ),
        JobSpec(
            "copbot:retention",
            jobs.RETENTION,
            daily_trigger("02:30", settings.copbot_timezone),
            name="Retention: delete messages, audit entries and outbox rows past their limits",
        ),
        JobSpec(
            "members:profile-sync",
            jobs.PROFILE_SYNC,
            daily_trigger("03:00", settings.copbot_timezone),
            name="Profiles and time zones from Slack",
        ),
        JobSpec(
            "ideas:awaiting-review",
            jobs.IDEAS_AWAITING_REVIEW,
            weekly_trigger("mon", "09:00", settings.copbot_timezone),
            name="Ideas waiting for review (to leads)",
        ),
    ]


class Runtime:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        *,
        run_jobs: bool = True,
        deliver: bool = True,
        poll_seconds: float = 5.0,
        idle_seconds: float = 1.0,
    ) -> None:
        self.settings = settings
        self.database = database
        self.deliver = deliver
        self.idle_seconds = idle_seconds
        self.scheduling = Scheduling(
            database,
            settings,
            run_jobs=run_jobs,
            jobs=standing_jobs(settings),
            slack_port_factory=self.slack_port,
            poll_seconds=poll_seconds,
        )
        self._stop = threading.Event()
        self._deliverer: Deliverer | None = None
        self._delivery: threading.Thread | None = None

    def slack_port(self) -> WebClientPort:
        return WebClientPort(
            make_web_client(self.settings.slack_bot_token, self.settings.slack_api_url)
        )

    def start(self) -> Runtime:
        self.scheduling.start()
        if self.deliver:
            client = make_web_client(self.settings.slack_bot_token, self.settings.slack_api_url)
            self._deliverer = Deliverer(
                self.database,
                client,
                worker_id=default_worker_id(),
                idle_interval=self.idle_seconds,
            )
            self._delivery = threading.Thread(
                target=self._deliver_forever, name="copbot-outbox", daemon=True
            )
            self._delivery.start()
        return self

    def _deliver_forever(self) -> None:
        assert self._deliverer is not None
        try:
            self._deliverer.run_forever(self._stop)
        except Exception:
            log.exception("outbox delivery stopped")

    def stop(self) -> None:
        self._stop.set()
        if self._delivery is not None:
            self._delivery.join(timeout=30)
        if self._deliverer is not None:
            self._deliverer.close()
        self.scheduling.stop()
