"""The sandbox in a browser: a Slack-like page for the twin, on 127.0.0.1."""

from __future__ import annotations

import contextlib
import socket
import sys
import threading
import webbrowser
from typing import TextIO

from bot.config import Settings
from sandbox.clock import TICK_SECONDS
from sandbox.web.app import create_app
from sandbox.web.site import Site

DEFAULT_PORT = 8765


def listen(host: str, wanted: int) -> socket.socket:
    """A socket listening on ``wanted``, or on any free port when that one is taken: bound
    before the URL is printed, so whoever reads the URL can connect at once."""
    for port in (wanted, 0):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((host, port))
        except OSError:
            sock.close()
            continue
        sock.listen(128)
        return sock
    raise OSError("no free port on this machine")


def open_browser(url: str) -> None:
    """Open the page when a browser is available; never fail when none is."""
    with contextlib.suppress(Exception):  # no display, no browser: the URL is printed
        webbrowser.open(url, new=2)


def serve(
    settings: Settings,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    browser: bool = True,
    out: TextIO = sys.stdout,
) -> int:
    import uvicorn

    print("copbot sandbox: starting the Slack twin, copbot and the demo community…", file=out)
    out.flush()
    site = Site(settings, tick=TICK_SECONDS)
    sock = listen(host, port)
    url = f"http://{host}:{sock.getsockname()[1]}/"
    server = uvicorn.Server(uvicorn.Config(create_app(site), log_level="warning", lifespan="off"))
    try:
        print(
            f"\ncopbot sandbox is ready: open {url}\n"
            "Act as anyone in the demo community, post an idea, move the clock.\n"
            "Nothing leaves this machine. Press Ctrl+C to stop (the conversations are kept).\n",
            file=out,
        )
        out.flush()
        if browser:
            threading.Thread(target=open_browser, args=(url,), daemon=True).start()
        server.run(sockets=[sock])
    finally:
        sock.close()
        site.close()
    return 0


__all__ = ["DEFAULT_PORT", "Site", "create_app", "serve"]
