"""Finding Block Kit controls by their visible words, and building ``state.values``.

The driver acts like a person: it presses the button that reads "Support", picks
"Change status" from the menu labelled "Manage", types into the input labelled "Title".
This module holds that lookup and the value shapes Slack sends for each element type.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from slacktwin.errors import TwinUsageError

Resolver = Callable[[str], str]

SELECT_LIKE = frozenset(
    {
        "overflow",
        "static_select",
        "external_select",
        "multi_static_select",
        "multi_external_select",
        "users_select",
        "multi_users_select",
        "conversations_select",
        "multi_conversations_select",
        "channels_select",
        "multi_channels_select",
        "radio_buttons",
        "checkboxes",
        "datepicker",
        "timepicker",
        "datetimepicker",
    }
)


def text_of(obj: Any) -> str:
    """The words of a text object (or a plain string)."""
    if isinstance(obj, dict):
        return str(obj.get("text") or "")
    return str(obj or "")


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


@dataclass(frozen=True)
class Control:
    """An interactive element found in a surface, with what a person sees around it."""

    block: dict[str, Any]
    element: dict[str, Any]
    context: str

    @property
    def label(self) -> str:
        element = self.element
        if element.get("type") == "button":
            return text_of(element.get("text"))
        if self.block.get("type") == "input":
            return text_of(self.block.get("label"))
        return text_of(element.get("placeholder")) or element.get("action_id", "")

    def describe(self) -> str:
        kind = self.element.get("type", "?")
        where = f" near '{self.context[:40]}'" if self.context else ""
        return f"{kind} '{self.label}' (action_id={self.element.get('action_id')}){where}"


def _block_text(block: dict[str, Any]) -> str:
    parts = [text_of(block.get("text"))]
    parts += [text_of(f) for f in block.get("fields") or []]
    if block.get("type") == "context":
        parts += [text_of(e) for e in block.get("elements") or [] if e.get("type") != "image"]
    if block.get("type") == "rich_text":
        parts.append(_rich_text(block))
    return " ".join(p for p in parts if p)


def _rich_text(node: Any) -> str:
    if isinstance(node, dict):
        if node.get("type") == "text":
            return str(node.get("text", ""))
        return "".join(_rich_text(child) for child in node.get("elements") or [])
    return ""


def controls(blocks: list[dict[str, Any]]) -> Iterator[Control]:
    """Every interactive element in display order, with the nearest text above it."""
    context = ""
    for block in blocks:
        kind = block.get("type")
        if kind in {"section", "header", "context", "rich_text"}:
            context = _block_text(block)
        if kind == "section" and isinstance(block.get("accessory"), dict):
            yield Control(block, block["accessory"], _block_text(block))
        elif kind in {"actions", "context_actions"}:
            for element in block.get("elements") or []:
                yield Control(block, element, context)
        elif kind == "input" and isinstance(block.get("element"), dict):
            yield Control(block, block["element"], text_of(block.get("label")))


def _narrow(
    found: list[Control],
    *,
    what: str,
    available: list[Control],
    near: str | None,
    index: int | None,
    keep: Callable[[Control], bool] = lambda c: True,
) -> Control:
    """Pick one match. ``index`` counts among all label matches in display order (what a
    person sees); ``near`` and ``keep`` (e.g. a value) narrow, and must agree with it."""

    def fits(control: Control) -> bool:
        return keep(control) and (near is None or _norm(near) in _norm(control.context))

    if not found:
        listing = "\n  ".join(c.describe() for c in available) or "(none)"
        raise LookupError(f"no {what}; available:\n  {listing}")
    if index is not None:
        if not -len(found) <= index < len(found):
            raise LookupError(f"{what}: index {index} out of range ({len(found)} matches)")
        if not fits(found[index]):
            raise LookupError(f"{what}: match {index} does not fit near=/value=")
        return found[index]
    narrowed = [c for c in found if fits(c)]
    if not narrowed:
        listing = "\n  ".join(c.describe() for c in found)
        raise LookupError(f"no {what} fits near=/value=; matches:\n  {listing}")
    if len(narrowed) > 1:
        listing = "\n  ".join(c.describe() for c in narrowed)
        raise LookupError(f"{what} is ambiguous; pass near=, value= or index=:\n  {listing}")
    return narrowed[0]


def find_button(
    blocks: list[dict[str, Any]],
    label: str,
    *,
    near: str | None = None,
    value: str | None = None,
    index: int | None = None,
) -> Control:
    """The button whose visible text is ``label`` (case-insensitive); action_id as fallback."""
    buttons = [c for c in controls(blocks) if c.element.get("type") == "button"]
    found = [c for c in buttons if _norm(text_of(c.element.get("text"))) == _norm(label)]
    if not found:
        found = [c for c in buttons if c.element.get("action_id") == label]
    return _narrow(
        found,
        what=f"button '{label}'",
        available=buttons,
        near=near,
        index=index,
        keep=lambda c: value is None or c.element.get("value") == value,
    )


def find_control(
    blocks: list[dict[str, Any]],
    label: str,
    *,
    option: Any = None,
    near: str | None = None,
    index: int | None = None,
) -> Control:
    """A menu/picker by its placeholder, action_id or the text beside it."""
    candidates = [
        c
        for c in controls(blocks)
        if c.element.get("type") in SELECT_LIKE
        and (c.block.get("type") != "input" or c.block.get("dispatch_action"))
    ]
    wanted = _norm(label)
    exact = [
        c
        for c in candidates
        if wanted in {_norm(text_of(c.element.get("placeholder"))), _norm(c.label)}
        or c.element.get("action_id") == label
    ]
    found = exact or [c for c in candidates if wanted and wanted in _norm(c.context)]
    if index is None and len(found) > 1 and isinstance(option, str):
        with_option = [c for c in found if _has_option(c.element, option)]
        found = with_option or found
    return _narrow(found, what=f"menu '{label}'", available=candidates, near=near, index=index)


def _has_option(element: dict[str, Any], label: str) -> bool:
    return any(_option_matches(o, label) for o in options_of(element))


def options_of(element: dict[str, Any]) -> list[dict[str, Any]]:
    """Options of a select/overflow/radio/checkbox element, option groups flattened."""
    found = list(element.get("options") or [])
    for group in element.get("option_groups") or []:
        found.extend(group.get("options") or [])
    return found


def _option_matches(option: dict[str, Any], label: str) -> bool:
    return _norm(text_of(option.get("text"))) == _norm(label) or option.get("value") == label


def find_option(element: dict[str, Any], label: Any) -> dict[str, Any]:
    """The option whose text (or value) is ``label``; external selects accept any."""
    if isinstance(label, dict):
        return copy.deepcopy(label)
    text = str(label)
    for option in options_of(element):
        if _option_matches(option, text):
            return copy.deepcopy(option)
    if element.get("type") in {"external_select", "multi_external_select"}:
        return {"text": {"type": "plain_text", "text": text, "emoji": True}, "value": text}
    available = ", ".join(repr(text_of(o.get("text"))) for o in options_of(element))
    raise LookupError(f"no option {text!r} in {element.get('type')}; options: {available}")


# ---------------------------------------------------------------------- inputs and values


def input_blocks(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [b for b in blocks if b.get("type") == "input" and isinstance(b.get("element"), dict)]


def find_input(blocks: list[dict[str, Any]], label: str) -> dict[str, Any]:
    """The input block whose label is ``label`` (case-insensitive), or block_id fallback."""
    inputs = input_blocks(blocks)
    wanted = _norm(label)
    for block in inputs:
        if _norm(text_of(block.get("label"))) == wanted:
            return block
    for block in inputs:
        if block.get("block_id") == label:
            return block
    labels = ", ".join(repr(text_of(b.get("label"))) for b in inputs) or "(no inputs)"
    raise KeyError(f"no input labelled {label!r}; labels: {labels}")


def _many(value: Any) -> list[Any]:
    if value is None or value is False:
        return []
    if isinstance(value, list | tuple | set):
        return list(value)
    return [value]


def value_for(
    element: dict[str, Any],
    value: Any,
    *,
    resolve_user: Resolver,
    resolve_channel: Resolver,
) -> dict[str, Any]:
    """The ``state.values`` entry Slack sends when a person sets ``value`` in ``element``."""
    kind = element.get("type", "")
    result: dict[str, Any] = {"type": kind}
    if kind in {"plain_text_input", "email_text_input", "url_text_input", "number_input"}:
        result["value"] = None if value is None else str(value)
    elif kind in {"static_select", "external_select", "radio_buttons", "overflow"}:
        result["selected_option"] = None if value is None else find_option(element, value)
    elif kind in {"multi_static_select", "multi_external_select"}:
        result["selected_options"] = [find_option(element, v) for v in _many(value)]
    elif kind == "checkboxes":
        options = options_of(element)
        if value is True:
            if len(options) != 1:
                raise LookupError("checkboxes: True only selects a single-option group")
            result["selected_options"] = copy.deepcopy(options)
        else:
            result["selected_options"] = [find_option(element, v) for v in _many(value)]
    elif kind == "users_select":
        result["selected_user"] = None if value is None else resolve_user(str(value))
    elif kind == "multi_users_select":
        result["selected_users"] = [resolve_user(str(v)) for v in _many(value)]
    elif kind == "conversations_select":
        result["selected_conversation"] = None if value is None else resolve_channel(str(value))
    elif kind == "multi_conversations_select":
        result["selected_conversations"] = [resolve_channel(str(v)) for v in _many(value)]
    elif kind == "channels_select":
        result["selected_channel"] = None if value is None else resolve_channel(str(value))
    elif kind == "multi_channels_select":
        result["selected_channels"] = [resolve_channel(str(v)) for v in _many(value)]
    elif kind == "datepicker":
        result["selected_date"] = (
            value.isoformat()
            if isinstance(value, dt.date)
            else (None if value is None else str(value))
        )
    elif kind == "timepicker":
        if isinstance(value, dt.time):
            value = value.strftime("%H:%M")
        result["selected_time"] = None if value is None else str(value)
        if element.get("timezone"):
            result["timezone"] = element["timezone"]
    elif kind == "datetimepicker":
        if isinstance(value, dt.datetime):
            value = int(value.timestamp())
        result["selected_date_time"] = None if value is None else int(value)
    elif kind == "rich_text_input":
        result["rich_text_value"] = _rich_text_value(None if value is None else str(value))
    else:
        raise TwinUsageError(f"the driver cannot set a {kind!r} element")
    return result


def _rich_text_value(text: str | None) -> dict[str, Any]:
    if not text:
        return {"type": "rich_text", "elements": []}
    return {
        "type": "rich_text",
        "elements": [{"type": "rich_text_section", "elements": [{"type": "text", "text": text}]}],
    }


_INITIAL: dict[str, tuple[str, str, Any]] = {
    "plain_text_input": ("initial_value", "value", None),
    "email_text_input": ("initial_value", "value", None),
    "url_text_input": ("initial_value", "value", None),
    "number_input": ("initial_value", "value", None),
    "static_select": ("initial_option", "selected_option", None),
    "external_select": ("initial_option", "selected_option", None),
    "radio_buttons": ("initial_option", "selected_option", None),
    "multi_static_select": ("initial_options", "selected_options", []),
    "multi_external_select": ("initial_options", "selected_options", []),
    "checkboxes": ("initial_options", "selected_options", []),
    "users_select": ("initial_user", "selected_user", None),
    "multi_users_select": ("initial_users", "selected_users", []),
    "conversations_select": ("initial_conversation", "selected_conversation", None),
    "multi_conversations_select": ("initial_conversations", "selected_conversations", []),
    "channels_select": ("initial_channel", "selected_channel", None),
    "multi_channels_select": ("initial_channels", "selected_channels", []),
    "datepicker": ("initial_date", "selected_date", None),
    "timepicker": ("initial_time", "selected_time", None),
    "datetimepicker": ("initial_date_time", "selected_date_time", None),
    "file_input": ("", "files", []),
}


def initial_value(element: dict[str, Any]) -> dict[str, Any]:
    """What Slack sends for an input the person did not touch: its initial value or empty."""
    kind = element.get("type", "")
    if kind == "rich_text_input":
        initial = element.get("initial_value")
        return {"type": kind, "rich_text_value": initial or _rich_text_value(None)}
    source, key, empty = _INITIAL.get(kind, ("", "value", None))
    value = element.get(source) if source else None
    return {"type": kind, key: copy.deepcopy(value) if value is not None else copy.copy(empty)}


def is_empty(state_value: Mapping[str, Any]) -> bool:
    for key, value in state_value.items():
        if key == "type":
            continue
        if key == "rich_text_value":
            return not (value or {}).get("elements")
        if value not in (None, "", []):
            return False
    return True


def view_state(view: Mapping[str, Any]) -> dict[str, Any]:
    """``state`` for a view: what was filled in, else each input's initial value."""
    filled = view.get("state", {}).get("values", {})
    values: dict[str, dict[str, Any]] = {}
    for block in input_blocks(view.get("blocks") or []):
        block_id = block["block_id"]
        element = block["element"]
        action_id = element.get("action_id", "")
        current = filled.get(block_id, {}).get(action_id)
        values.setdefault(block_id, {})[action_id] = copy.deepcopy(
            current if current is not None else initial_value(element)
        )
    return {"values": values}


