"""Run a Bolt ``App`` against the twin: over real HTTP on loopback, or in Socket Mode.

The copbot app has its own server (``copbot serve``) and its own Socket Mode runner
(``copbot run``); these are the small stand-ins used to drive any Bolt app with
``SlackDriver`` without extra dependencies.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from slack_bolt import App
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk import WebClient

    from slacktwin.twin import SlackTwin


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


class SocketModeApp:
    """A Bolt app connected to the twin over Socket Mode with slack_sdk's builtin client.

    ``start`` builds ``SocketModeHandler(app, app_token)`` and calls ``connect()`` (not the
    blocking ``start()``), then waits until the twin has the connection. The handler asks
    apps.connections.open through ``web_client``, by default ``app.client``, so build the
    app with a client whose base URL is ``twin.api_url``, as copbot does from
    ``SLACK_API_URL``.
    """

    def __init__(
        self,
        app: App,
        twin: SlackTwin,
        *,
        app_token: str | None = None,
        web_client: WebClient | None = None,
        **handler_options: Any,
    ) -> None:
        self.app = app
        self.twin = twin
        self.app_token = app_token or twin.app_token
        self.web_client = web_client
        self.handler_options = handler_options
        self.handler: SocketModeHandler | None = None

    def start(self, timeout: float = 5.0) -> SocketModeApp:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        if not self.app_token:
            raise ValueError("no app-level token: SlackTwin(app_token=...) or app_token=")
        self.handler = SocketModeHandler(
            self.app, self.app_token, web_client=self.web_client, **self.handler_options
        )
        self.handler.connect()
        self.twin.socket_mode.wait_for_connection(timeout)
        return self

    def stop(self) -> None:
        if self.handler is not None:
            close_socket_mode(self.handler)
            self.handler = None

    def __enter__(self) -> SocketModeApp:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def close_socket_mode(handler: SocketModeHandler) -> None:
    """Close a builtin Socket Mode handler in milliseconds instead of up to 4 seconds.

    ``SocketModeClient.close()`` waits for its receive thread, blocked up to 3 s in
    ``recv`` on an idle socket, and its message thread, polling a queue every second.
    Stop reconnecting, shut the socket (``recv`` returns at once) and wake the queue,
    then close as usual.
    """
    client = handler.client
    client.auto_reconnect_enabled = False
    client.closed = True
    client.current_session_state.terminated = True
    session = client.current_session
    sock = session.sock if session is not None else None
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)
    client.message_queue.put(None)  # process_message skips None
    handler.close()
