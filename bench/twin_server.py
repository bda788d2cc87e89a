"""The Slack twin in a process of its own, for ``bench/ack_latency.py``.

Runs ``slacktwin.SlackTwin`` on loopback with rate limits off, trigger_ids that stay
valid for an hour (the bench measures how late ``views.open`` comes instead of letting
it fail), and an optional delay on every Web API call to stand for Slack's own latency
(through the twin's fault injection: a "timeout" fault delays a call, then answers it).

Beside the twin's Web API it serves three routes for the bench:

- ``POST /bench/users``: ``{"users": [{"id", "name", "real_name"}]}`` adds people;
- ``POST /bench/triggers``: ``{"users": [id, ...]}`` returns one fresh trigger_id each;
- ``GET /bench/calls?since=K``: the calls after the K-th, with ``next`` to ask from.

It stops when its standard input closes (the bench ended or died) or on SIGTERM.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from slacktwin import SlackTwin

FOREVER = 10**9


def bench_routes(twin: SlackTwin) -> list[Route]:
    """The bench's control routes (served by the twin's own Starlette app)."""

    async def add_users(request: Request) -> Response:
        people = (await request.json())["users"]
        for person in people:
            twin.add_user(person["id"], name=person["name"], real_name=person["real_name"])
        return JSONResponse({"ok": True, "users": len(people)})

    async def issue_triggers(request: Request) -> Response:
        users = (await request.json())["users"]
        triggers = [twin.ws.issue_trigger(user, "home") for user in users]
        return JSONResponse({"ok": True, "triggers": triggers})

    async def calls(request: Request) -> Response:
        since = int(request.query_params.get("since", "0"))
        every = twin.calls
        found: list[dict[str, Any]] = [
            {
                "method": call.method,
                "ok": call.ok,
                "error": call.error,
                "trigger_id": call.args.get("trigger_id"),
                "at": call.at,
            }
            for call in every[since:]
        ]
        return JSONResponse({"calls": found, "next": len(every)})

    return [
        Route("/bench/users", add_users, methods=["POST"]),
        Route("/bench/triggers", issue_triggers, methods=["POST"]),
        Route("/bench/calls", calls, methods=["GET"]),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--team", default="T0BENCH01")
    parser.add_argument("--token", required=True)
    parser.add_argument("--signing-secret", required=True)
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="delay before every Web API answer"
    )
    args = parser.parse_args(argv)

    twin = SlackTwin(
        team_id=args.team,
        team_name="Bench ICS",
        bot_token=args.token,
        signing_secret=args.signing_secret,
        rate_limits=False,
        trigger_ttl=3600.0,
        port=args.port,
    )
    if args.latency_ms > 0:
        twin.fail("*", timeout=args.latency_ms / 1000.0, times=FOREVER)
    twin.server.app.router.routes[:0] = bench_routes(twin)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())

    def watch_stdin() -> None:
        sys.stdin.read()
        done.set()

    threading.Thread(target=watch_stdin, name="stdin-watch", daemon=True).start()
    twin.start()
    try:
        while not done.wait(0.5):
            pass
    finally:
        twin.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