def client_side_errors(view: Mapping[str, Any], state: Mapping[str, Any]) -> dict[str, str]:
    """Errors Slack's client shows before it sends anything (required, lengths, numbers)."""
    errors: dict[str, str] = {}
    values = state.get("values", {})
    for block in input_blocks(view.get("blocks") or []):
        element = block["element"]
        entry = values.get(block["block_id"], {}).get(element.get("action_id", ""), {})
        if is_empty(entry):
            if not block.get("optional"):
                errors[block["block_id"]] = "Please complete this required field."
            continue
        text = entry.get("value")
        if isinstance(text, str):
            if element.get("min_length") and len(text) < int(element["min_length"]):
                errors[block["block_id"]] = f"Use at least {element['min_length']} characters."
            if element.get("max_length") and len(text) > int(element["max_length"]):
                errors[block["block_id"]] = f"Use at most {element['max_length']} characters."
            if element.get("type") == "number_input":
                problem = _number_problem(element, text)
                if problem:
                    errors[block["block_id"]] = problem
    return errors


def _number_problem(element: Mapping[str, Any], text: str) -> str | None:
    try:
        number = float(text) if element.get("is_decimal_allowed") else int(text)
    except ValueError:
        return (
            "Enter a whole number." if not element.get("is_decimal_allowed") else "Enter a number."
        )
    if element.get("min_value") is not None and number < float(element["min_value"]):
        return f"Enter a number of at least {element['min_value']}."
    if element.get("max_value") is not None and number > float(element["max_value"]):
        return f"Enter a number of at most {element['max_value']}."
    return None


def action_for(
    control: Control, state_value: Mapping[str, Any] | None, action_ts: str
) -> dict[str, Any]:
    """One entry of a block_actions payload's ``actions`` list."""
    element = control.element
    action: dict[str, Any] = {
        "action_id": element.get("action_id", ""),
        "block_id": control.block.get("block_id", ""),
    }
    if element.get("type") == "button":
        action["text"] = copy.deepcopy(element.get("text"))
        if "value" in element:
            action["value"] = element["value"]
        if "style" in element:
            action["style"] = element["style"]
        if "url" in element:
            action["url"] = element["url"]
        action["type"] = "button"
    else:
        action.update(copy.deepcopy(dict(state_value or {})))
        if "placeholder" in element:
            action["placeholder"] = copy.deepcopy(element["placeholder"])
    action["action_ts"] = action_ts
    return action
