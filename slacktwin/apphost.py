"""Serve a Bolt ``App`` over real HTTP on loopback, for tests and benchmarks of the twin.

The copbot app has its own server (``copbot serve``); this is the small stand-in used
to drive any Bolt app with ``SlackDriver`` without extra dependencies.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from slack_bolt import App


class BoltAppServer:
    """``POST /slack/events`` -> ``app.dispatch``; runs in a daemon thread."""

    def __init__(
        self, app: App, host: str = "127.0.0.1", port: int = 0, path: str = "/slack/events"
    ) -> None:
        from slack_bolt.request import BoltRequest

        bolt_app = app
        self.path = path

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8")
                if self.path.split("?")[0] != path:
                    self._answer(404, {}, b"not found")
                    return
                headers: dict[str, Any] = {k.lower(): [v] for k, v in self.headers.items()}
                response = bolt_app.dispatch(BoltRequest(body=body, headers=headers))
                out_headers = {
                    k: v[0] if isinstance(v, list) else v for k, v in response.headers.items()
                }
                self._answer(response.status, out_headers, (response.body or "").encode("utf-8"))

            def _answer(self, status: int, headers: dict[str, Any], body: bytes) -> None:
                self.send_response(status)
                for key, value in headers.items():
                    if key.lower() != "content-length":
                        self.send_header(key, str(value))
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}{self.path}"

    def start(self) -> BoltAppServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)

    def __enter__(self) -> BoltAppServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
