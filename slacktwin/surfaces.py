"""The workspace's views: modal stacks (open, push, update, pop) and Home tabs, with
Slack's hash, external_id and stack-depth rules. A mixin of ``Workspace``."""

from __future__ import annotations

import copy
import secrets
import threading
import time
from typing import Any

from slacktwin.errors import ApiError
from slacktwin.messages import normalize_blocks
from slacktwin.records import random_id

MODAL_STACK_LIMIT = 3


def input_action_ids(blocks: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(block_id, action_id) pairs of the input elements of a view."""
    pairs: set[tuple[str, str]] = set()
    for block in blocks:
        element = block.get("element")
        if block.get("type") == "input" and isinstance(element, dict):
            pairs.add((block.get("block_id", ""), element.get("action_id", "")))
    return pairs


class Surfaces:
    """Modals and Home tabs; the state is ``Workspace``'s, under its lock."""

    lock: threading.RLock
    team_id: str
    bot_id: str
    app_id: str
    views: dict[str, dict[str, Any]]
    view_users: dict[str, str]
    modal_stacks: dict[str, list[str]]
    home_views: dict[str, str]

    def _new_view(
        self,
        payload: dict[str, Any],
        *,
        view_id: str,
        user_id: str,
        root_view_id: str | None,
        previous_view_id: str | None,
        old: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        blocks = normalize_blocks(payload.get("blocks") or [])
        values: dict[str, dict[str, Any]] = {}
        if old is not None:
            keep = input_action_ids(blocks)
            for block_id, actions in old.get("state", {}).get("values", {}).items():
                kept = {a: v for a, v in actions.items() if (block_id, a) in keep}
                if kept:
                    values[block_id] = kept
        view = {
            "id": view_id,
            "team_id": self.team_id,
            "type": payload["type"],
            "blocks": blocks,
            "private_metadata": payload.get("private_metadata") or "",
            "callback_id": payload.get("callback_id") or "",
            "state": {"values": values},
            "hash": f"{int(time.time())}.{secrets.token_hex(4)}",
            "title": copy.deepcopy(payload.get("title")),
            "clear_on_close": bool(payload.get("clear_on_close", False)),
            "notify_on_close": bool(payload.get("notify_on_close", False)),
            "close": copy.deepcopy(payload.get("close")),
            "submit": copy.deepcopy(payload.get("submit")),
            "previous_view_id": previous_view_id,
            "root_view_id": root_view_id or view_id,
            "app_id": self.app_id,
            "external_id": payload.get("external_id") or "",
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        if "submit_disabled" in payload:
            view["submit_disabled"] = bool(payload["submit_disabled"])
        self.views[view_id] = view
        self.view_users[view_id] = user_id
        return view

    def _check_external_id(self, payload: dict[str, Any], own_view_id: str | None) -> None:
        external_id = payload.get("external_id")
        if not external_id:
            return
        for view_id, view in self.views.items():
            same = view.get("external_id") == external_id and view_id != own_view_id
            if same and self.is_open(view_id):
                raise ApiError("duplicate_external_id")

    def is_open(self, view_id: str) -> bool:
        return view_id in self.home_views.values() or any(
            view_id in stack for stack in self.modal_stacks.values()
        )

    def open_modal(self, user_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """views.open: a new root view; an open stack for that user is replaced."""
        with self.lock:
            self._check_external_id(payload, None)
            view_id = random_id("V")
            view = self._new_view(
                payload, view_id=view_id, user_id=user_id, root_view_id=None, previous_view_id=None
            )
            self.modal_stacks[user_id] = [view_id]
            return view

    def push_modal(self, user_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            stack = self.modal_stacks.get(user_id) or []
            if not stack:
                raise ApiError(
                    "invalid_arguments",
                    messages=["[ERROR] views.push needs a modal open for this user (twin)"],
                )
            if len(stack) >= MODAL_STACK_LIMIT:
                raise ApiError("push_limit_reached")
            self._check_external_id(payload, None)
            view_id = random_id("V")
            view = self._new_view(
                payload,
                view_id=view_id,
                user_id=user_id,
                root_view_id=stack[0],
                previous_view_id=stack[-1],
            )
            stack.append(view_id)
            return view

    def find_view(self, view_id: str | None, external_id: str | None) -> dict[str, Any]:
        with self.lock:
            if view_id:
                view = self.views.get(view_id)
            else:
                view = next(
                    (
                        v
                        for v in reversed(list(self.views.values()))
                        if external_id and v.get("external_id") == external_id
                    ),
                    None,
                )
            if view is None or not self.is_open(view["id"]):
                raise ApiError("not_found")
            return view

    def update_view(
        self, view: dict[str, Any], payload: dict[str, Any], expected_hash: str | None
    ) -> dict[str, Any]:
        """Replace a view's content in place (views.update, response_action update)."""
        with self.lock:
            if expected_hash and expected_hash != view["hash"]:
                raise ApiError("hash_conflict")
            if payload.get("type") != view["type"]:
                raise ApiError(
                    "invalid_arguments",
                    messages=[f"[ERROR] cannot change a {view['type']} view into another type"],
                )
            self._check_external_id(payload, view["id"])
            return self._new_view(
                payload,
                view_id=view["id"],
                user_id=self.view_users[view["id"]],
                root_view_id=view["root_view_id"],
                previous_view_id=view["previous_view_id"],
                old=view,
            )

    def publish_home(
        self, user_id: str, payload: dict[str, Any], expected_hash: str | None
    ) -> dict[str, Any]:
        with self.lock:
            old_id = self.home_views.get(user_id)
            old = self.views.get(old_id) if old_id else None
            if expected_hash and old is not None and expected_hash != old["hash"]:
                raise ApiError("hash_conflict")
            self._check_external_id(payload, old_id)
            view_id = old_id or random_id("V")
            view = self._new_view(
                payload,
                view_id=view_id,
                user_id=user_id,
                root_view_id=None,
                previous_view_id=None,
                old=old,
            )
            self.home_views[user_id] = view_id
            return view

    def modal_stack(self, user_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return [self.views[v] for v in self.modal_stacks.get(user_id, [])]

    def top_modal(self, user_id: str) -> dict[str, Any] | None:
        with self.lock:
            stack = self.modal_stacks.get(user_id) or []
            return self.views[stack[-1]] if stack else None

    def pop_modal(self, user_id: str) -> dict[str, Any] | None:
        with self.lock:
            stack = self.modal_stacks.get(user_id) or []
            return self.views.get(stack.pop()) if stack else None

    def clear_modals(self, user_id: str) -> list[dict[str, Any]]:
        with self.lock:
            stack = self.modal_stacks.pop(user_id, [])
            return [self.views[v] for v in stack]
