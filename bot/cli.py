"""The ``copbot`` command (and ``python -m bot``).

This is the composition root: it is the one place in ``bot`` that reaches up into
``handlers`` (lazily, per command) to wire the Slack surface to the core.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path

from bot import logs
from bot.config import ConfigError, Settings, load_settings, require

log = logging.getLogger("copbot")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="copbot", description="copbot: a Slack app for improvement communities of practice"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", help="the main job: Socket Mode, HTTP or the sandbox, by settings")
    serve = commands.add_parser("serve", help="HTTP mode: POST /slack/events, /healthz, /metrics")
    serve.add_argument("--host", default="0.0.0.0")
    serve.add_argument("--port", type=int, default=3000)
    serve.add_argument(
        "--no-scheduler", action="store_true", help="leave scheduled work to `copbot worker`"
    )
    sandbox_cmd = commands.add_parser(
        "sandbox", help="copbot against a local Slack twin with a demo community, in a web page"
    )
    sandbox_cmd.add_argument(
        "--terminal", action="store_true", help="the terminal sandbox instead of the web page"
    )
    sandbox_cmd.add_argument("--port", type=int, default=8765, help="the page's port on 127.0.0.1")
    sandbox_cmd.add_argument(
        "--no-browser", action="store_true", help="print the page's URL without opening a browser"
    )
    commands.add_parser("migrate", help="apply database migrations")
    seed = commands.add_parser("seed-demo", help="load a realistic demo community")
    seed.add_argument("--team", help="Slack team ID to seed (default: the bot token's team)")
    commands.add_parser("worker", help="scheduler and delivery only")
    copy_db = commands.add_parser(
        "copy-db", help="copy every table to another database (e.g. PostgreSQL) and verify"
    )
    copy_db.add_argument("--to", required=True, metavar="URL", help="the target database URL")
    commands.add_parser(
        "doctor", help="check a real install: token, granted scopes, channels; one line each"
    )
    args = parser.parse_args(argv)

    # Servers log JSON lines for collectors; commands people run at a terminal log text.
    logs.configure(json_lines=args.command in ("run", "serve", "worker"))
    actions: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
        "run": run,
        "serve": serve_http,
        "sandbox": sandbox,
        "migrate": migrate,
        "seed-demo": seed_demo,
        "worker": worker,
        "copy-db": copy_db_command,
        "doctor": doctor,
    }
    if args.command is None:
        parser.print_help()
        return 2
    from handlers.views import install as install_views

    install_views()  # jobs and use cases draw domain messages with the features' views
    try:
        return actions[args.command](load_settings(), args)
    except ConfigError as error:
        print(f"copbot: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0


def run(settings: Settings, args: argparse.Namespace) -> int:
    """Socket Mode with an app token, else HTTP with bot credentials, else the sandbox."""
    if settings.slack_app_token:
        return socket_mode(settings, args)
    if settings.has_http_credentials:
        return serve_http(settings, argparse.Namespace(host="0.0.0.0", port=3000))
    logs.configure(json_lines=False)  # the sandbox is for a person at a terminal
    return sandbox(settings, args)


def migrate(settings: Settings, _: argparse.Namespace) -> int:
    from storage import Database
    from storage.migrate import current_revision, upgrade

    database = Database(settings.database_url)
    upgrade(database)
    print(f"copbot: database is at revision {current_revision(database)}")
    return 0


def copy_db_command(settings: Settings, args: argparse.Namespace) -> int:
    from storage import Database
    from storage.copy import CopyError, copy_database
    from storage.migrate import upgrade

    source = Database(settings.database_url)
    upgrade(source)
    try:
        report = copy_database(source, Database(args.to), progress=log.info)
    except CopyError as error:
        print(f"copbot: {error}", file=sys.stderr)
        return 1
    for copied in report:
        print(f"{copied.table:32} {copied.source:>10} -> {copied.target:>10}  ok")
    print(f"copbot: copied {len(report)} tables; every row count matches")
    return 0


def doctor(settings: Settings, _: argparse.Namespace) -> int:
    """Check a real install; exit 1 when anything needs fixing."""
    from bot.doctor import run_checks
    from storage import Database

    database = Database(settings.database_url)
    try:
        findings = run_checks(settings, database)
    finally:
        database.dispose()
    for finding in findings:
        print(finding.line())
    problems = sum(not finding.ok for finding in findings)
    if problems:
        print(f"copbot doctor: {problems} problem{'s' if problems != 1 else ''} to fix")
        return 1
    print("copbot doctor: all good")
    return 0


def serve_http(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from bot.runtime import Runtime
    from handlers.app import build_app
    from handlers.web import create_web_app
    from storage import Database
    from storage.migrate import upgrade

    require(settings, "SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET")
    database = Database(settings.database_url)
    upgrade(database)
    scheduled = not getattr(args, "no_scheduler", False)
    runtime = Runtime(settings, database, run_jobs=scheduled, deliver=scheduled).start()
    try:
        app = build_app(settings, database, runtime=runtime)
        web = create_web_app(app, database, signing_secret=settings.slack_signing_secret or "")
        log.info("copbot is listening on http://%s:%s/slack/events", args.host, args.port)
        uvicorn.run(web, host=args.host, port=args.port, log_level="warning", lifespan="off")
    finally:
        runtime.stop()
    return 0


def socket_mode(settings: Settings, _: argparse.Namespace) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.runtime import Runtime
    from handlers.app import build_app
    from storage import Database
    from storage.migrate import upgrade

    require(settings, "SLACK_BOT_TOKEN", "SLACK_APP_TOKEN")
    database = Database(settings.database_url)
    upgrade(database)
    runtime = Runtime(settings, database).start()
    log.info("copbot is connecting to Slack in Socket Mode")
    try:
        app = build_app(settings, database, runtime=runtime)
        SocketModeHandler(app, settings.slack_app_token).start()
    finally:
        runtime.stop()
    return 0


def sandbox(settings: Settings, args: argparse.Namespace) -> int:
    """The web page on 127.0.0.1 (``--terminal``: the terminal sandbox)."""
    if getattr(args, "terminal", False):
        from sandbox import run_sandbox

        return run_sandbox(settings)
    from sandbox import quiet_logs
    from sandbox.web import DEFAULT_PORT, serve

    quiet_logs(Path("var/sandbox.log"))
    return serve(
        settings,
        port=getattr(args, "port", DEFAULT_PORT),
        browser=not getattr(args, "no_browser", False),
    )


def seed_demo(settings: Settings, args: argparse.Namespace) -> int:
    from bot import demo
    from storage import Database
    from storage.migrate import upgrade

    team_id = args.team or _team_of(settings) or demo.TEAM_ID
    database = Database(settings.database_url)
    upgrade(database)
    with database.session() as session:
        created = demo.seed(session, team_id)
    print(f"copbot: demo community ready in {team_id} ({created} members added)")
    return 0


def worker(settings: Settings, _: argparse.Namespace) -> int:
    """Scheduler and delivery only: beside any number of ``serve --no-scheduler``."""
    import signal
    import threading

    from bot.runtime import Runtime
    from storage import Database
    from storage.migrate import upgrade

    require(settings, "SLACK_BOT_TOKEN")
    if not (settings.slack_signing_secret or settings.slack_app_token):
        raise ConfigError(
            "SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN) is not set; the worker needs the same "
            "one as the web processes to open the sealed pulse answers when runs close"
        )
    database = Database(settings.database_url)
    upgrade(database)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    runtime = Runtime(settings, database).start()
    log.info("copbot worker is running (jobs run while this process leads)")
    try:
        stop.wait()
    finally:
        runtime.stop()
        database.dispose()
    return 0


def _team_of(settings: Settings) -> str | None:
    if not settings.slack_bot_token:
        return None
    from bot.slack import make_web_client

    client = make_web_client(settings.slack_bot_token, settings.slack_api_url)
    return str(client.auth_test()["team_id"])
