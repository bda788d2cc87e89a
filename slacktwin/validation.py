"""Block Kit and view validation, the way Slack rejects bad payloads.

The twin leans on slack_sdk's models (``Block.parse``, ``View`` and their validators) so
the rules match what the SDK knows about Slack's limits, and adds the checks Slack makes
that the models do not: unknown block/element types, unknown fields, text objects given
as bare strings, block counts per surface, duplicate ``block_id`` and ``action_id``.

Errors are strings in Slack's ``response_metadata.messages`` style:
``"[ERROR] <reason> [json-pointer:/blocks/0/text]"``.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.basic_objects import JsonObject
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100
# Block Kit reference (docs.slack.dev/reference/block-kit/composition-objects/option-object):
# an option's value is at most 150 characters.
OPTION_VALUE_MAX = 150
# View object reference (docs.slack.dev/reference/views): private_metadata at most 3000
# characters, callback_id and external_id at most 255.
VIEW_FIELD_MAX = {"private_metadata": 3000, "callback_id": 255, "external_id": 255}

# Keys Slack itself adds to stored blocks and views; apps echo them back on updates.
_TOLERATED_KEYS = frozenset({"type", "emoji"})
# Composition objects whose model keeps no ``attributes`` set (they render themselves).
_OBJECT_KEYS: dict[str, frozenset[str]] = {
    "Option": frozenset({"text", "value", "description", "url"}),
    "OptionGroup": frozenset({"label", "options"}),
    "ConfirmObject": frozenset({"title", "text", "confirm", "deny", "style"}),
}
_TEXT_KEYS = frozenset({"text", "description", "title", "confirm", "deny", "label"})
_VIEW_KEYS = frozenset(
    {
        "type",
        "id",
        "callback_id",
        "external_id",
        "team_id",
        "bot_id",
        "app_id",
        "app_installed_team_id",
        "root_view_id",
        "previous_view_id",
        "title",
        "submit",
        "close",
        "blocks",
        "private_metadata",
        "state",
        "hash",
        "clear_on_close",
        "notify_on_close",
        "submit_disabled",
    }
)

# Element types whose action_id Slack fills in when missing and that send interactions.
INTERACTIVE_TYPES = frozenset(
    {
        "button",
        "checkboxes",
        "channels_select",
        "conversations_select",
        "datepicker",
        "datetimepicker",
        "email_text_input",
        "external_select",
        "feedback_buttons",
        "file_input",
        "icon_button",
        "multi_channels_select",
        "multi_conversations_select",
        "multi_external_select",
        "multi_static_select",
        "multi_users_select",
        "number_input",
        "overflow",
        "plain_text_input",
        "radio_buttons",
        "rich_text_input",
        "static_select",
        "timepicker",
        "url_text_input",
        "users_select",
        "workflow_button",
    }
)

# The model classes log a warning for every unknown type; the twin reports those itself.
for _name in (
    "slack_sdk.models.blocks.blocks",
    "slack_sdk.models.blocks.block_elements",
    "slack_sdk.models.blocks.basic_components",
):
    logging.getLogger(_name).setLevel(logging.ERROR)


def _err(reason: str, pointer: str) -> str:
    return f"[ERROR] {reason} [json-pointer:{pointer}]"


def block_elements(block: dict[str, Any]) -> list[dict[str, Any]]:
    """The element dicts a block holds (accessory, element, elements) in display order."""
    found: list[dict[str, Any]] = []
    accessory = block.get("accessory")
    if isinstance(accessory, dict):
        found.append(accessory)
    element = block.get("element")
    if isinstance(element, dict):
        found.append(element)
    if block.get("type") in {"actions", "context_actions"}:
        found.extend(e for e in block.get("elements") or [] if isinstance(e, dict))
    return found


def _check_fields(raw: Any, parsed: Any, pointer: str, errors: list[str]) -> None:
    """Compare a raw dict with the model object built from it, recursively.

    The models silently drop unknown keys and turn bare strings into text objects;
    Slack rejects both, so the twin does too.
    """
    if isinstance(raw, dict) and isinstance(parsed, JsonObject):
        fixed = _OBJECT_KEYS.get(type(parsed).__name__)
        allowed = (fixed if fixed is not None else set(parsed.attributes)) | _TOLERATED_KEYS
        for key, value in raw.items():
            if key not in allowed:
                errors.append(_err(f"unsupported field '{key}'", f"{pointer}/{key}"))
            elif fixed is not None and key in _TEXT_KEYS and not isinstance(value, dict):
                errors.append(_err("expected a text object", f"{pointer}/{key}"))
            else:
                _check_fields(value, getattr(parsed, key, None), f"{pointer}/{key}", errors)
    elif isinstance(raw, str) and isinstance(parsed, JsonObject):
        errors.append(_err("expected an object, got a string", pointer))
    elif isinstance(raw, list) and isinstance(parsed, list) and len(raw) == len(parsed):
        for index, (raw_item, parsed_item) in enumerate(zip(raw, parsed, strict=True)):
            _check_fields(raw_item, parsed_item, f"{pointer}/{index}", errors)


def _check_plain_text(block: dict[str, Any], pointer: str, errors: list[str]) -> None:
    """Places where Slack accepts only plain_text, which the models let through."""
    places: list[tuple[Any, str]] = []
    if block.get("type") == "header":
        places.append((block.get("text"), f"{pointer}/text"))
    if block.get("type") == "input":
        places.append((block.get("label"), f"{pointer}/label"))
        places.append((block.get("hint"), f"{pointer}/hint"))
    for element in block_elements(block):
        if element.get("type") == "button":
            places.append((element.get("text"), f"{pointer}/elements/text"))
        if "placeholder" in element:
            places.append((element.get("placeholder"), f"{pointer}/elements/placeholder"))
    for value, where in places:
        if isinstance(value, dict) and value.get("type") != "plain_text":
            errors.append(_err("must be a plain_text object", where))


def _check_option_values(value: Any, pointer: str, errors: list[str]) -> None:
    """Every option's ``value`` (options, option_groups, initial_option(s)) fits 150."""
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{pointer}/{key}"
            if key in {"options", "initial_options"} and isinstance(item, list):
                for index, option in enumerate(item):
                    _check_option(option, f"{where}/{index}", errors)
            elif key == "initial_option":
                _check_option(item, where, errors)
            _check_option_values(item, where, errors)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_option_values(item, f"{pointer}/{index}", errors)


