"""Web API methods the twin implements, with Slack's arguments, errors and answer shapes.

Each handler takes the workspace and the request's ``Args`` and returns the JSON answer
(without ``"ok": true``, which the dispatcher adds) or raises ``ApiError``. Handlers run
under the workspace lock. Here: auth, team, users, views and files; chat.*, reactions.*
and response_url in ``slacktwin.chat``, conversations.* in ``slacktwin.conversations``,
the registry and ``Args`` in ``slacktwin.registry``. This module's names are the API
the server uses.
"""

from __future__ import annotations

import contextlib
import copy
import time
from typing import Any

from slacktwin import conversations  # noqa: F401  (registers conversations.*)
from slacktwin.chat import apply_response, use_response_url
from slacktwin.errors import ApiError
from slacktwin.registry import HANDLERS, JSON_ARGS, Args, method, paginate
from slacktwin.state import Workspace
from slacktwin.validation import validate_view

__all__ = ["HANDLERS", "JSON_ARGS", "Args", "apply_response", "use_response_url"]


# ---------------------------------------------------------------------- auth, team, users


@method("auth.test")
def auth_test(ws: Workspace, a: Args) -> dict[str, Any]:
    return {
        "url": f"https://{ws.team_domain}.slack.com/",
        "team": ws.team_name,
        "user": ws.bot_name,
        "team_id": ws.team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


@method("apps.connections.open")
def apps_connections_open(ws: Workspace, a: Args) -> dict[str, Any]:
    """Socket Mode's websocket URL; the dispatcher has already required an app-level token."""
    return {"url": ws.issue_socket_url()}


@method("team.info")
def team_info(ws: Workspace, a: Args) -> dict[str, Any]:
    team = a.text("team")
    if team and team != ws.team_id:
        raise ApiError("team_not_found")
    icon = "https://avatars.slack-twin.invalid/team"
    return {
        "team": {
            "id": ws.team_id,
            "name": ws.team_name,
            "domain": ws.team_domain,
            "email_domain": "",
            "icon": {
                "image_34": f"{icon}_34.png",
                "image_44": f"{icon}_44.png",
                "image_68": f"{icon}_68.png",
                "image_88": f"{icon}_88.png",
                "image_102": f"{icon}_102.png",
                "image_132": f"{icon}_132.png",
                "image_230": f"{icon}_230.png",
                "image_default": True,
            },
            "is_verified": False,
            "url": f"https://{ws.team_domain}.slack.com/",
            "avatar_base_url": "https://avatars.slack-twin.invalid/",
            "lob_sales_home_enabled": False,
            "locale": "en-GB",
        }
    }


@method("bots.info")
def bots_info(ws: Workspace, a: Args) -> dict[str, Any]:
    bot = a.text("bot") or ws.bot_id
    if bot != ws.bot_id:
        raise ApiError("bot_not_found")
    profile = ws.bot_profile()
    return {
        "bot": {
            "id": ws.bot_id,
            "deleted": False,
            "name": ws.bot_name,
            "updated": ws.created,
            "app_id": ws.app_id,
            "user_id": ws.bot_user_id,
            "icons": profile["icons"],
        }
    }


@method("users.info")
def users_info(ws: Workspace, a: Args) -> dict[str, Any]:
    user = ws.user(a.text("user", required=True, error="user_not_found"))
    data = user.to_api(ws.team_id)
    if a.flag("include_locale"):
        data["locale"] = "en-GB"
    return {"user": data}


@method("users.list")
def users_list(ws: Workspace, a: Args) -> dict[str, Any]:
    members = [u.to_api(ws.team_id) for u in ws.users.values()]
    page, cursor = paginate(members, a, default_limit=1000)
    return {
        "members": page,
        "cache_ts": int(time.time()),
        "response_metadata": {"next_cursor": cursor},
    }


@method("users.lookupByEmail")
def users_lookup_by_email(ws: Workspace, a: Args) -> dict[str, Any]:
    email = (a.text("email", required=True, error="users_not_found") or "").lower()
    for user in ws.users.values():
        if user.email and user.email.lower() == email:
            return {"user": user.to_api(ws.team_id)}
    raise ApiError("users_not_found")


# ---------------------------------------------------------------------- views


def _view_arg(a: Args, allowed: set[str]) -> dict[str, Any]:
    view = a.data.get("view")
    if view in (None, ""):
        raise ApiError("invalid_arguments", messages=["[ERROR] missing required field: view"])
    if isinstance(view, str | bytes):
        raise ApiError(
            "invalid_arguments", messages=["[ERROR] failed to parse view: not valid JSON"]
        )
    errors = validate_view(view, allowed_types=allowed)
    if errors:
        raise ApiError("invalid_arguments", messages=errors)
    return view


def _view_answer(view: dict[str, Any]) -> dict[str, Any]:
    return {"view": copy.deepcopy(view)}


@method("views.open")
def views_open(ws: Workspace, a: Args) -> dict[str, Any]:
    view = _view_arg(a, {"modal"})
    pointer = a.text("trigger_id") or a.text("interactivity_pointer")
    if not pointer:
        raise ApiError("invalid_arguments", messages=["[ERROR] missing required field: trigger_id"])
    trigger = ws.exchange_trigger(pointer)
    return _view_answer(ws.open_modal(trigger.user, view))


@method("views.push")
def views_push(ws: Workspace, a: Args) -> dict[str, Any]:
    view = _view_arg(a, {"modal"})
    pointer = a.text("trigger_id") or a.text("interactivity_pointer")
    if not pointer:
        raise ApiError("invalid_arguments", messages=["[ERROR] missing required field: trigger_id"])
    trigger = ws.exchange_trigger(pointer)
    return _view_answer(ws.push_modal(trigger.user, view))


@method("views.update")
def views_update(ws: Workspace, a: Args) -> dict[str, Any]:
    payload = _view_arg(a, {"modal", "home"})
    if not a.has("view_id") and not a.has("external_id"):
        raise ApiError(
            "invalid_arguments", messages=["[ERROR] either view_id or external_id is required"]
        )
    view = ws.find_view(a.text("view_id"), a.text("external_id"))
    return _view_answer(ws.update_view(view, payload, a.text("hash")))


@method("views.publish")
def views_publish(ws: Workspace, a: Args) -> dict[str, Any]:
    user = ws.user(a.text("user_id", required=True, error="user_not_found"))
    payload = _view_arg(a, {"home"})
    return _view_answer(ws.publish_home(user.id, payload, a.text("hash")))


# ---------------------------------------------------------------------- files


@method("files.getUploadURLExternal")
def files_get_upload_url_external(ws: Workspace, a: Args) -> dict[str, Any]:
    filename = a.text("filename", required=True) or ""
    if not a.has("length"):
        raise ApiError("invalid_arguments", messages=["[ERROR] missing required field: length"])
    length = a.integer("length", 0)
    if length <= 0:
        raise ApiError("invalid_arguments", messages=["[ERROR] length must be greater than 0"])
    record = ws.new_file(
        ws.bot_user_id,
        filename,
        length,
        alt_txt=a.text("alt_txt") or "",
        snippet_type=a.text("snippet_type") or "",
    )
    return {"upload_url": ws.upload_url(record), "file_id": record.id}


@method("files.completeUploadExternal")
def files_complete_upload_external(ws: Workspace, a: Args) -> dict[str, Any]:
    files = a.data.get("files")
    if files in (None, ""):
        raise ApiError("invalid_arguments", messages=["[ERROR] missing required field: files"])
    if not isinstance(files, list) or not all(isinstance(f, dict) and f.get("id") for f in files):
        raise ApiError("invalid_arguments", messages=["[ERROR] files must be [{id, title}, ...]"])
    records = []
    for item in files:
        record = ws.files.get(str(item["id"]))
        if record is None or record.completed:
            raise ApiError("file_not_found")
        if record.content is None:
            raise ApiError(
                "file_not_found", messages=[f"[ERROR] nothing was uploaded for {record.id}"]
            )
        records.append((record, item))
    targets = [c for c in [a.text("channel_id"), *a.id_list("channels")] if c]
    channels = [ws.writable(ws.conversation(c)) for c in dict.fromkeys(targets)]
    for record, item in records:
        record.title = str(item.get("title") or record.name)
        record.completed = True
    thread_ts = a.text("thread_ts")
    for channel in channels:
        message = ws.post_bot_message(
            channel,
            text=a.text("initial_comment") or "",
            thread_ts=thread_ts,
            extra={
                "files": [record.to_api(ws) for record, _ in records],
                "upload": True,
                "display_as_bot": False,
            },
        )
        for record, _ in records:
            record.shares.setdefault(channel.id, []).append(message["ts"])
        message["files"] = [record.to_api(ws) for record, _ in records]
    return {"files": [record.to_api(ws) for record, _ in records]}


@method("files.info")
def files_info(ws: Workspace, a: Args) -> dict[str, Any]:
    record = ws.files.get(a.text("file", required=True, error="file_not_found") or "")
    if record is None or not record.completed:
        raise ApiError("file_not_found")
    content = record.content or b""
    answer: dict[str, Any] = {"file": record.to_api(ws), "comments": [], "response_metadata": {}}
    with contextlib.suppress(UnicodeDecodeError):
        answer["content"] = content.decode("utf-8")
    return answer
