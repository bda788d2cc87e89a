"""Keep the sandbox's conversations across restarts.

copbot's data lives in its database; what people saw in Slack lives in the twin. The
sandbox writes the twin's conversations (channels, DMs, group DMs, their messages and
threads), ephemeral messages, App Home views and files to one JSON file under var/ and
reads them back at the next start, so old cards can still be pressed.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from slacktwin import SlackTwin
from slacktwin.state import Channel, FileRecord, ts_key

log = logging.getLogger(__name__)

FORMAT = 1


def snapshot(twin: SlackTwin) -> dict[str, Any]:
    """What a person could see, as plain JSON."""
    ws = twin.ws
    with ws.lock:
        home_ids = set(ws.home_views.values())
        return {
            "format": FORMAT,
            "team_id": ws.team_id,
            "channels": [asdict(channel) for channel in ws.channels.values()],
            "ephemerals": ws.ephemerals,
            "home_views": dict(ws.home_views),
            "views": {v: ws.views[v] for v in home_ids if v in ws.views},
            "files": [
                {
                    **{k: v for k, v in asdict(record).items() if k != "content"},
                    "content": base64.b64encode(record.content or b"").decode("ascii"),
                }
                for record in ws.files.values()
                if record.completed
            ],
        }


def save(twin: SlackTwin, path: Path) -> None:
    """Write atomically: a crash mid-write leaves the previous file."""
    data = json.dumps(snapshot(twin), default=str)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(data, encoding="utf-8")
    os.replace(partial, path)


def restore(twin: SlackTwin, path: Path) -> bool:
    """Load a saved snapshot into a new twin; False (and nothing changed) when there is
    none or it is unreadable or from another workspace."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False
    except (OSError, ValueError) as error:
        log.warning("the sandbox's saved conversations in %s are unreadable: %s", path, error)
        return False
    if data.get("format") != FORMAT or data.get("team_id") != twin.team_id:
        return False
    ws = twin.ws
    with ws.lock:
        latest = "0.000000"
        for raw in data.get("channels", []):
            channel = Channel(**raw)
            members = [m for m in channel.members if m in ws.users]
            channel.members = members
            existing = ws.channels.get(channel.id)
            if existing is not None and not (channel.is_im or channel.is_mpim):
                existing.messages = channel.messages
            else:
                ws.channels[channel.id] = channel
            for message in channel.messages:
                latest = max(latest, str(message.get("ts", "0")), key=ts_key)
        ws.ephemerals[:] = data.get("ephemerals", [])
        for record in ws.ephemerals:
            latest = max(latest, str(record.get("ts", "0")), key=ts_key)
        ws.views.update(data.get("views", {}))
        for user_id, view_id in data.get("home_views", {}).items():
            if view_id in ws.views:
                ws.home_views[user_id] = view_id
                ws.view_users[view_id] = user_id
        for raw in data.get("files", []):
            content = base64.b64decode(raw.pop("content", ""))
            record = FileRecord(**raw, content=content)
            ws.files[record.id] = record
        seconds, micros = ts_key(latest)
        clock = ws.clock
        clock._last = max(clock._last, seconds * 1_000_000 + micros)
    return True