def _check_option(option: Any, pointer: str, errors: list[str]) -> None:
    value = option.get("value") if isinstance(option, dict) else None
    if isinstance(value, str) and len(value) > OPTION_VALUE_MAX:
        errors.append(
            _err(f"must be less than {OPTION_VALUE_MAX + 1} characters", f"{pointer}/value")
        )


def _check_block(block: Any, pointer: str, errors: list[str]) -> None:
    if not isinstance(block, dict):
        errors.append(_err("block must be an object", pointer))
        return
    if "type" not in block:
        errors.append(_err("missing required field: type", pointer))
        return
    try:
        parsed = Block.parse(block)
    except SlackObjectFormationError as exc:
        errors.append(_err(str(exc), pointer))
        return
    except Exception as exc:  # the models raise KeyError/TypeError on malformed input
        errors.append(_err(f"invalid block: {exc!r}", pointer))
        return
    if parsed is None or type(parsed) is Block:
        errors.append(_err(f"unknown block type '{block.get('type')}'", f"{pointer}/type"))
        return
    for index, element in enumerate(block_elements(block)):
        if "type" not in element:
            errors.append(_err("element is missing its type", f"{pointer}/elements/{index}"))
    for key in ("elements", "accessory", "element"):
        value = getattr(parsed, key, None)
        items = value if isinstance(value, list) else [value]
        if any(item is None for item in items) and block.get(key) is not None:
            errors.append(_err(f"unknown element type in '{key}'", f"{pointer}/{key}"))
    _check_fields(block, parsed, pointer, errors)
    _check_plain_text(block, pointer, errors)
    before = len(errors)
    _check_option_values(block, pointer, errors)
    if len(errors) > before:
        return  # the models would report the same option again, less precisely
    try:
        parsed.to_dict()  # runs every validator, nested objects included
    except SlackObjectFormationError as exc:
        errors.append(_err(str(exc), pointer))
    except Exception as exc:
        errors.append(_err(f"invalid block: {exc!r}", pointer))
    action_ids: set[str] = set()
    for element in block_elements(block):
        action_id = element.get("action_id")
        if action_id is None:
            continue
        if action_id in action_ids:
            errors.append(_err(f"duplicate action_id '{action_id}' in block", pointer))
        action_ids.add(action_id)


