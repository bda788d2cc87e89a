"""The sandbox's web page over HTTP: a Slack-like client for the twin, on 127.0.0.1.

The page polls ``/api/version`` and redraws when anything changed, so work copbot does
later (a DM, a scheduled pulse) shows up without reloading. What a person does comes in
as JSON and goes to the ``Site``.
"""

from __future__ import annotations

import logging
import mimetypes
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from sandbox.web import screens
from sandbox.web.site import HOME, BadRequest, Site
from slacktwin.errors import TwinUsageError

log = logging.getLogger("copbot.sandbox.web")

STATIC = Path(__file__).parent / "static"


def create_app(site: Site) -> Starlette:
    async def page(_: Request) -> Response:
        return FileResponse(STATIC / "index.html", media_type="text/html")

    def people(_: Request) -> Response:
        return JSONResponse(
            {
                "team": site.world.twin.team_name,
                "people": [
                    {
                        "id": p.user_id,
                        "name": p.real_name,
                        "role": screens.role_of(p),
                        "title": p.title,
                    }
                    for p in site.world.people
                ],
                "shortcuts": site.global_shortcuts,
            }
        )

    def version(_: Request) -> Response:
        return JSONResponse({"version": site.version()})

    def screen(request: Request) -> Response:
        me = request.query_params.get("as", "")
        at = request.query_params.get("at", "")
        thread = request.query_params.get("thread") or None
        with site.lock:
            try:
                return JSONResponse(site.screen(me, at, thread))
            except BadRequest as error:
                return JSONResponse({"error": str(error)}, status_code=400)

    def file(request: Request) -> Response:
        found = site.world.twin.file(request.path_params["file_id"])
        if found is None:
            return HTMLResponse("<p>No such file.</p>", status_code=404)
        name = str(found.get("name") or "file")
        media = str(found.get("mimetype") or mimetypes.guess_type(name)[0] or "")
        headers = {"X-Content-Type-Options": "nosniff"}
        if not media.startswith("image/png") and not media.startswith("image/jpeg"):
            safe = "".join(c for c in name if c.isalnum() or c in "._-") or "download"
            headers["Content-Disposition"] = f'attachment; filename="{safe}"'
        return Response(found["content"] or b"", media_type=media or None, headers=headers)

    def action(
        handler: Callable[[dict[str, Any]], dict[str, Any] | None], person: bool = True
    ) -> Callable:
        async def endpoint(request: Request) -> Response:
            # Only this page may act: another site's form or script cannot send JSON here
            # without a CORS preflight (never granted), and a foreign Origin is refused.
            if request.headers.get("content-type", "").split(";")[0].strip() != (
                "application/json"
            ):
                return JSONResponse({"error": "Send JSON."}, status_code=415)
            origin = request.headers.get("origin")
            if origin and urlsplit(origin).netloc != request.headers.get("host"):
                return JSONResponse({"error": "Not from this page."}, status_code=403)
            try:
                body = await request.json()
            except ValueError:
                return JSONResponse({"error": "Send JSON."}, status_code=400)
            if not isinstance(body, dict):
                return JSONResponse({"error": "Send a JSON object."}, status_code=400)

            def run() -> Response:
                with site.lock:
                    if person and not isinstance(body.get("as"), str):
                        raise BadRequest("Say who you are acting as.")
                    if person:
                        site.person(body["as"])
                    answer = handler(body) or {}
                    return JSONResponse({"ok": True, **answer})

            try:
                return await run_in_threadpool(run)
            except BadRequest as error:
                return JSONResponse({"error": str(error)}, status_code=400)
            except (TwinUsageError, LookupError, KeyError, ValueError, TypeError) as error:
                log.info("the sandbox refused an action: %s", error)
                return JSONResponse({"error": f"That did not work: {error}"}, status_code=400)

        return endpoint

    def do_open(body: dict[str, Any]) -> dict[str, Any]:
        me, at = str(body["as"]), str(body.get("at", ""))
        if at == HOME:
            site.open_home(me)
        else:
            site.mark_seen(me, at)
            site.bump()
        return {}

    def do_seen(body: dict[str, Any]) -> dict[str, Any]:
        site.mark_seen(str(body["as"]), str(body.get("at", "")))
        return {}

    def do_send(body: dict[str, Any]) -> dict[str, Any]:
        notice = site.send(
            str(body["as"]), str(body.get("at", "")), str(body.get("text", "")), body.get("thread")
        )
        return {"notice": notice} if notice else {}

    def do_act(body: dict[str, Any]) -> dict[str, Any]:
        where = body.get("where") or {}
        control = body.get("control") or {}
        if not isinstance(where, dict) or not isinstance(control, dict):
            raise BadRequest("Say where the control is and which it is.")
        site.act(str(body["as"]), where, control)
        return {}

    def do_submit(body: dict[str, Any]) -> dict[str, Any]:
        values = body.get("values") or {}
        if not isinstance(values, dict):
            raise BadRequest("Send the form's values as an object.")
        return {"errors": site.submit(str(body["as"]), str(body.get("view", "")), values)}

    def do_close(body: dict[str, Any]) -> dict[str, Any]:
        site.close_modal(str(body["as"]), str(body.get("view", "")))
        return {}

    def do_shortcut(body: dict[str, Any]) -> dict[str, Any]:
        site.shortcut(
            str(body["as"]),
            str(body.get("callback_id", "")),
            body.get("channel"),
            body.get("ts"),
        )
        return {}

    def do_react(body: dict[str, Any]) -> dict[str, Any]:
        site.react(
            str(body["as"]),
            str(body.get("channel", "")),
            str(body.get("ts", "")),
            str(body.get("name", "")),
        )
        return {}

    def do_jump(body: dict[str, Any]) -> dict[str, Any]:
        started = time.monotonic()
        ran = site.jump(str(body.get("to", "")))
        return {"ran": ran, "seconds": round(time.monotonic() - started, 1)}

    def do_reset(_: dict[str, Any]) -> dict[str, Any]:
        site.reset()
        return {}

    routes = [
        Route("/", page),
        Route("/api/people", people),
        Route("/api/version", version),
        Route("/api/screen", screen),
        Route("/files/{file_id}", file),
        Route("/files/{file_id}/{name}", file),
        Route("/api/open", action(do_open), methods=["POST"]),
        Route("/api/seen", action(do_seen), methods=["POST"]),
        Route("/api/send", action(do_send), methods=["POST"]),
        Route("/api/act", action(do_act), methods=["POST"]),
        Route("/api/submit", action(do_submit), methods=["POST"]),
        Route("/api/close", action(do_close), methods=["POST"]),
        Route("/api/shortcut", action(do_shortcut), methods=["POST"]),
        Route("/api/react", action(do_react), methods=["POST"]),
        Route("/api/jump", action(do_jump, person=False), methods=["POST"]),
        Route("/api/reset", action(do_reset, person=False), methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    # The page answers on loopback names only (no DNS rebinding to reach it).
    local = TrustedHostMiddleware
    return Starlette(
        routes=routes,
        middleware=[Middleware(local, allowed_hosts=["127.0.0.1", "localhost", "[::1]"])],
    )
