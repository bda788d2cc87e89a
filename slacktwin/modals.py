"""Modals as a person uses them: fill inputs by their labels, submit (with Slack's own
client-side checks first) and apply the app's ``response_action``, close."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from slacktwin import forms
from slacktwin.errors import ApiError, TwinUsageError
from slacktwin.interactions import Interactions
from slacktwin.validation import validate_view


@dataclass
class SubmitResult:
    """What came of a view submission.

    ``sent`` is False when Slack's client itself refused (a required input empty, a
    length limit): then ``errors`` holds those messages and nothing reached the app.
    ``errors`` is the app's ``response_action: errors`` map (block_id -> message) when
    it sent one. ``closed`` tells whether the submitted view left the stack, ``view`` is
    the modal the user sees afterwards (None when none), ``problem`` describes an answer
    Slack would have rejected (bad JSON, invalid view).
    """

    status: int | None
    json: dict[str, Any] | None
    errors: dict[str, str] = field(default_factory=dict)
    sent: bool = True
    closed: bool = False
    view: dict[str, Any] | None = None
    problem: str | None = None
    response: httpx.Response | None = None

    @property
    def ok(self) -> bool:
        return self.sent and self.status == 200 and not self.errors and self.problem is None


class Modals(Interactions):
    """The driver's modal gestures (``SlackDriver`` mixes it in)."""

    def fill(self, user_id: str, values: Mapping[str, Any]) -> None:
        """Type/select values into the top modal's inputs, found by label (case-insensitive).

        Values: str for text and number inputs, option text for selects and radio
        buttons, a list for multi-selects and checkboxes (True ticks a single checkbox),
        user/channel ids or names for pickers, "YYYY-MM-DD"/date, "HH:MM"/time.
        Unknown labels raise KeyError listing the labels there are.

        Values are set in the order given. An input with ``dispatch_action`` sends its
        block_actions as soon as it is set, as Slack does, so the app can redraw the view
        (``views.update``); a later label that the redraw adds is waited for (up to
        ``REDRAW_WAIT`` s) before it is called unknown.
        """
        view_id = self._top_modal(user_id)["id"]
        dispatched = False
        for label, value in values.items():
            block = self._input(view_id, label, wait=dispatched)
            element = block["element"]
            state_value = forms.value_for(
                element, value, resolve_user=self.resolve_user, resolve_channel=self.resolve_channel
            )
            control = forms.Control(block, element, "")
            self._store_value(view_id, control, state_value)
            if block.get("dispatch_action"):
                source = self.twin.view(view_id)
                assert source is not None
                self._block_actions(user_id, "modal", source, control, state_value)
                dispatched = True

    REDRAW_WAIT = 5.0

    def _input(self, view_id: str, label: str, *, wait: bool) -> dict[str, Any]:
        deadline = time.monotonic() + (self.REDRAW_WAIT if wait else 0.0)
        while True:
            view = self.twin.view(view_id)
            if view is None:
                raise TwinUsageError(f"view {view_id} is closed")
            try:
                return forms.find_input(view.get("blocks") or [], label)
            except KeyError:
                if time.monotonic() >= deadline:
                    raise
            time.sleep(0.02)

    def submit(self, user_id: str) -> SubmitResult:
        """Press the modal's submit button: view_submission, then apply the app's answer.

        Empty 200 closes the submitted view; ``response_action`` errors keep it and
        return the errors; update replaces it; push stacks a new view; clear closes all.
        """
        view = self._top_modal(user_id)
        state = forms.view_state(view)
        client_errors = forms.client_side_errors(view, state)
        if client_errors:
            return SubmitResult(None, None, client_errors, sent=False, view=view)
        payload = self._base_interaction("view_submission", user_id)
        sent_view = dict(view)
        sent_view["state"] = state
        payload.update(
            {
                "trigger_id": self.ws.issue_trigger(user_id, "modal"),
                "view": sent_view,
                "response_urls": [],
            }
        )
        response = self.send_interaction(payload)
        result = SubmitResult(response.status_code, None, response=response)
        if response.status_code != 200:
            result.problem = f"the app answered HTTP {response.status_code}"
            result.view = self.twin.current_modal(user_id)
            return result
        body: Any = {}
        if response.content.strip():
            try:
                body = response.json()
            except ValueError:
                body = None
        if not isinstance(body, dict):
            result.problem = "the app answered a body that is not a JSON object"
            result.view = self.twin.current_modal(user_id)
            return result
        result.json = body
        self._apply_submission_answer(user_id, view, body, result)
        result.view = self.twin.current_modal(user_id)
        return result

    def _apply_submission_answer(
        self, user_id: str, view: dict[str, Any], body: dict[str, Any], result: SubmitResult
    ) -> None:
        action = body.get("response_action")
        problem: str | None = None
        with self.ws.lock:
            stack = self.ws.modal_stacks.get(user_id, [])
            if action is None:
                if view["id"] in stack:
                    del stack[stack.index(view["id"]) :]
                result.closed = True
            elif action == "errors":
                errors = body.get("errors")
                input_ids = {b["block_id"] for b in forms.input_blocks(view.get("blocks") or [])}
                if not isinstance(errors, dict) or not errors:
                    problem = "response_action errors needs a non-empty errors object"
                else:
                    unknown = sorted(set(errors) - input_ids)
                    if unknown:
                        problem = f"errors name blocks that are not inputs: {', '.join(unknown)}"
                    result.errors = {str(k): str(v) for k, v in errors.items()}
            elif action in {"update", "push"}:
                new_view = body.get("view")
                messages = validate_view(new_view, allowed_types={"modal"})
                if messages:
                    problem = "invalid view: " + "; ".join(messages)
                else:
                    try:
                        if action == "update":
                            self.ws.update_view(self.ws.views[view["id"]], new_view, None)
                        else:
                            self.ws.push_modal(user_id, new_view)
                    except ApiError as exc:
                        problem = str(exc)
            elif action == "clear":
                self.ws.clear_modals(user_id)
                result.closed = True
            else:
                problem = f"unknown response_action {action!r}"
        if problem:
            result.problem = problem
        self._record(
            "view_submission.ack",
            body,
            200 if problem is None else 400,
            {"ok": problem is None, **({"error": problem} if problem else {})},
        )

    def close(self, user_id: str) -> httpx.Response | None:
        """Press the modal's close button: pop it (all views with ``clear_on_close``);
        sends ``view_closed`` when the view has ``notify_on_close``."""
        view = self._top_modal(user_id)
        cleared = bool(view.get("clear_on_close"))
        with self.ws.lock:
            if cleared:
                self.ws.clear_modals(user_id)
            else:
                self.ws.pop_modal(user_id)
        if not view.get("notify_on_close"):
            return None
        payload = self._base_interaction("view_closed", user_id)
        sent_view = dict(view)
        sent_view["state"] = forms.view_state(view)
        payload.update({"view": sent_view, "is_cleared": cleared})
        return self.send_interaction(payload)