def validate_blocks(
    blocks: Any, *, limit: int = MESSAGE_BLOCK_LIMIT, pointer: str = "/blocks"
) -> list[str]:
    """Return Slack-style error messages for a blocks array; empty when valid."""
    if not isinstance(blocks, list):
        return [_err("blocks must be an array", pointer)]
    errors: list[str] = []
    if len(blocks) > limit:
        errors.append(_err(f"no more than {limit} items allowed", pointer))
    block_ids: set[str] = set()
    for index, block in enumerate(blocks):
        _check_block(block, f"{pointer}/{index}", errors)
        block_id = block.get("block_id") if isinstance(block, dict) else None
        if block_id is not None:
            if block_id in block_ids:
                errors.append(_err(f"duplicate block_id '{block_id}'", f"{pointer}/{index}"))
            block_ids.add(block_id)
    return errors


def validate_view(view: Any, *, allowed_types: frozenset[str] | set[str]) -> list[str]:
    """Return Slack-style error messages for a view payload; empty when valid."""
    if not isinstance(view, dict):
        return [_err("view must be an object", "/view")]
    view_type = view.get("type")
    if view_type is None:
        return [_err("missing required field: type", "/view/type")]
    if view_type not in allowed_types:
        expected = " or ".join(sorted(allowed_types))
        return [_err(f"view type must be {expected}, got '{view_type}'", "/view/type")]
    errors: list[str] = []
    for key in view:
        if key not in _VIEW_KEYS:
            errors.append(_err(f"unsupported field '{key}'", f"/view/{key}"))
    if "blocks" not in view:
        errors.append(_err("missing required field: blocks", "/view/blocks"))
    for key, limit in VIEW_FIELD_MAX.items():
        value = view.get(key)
        if value is not None and not isinstance(value, str):
            errors.append(_err("must be a string", f"/view/{key}"))
        elif isinstance(value, str) and len(value) > limit:
            errors.append(_err(f"must be less than {limit + 1} characters", f"/view/{key}"))
    if view_type == "modal" and not view.get("title"):
        errors.append(_err("missing required field: title", "/view/title"))
    for key in ("title", "submit", "close"):
        value = view.get(key)
        if value is not None and not (
            isinstance(value, dict) and value.get("type") == "plain_text"
        ):
            errors.append(_err(f"{key} must be a plain_text object", f"/view/{key}"))
    blocks = view.get("blocks") or []
    has_input = isinstance(blocks, list) and any(
        isinstance(b, dict) and b.get("type") == "input" for b in blocks
    )
    if view_type == "modal" and has_input and not view.get("submit"):
        errors.append(_err("submit is required when a view has input blocks", "/view/submit"))
    if "blocks" in view:
        errors.extend(
            validate_blocks(view["blocks"], limit=VIEW_BLOCK_LIMIT, pointer="/view/blocks")
        )
    if errors:
        return errors
    try:
        View(**{k: v for k, v in view.items() if k != "state"}).to_dict()
    except SlackObjectFormationError as exc:
        errors.append(_err(str(exc), "/view"))
    except Exception as exc:
        errors.append(_err(f"invalid view: {exc!r}", "/view"))
    return errors
