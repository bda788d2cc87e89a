"""Block Kit to accessible HTML, drawn on the server from the twin's stored blocks.

Every interactive element carries ``data-block``/``data-action`` (its block_id and
action_id) so the page can say which control a person used; the surface around it (a
message, an ephemeral, the App Home or a modal) carries where it lives. Labels come
from what Slack would show: the input's label, else the placeholder, else the words
beside the control.
"""

from __future__ import annotations

import html
import itertools
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sandbox.web.mrkdwn import Resolver, plain, rich_html, to_html
from slacktwin import forms

_ids = itertools.count(1)


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def text_html(obj: Any, ctx: Context) -> str:
    """A text object (mrkdwn or plain_text) as HTML."""
    if isinstance(obj, str):
        return plain(obj)
    if not isinstance(obj, dict):
        return ""
    words = str(obj.get("text") or "")
    if obj.get("type") == "mrkdwn":
        return to_html(words, ctx.user, ctx.channel)
    return plain(words)


def words(obj: Any) -> str:
    return forms.text_of(obj)


@dataclass
class Context:
    """What drawing needs besides the blocks: names for ids, pickers' choices, a form's
    current values and errors, and a file URL for ``slack_file`` images."""

    user: Resolver
    channel: Resolver
    people: list[tuple[str, str]] = field(default_factory=list)  # (id, name)
    channels: list[tuple[str, str]] = field(default_factory=list)  # (id, name)
    values: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    errors: Mapping[str, str] = field(default_factory=dict)
    file_url: Callable[[str], str | None] = lambda _: None
    in_form: bool = False

    def uid(self, stem: str) -> str:
        return f"{stem}-{next(_ids)}"


def render_blocks(blocks: list[dict[str, Any]], ctx: Context) -> str:
    return "".join(_block(block, ctx) for block in blocks or [])


def _data(block: dict[str, Any], element: dict[str, Any]) -> str:
    return (
        f'data-block="{esc(block.get("block_id", ""))}" '
        f'data-action="{esc(element.get("action_id", ""))}" '
        f'data-type="{esc(element.get("type", ""))}"'
    )


def _block(block: dict[str, Any], ctx: Context) -> str:
    kind = block.get("type")
    if kind == "section":
        return _section(block, ctx)
    if kind == "header":
        return f'<h3 class="bk-header">{text_html(block.get("text"), ctx)}</h3>'
    if kind == "divider":
        return '<hr class="bk-divider">'
    if kind == "context":
        parts = []
        for element in block.get("elements") or []:
            if element.get("type") == "image":
                parts.append(_image_tag(element, ctx, small=True))
            else:
                parts.append(f"<span>{text_html(element, ctx)}</span>")
        return f'<div class="bk-context">{"".join(parts)}</div>'
    if kind in ("actions", "context_actions"):
        inner = "".join(_element(block, e, ctx, label=None) for e in block.get("elements") or [])
        return f'<div class="bk-actions">{inner}</div>'
    if kind == "image":
        title = block.get("title")
        caption = f"<figcaption>{text_html(title, ctx)}</figcaption>" if title else ""
        return f'<figure class="bk-image">{_image_tag(block, ctx)}{caption}</figure>'
    if kind == "input":
        return _input(block, ctx)
    if kind == "rich_text":
        return f'<div class="bk-rich">{rich_html(block, ctx.user, ctx.channel)}</div>'
    if kind == "markdown":
        shown = to_html(str(block.get("text", "")), ctx.user, ctx.channel)
        return f'<div class="bk-section">{shown}</div>'
    if kind == "file":
        return f'<p class="bk-context">A file ({esc(block.get("external_id", ""))})</p>'
    return ""


def _section(block: dict[str, Any], ctx: Context) -> str:
    body = ""
    if block.get("text"):
        body += f'<div class="bk-text">{text_html(block["text"], ctx)}</div>'
    if block.get("fields"):
        cells = "".join(f"<div>{text_html(f, ctx)}</div>" for f in block["fields"])
        body += f'<div class="bk-fields">{cells}</div>'
    accessory = block.get("accessory")
    side = ""
    if isinstance(accessory, dict):
        if accessory.get("type") == "image":
            side = _image_tag(accessory, ctx, small=True)
        else:
            side = _element(block, accessory, ctx, label=words(block.get("text"))[:80] or None)
    return f'<div class="bk-section"><div class="bk-main">{body}</div>{side}</div>'


def _image_tag(element: dict[str, Any], ctx: Context, small: bool = False) -> str:
    alt = esc(element.get("alt_text") or "image")
    url = str(element.get("image_url") or "")
    slack_file = element.get("slack_file") or {}
    if slack_file.get("id"):
        url = ctx.file_url(str(slack_file["id"])) or ""
    if not url.startswith(("/", "data:image/png")):
        # Nothing is fetched from outside this machine: show what the image is.
        return f'<span class="bk-image-missing" role="img" aria-label="{alt}">🖼 {alt}</span>'
    cls = "bk-thumb" if small else "bk-img"
    return f'<img class="{cls}" src="{esc(url)}" alt="{alt}">'


# ---------------------------------------------------------------------- interactive elements


def _confirm(element: dict[str, Any]) -> str:
    confirm = element.get("confirm")
    if not isinstance(confirm, dict):
        return ""
    shown = {
        "title": words(confirm.get("title")) or "Are you sure?",
        "text": words(confirm.get("text")),
        "confirm": words(confirm.get("confirm")) or "Yes",
        "deny": words(confirm.get("deny")) or "Cancel",
        "style": confirm.get("style", ""),
    }
    return f" data-confirm='{esc(json.dumps(shown))}'"


def _element(
    block: dict[str, Any], element: dict[str, Any], ctx: Context, label: str | None
) -> str:
    kind = element.get("type")
    data = _data(block, element)
    placeholder = words(element.get("placeholder"))
    name = placeholder or label or element.get("action_id", "choose")
    if kind == "button":
        style = element.get("style")
        cls = f"bk-btn {esc(style)}" if style in ("primary", "danger") else "bk-btn"
        url = f' data-url="{esc(element["url"])}"' if element.get("url") else ""
        value = f' data-value="{esc(element["value"])}"' if "value" in element else ""
        aria = (
            f' aria-label="{esc(element["accessibility_label"])}"'
            if element.get("accessibility_label")
            else ""
        )
        return (
            f'<button type="button" class="{cls}" {data}{value}{url}{aria}{_confirm(element)}>'
            f"{text_html(element.get('text'), ctx)}</button>"
        )
    if kind in ("overflow", "static_select", "external_select"):
        return _menu(element, data, name, ctx, overflow=kind == "overflow")
    if kind in ("users_select", "conversations_select", "channels_select"):
        return _native_select(element, data, name, ctx, multiple=False, acts=True)
    if kind in (
        "multi_static_select",
        "multi_users_select",
        "multi_conversations_select",
        "multi_channels_select",
    ):
        return _native_select(element, data, name, ctx, multiple=True, acts=True)
    if kind in ("datepicker", "timepicker", "datetimepicker"):
        return _picker(element, data, name, None, acts=True)
    if kind in ("checkboxes", "radio_buttons"):
        return _choices(block, element, data, name, None, acts=True, ctx=ctx)
    return f'<span class="bk-context">({esc(kind)})</span>'


def _menu(element: dict[str, Any], data: str, name: str, ctx: Context, overflow: bool) -> str:
    """An overflow or a select that acts at once, as a WAI-ARIA menu button: the button
    opens a ``menu``; a select's options are ``menuitemradio``, the chosen one checked."""
    menu_id = ctx.uid("menu")
    initial = element.get("initial_option")
    chosen = str(initial.get("value", "")) if isinstance(initial, dict) else None
    role = "menuitem" if overflow else "menuitemradio"
    items = "".join(
        f'<li role="none"><button type="button" role="{role}" tabindex="-1" class="bk-option"'
        + ("" if overflow else f' aria-checked="{str(o.get("value") == chosen).lower()}"')
        + f' data-option="{esc(o.get("value", ""))}">{text_html(o.get("text"), ctx)}</button></li>'
        for o in forms.options_of(element)
    )
    shown = "⋯" if overflow else plain(words(initial.get("text")) if initial else name)
    label = "More actions" if overflow and name == element.get("action_id") else name
    cls = "bk-overflow" if overflow else "bk-select"
    return (
        f'<div class="bk-menu {cls}" {data}{_confirm(element)}>'
        f'<button type="button" class="bk-menu-toggle" id="{menu_id}-button" '
        f'aria-haspopup="menu" aria-expanded="false" aria-controls="{menu_id}" '
        f'aria-label="{esc(label)}">{shown}{"" if overflow else " ▾"}</button>'
        f'<ul class="bk-menu-list" id="{menu_id}" role="menu" aria-labelledby="{menu_id}-button"'
        f" hidden>{items}</ul></div>"
    )


def _choice_list(element: dict[str, Any], ctx: Context) -> list[tuple[str, str]]:
    kind = str(element.get("type", ""))
    if "users" in kind:
        return list(ctx.people)
    if "conversations" in kind or "channels" in kind:
        return list(ctx.channels)
    return [(str(o.get("value", "")), words(o.get("text"))) for o in forms.options_of(element)]


def _selected(element: dict[str, Any], current: Mapping[str, Any] | None) -> set[str]:
    """The values chosen now: the form's state when there is one, else the initial ones."""
    state = current if current is not None else forms.initial_value(element)
    chosen: set[str] = set()
    for key, value in state.items():
        if key == "type" or value in (None, "", []):
            continue
        for item in value if isinstance(value, list) else [value]:
            chosen.add(str(item.get("value", "")) if isinstance(item, dict) else str(item))
    return chosen


def _native_select(
    element: dict[str, Any],
    data: str,
    name: str,
    ctx: Context,
    *,
    multiple: bool,
    acts: bool,
    control_id: str | None = None,
    described: str = "",
    current: Mapping[str, Any] | None = None,
) -> str:
    chosen = _selected(element, current)
    groups = element.get("option_groups")
    if groups and "static" in str(element.get("type")):
        body = "".join(
            f'<optgroup label="{esc(words(g.get("label")))}">'
            + "".join(
                f'<option value="{esc(o.get("value", ""))}"'
                f"{' selected' if str(o.get('value', '')) in chosen else ''}>"
                f"{plain(words(o.get('text')))}</option>"
                for o in g.get("options") or []
            )
            + "</optgroup>"
            for g in groups
        )
    else:
        body = "".join(
            f'<option value="{esc(value)}"{" selected" if value in chosen else ""}>'
            f"{plain(text)}</option>"
            for value, text in _choice_list(element, ctx)
        )
    if not multiple:
        first = "" if chosen else " selected"
        body = f'<option value=""{first}>{plain(name if acts else "Choose…")}</option>' + body
    attrs = f' id="{control_id}"' if control_id else f' aria-label="{esc(name)}"'
    if described:
        attrs += f' aria-describedby="{described}"'
    if multiple:
        attrs += f' multiple size="{min(6, max(3, len(_choice_list(element, ctx))))}"'
    act = " data-acts" if acts else ""
    return f'<select class="bk-native" {data}{attrs}{act}>{body}</select>'


def _picker(
    element: dict[str, Any],
    data: str,
    name: str,
    control_id: str | None,
    *,
    acts: bool,
    described: str = "",
    current: Mapping[str, Any] | None = None,
) -> str:
    kind = element.get("type")
    state = current if current is not None else forms.initial_value(element)
    if kind == "datepicker":
        kind_attr, value = "date", state.get("selected_date")
    elif kind == "timepicker":
        kind_attr, value = "time", state.get("selected_time")
    else:
        kind_attr, value = "datetime-local", ""
    attrs = f' id="{control_id}"' if control_id else f' aria-label="{esc(name)}"'
    if described:
        attrs += f' aria-describedby="{described}"'
    act = " data-acts" if acts else ""
    return (
        f'<input class="bk-field" type="{kind_attr}" {data}{attrs}{act} value="{esc(value or "")}">'
    )


def _choices(
    block: dict[str, Any],
    element: dict[str, Any],
    data: str,
    name: str,
    legend: str | None,
    *,
    acts: bool,
    ctx: Context,
    described: str = "",
    current: Mapping[str, Any] | None = None,
) -> str:
    kind = "checkbox" if element.get("type") == "checkboxes" else "radio"
    group = ctx.uid("group")
    chosen = _selected(element, current)
    items = []
    for option in forms.options_of(element):
        value = str(option.get("value", ""))
        option_id = ctx.uid("opt")
        description = option.get("description")
        more = (
            f'<span class="bk-option-desc">{text_html(description, ctx)}</span>'
            if description
            else ""
        )
        items.append(
            f'<div class="bk-choice"><input type="{kind}" id="{option_id}" name="{group}" '
            f'value="{esc(value)}"{" checked" if value in chosen else ""}>'
            f'<label for="{option_id}">{text_html(option.get("text"), ctx)}{more}</label></div>'
        )
    shown = f"<legend>{plain(legend)}</legend>" if legend is not None else ""
    aria = "" if legend is not None else f' aria-label="{esc(name)}"'
    if described:
        aria += f' aria-describedby="{described}"'
    act = " data-acts" if acts else ""
    return f'<fieldset class="bk-choices" {data}{aria}{act}>{shown}{"".join(items)}</fieldset>'


def _input(block: dict[str, Any], ctx: Context) -> str:
    element = block.get("element") or {}
    kind = str(element.get("type", ""))
    block_id = str(block.get("block_id", ""))
    action_id = str(element.get("action_id", ""))
    data = _data(block, element)
    label = words(block.get("label"))
    optional = bool(block.get("optional"))
    if optional and "(optional)" not in label.lower():
        shown_label = f'{plain(label)} <span class="bk-optional">(optional)</span>'
    else:
        shown_label = plain(label)
    control_id = ctx.uid("input")
    hint_id = f"{control_id}-hint"
    error_id = f"{control_id}-error"
    described = " ".join(
        i
        for i, present in ((hint_id, block.get("hint")), (error_id, block_id in ctx.errors))
        if present
    )
    current = ctx.values.get(block_id, {}).get(action_id)
    acts = bool(block.get("dispatch_action")) and kind != "plain_text_input"
    required = "" if optional else ' aria-required="true"'
    invalid = ' aria-invalid="true"' if block_id in ctx.errors else ""
    attrs = f'id="{control_id}"{required}{invalid}' + (
        f' aria-describedby="{described}"' if described else ""
    )
    grouped = kind in ("checkboxes", "radio_buttons")
    if kind in ("plain_text_input", "email_text_input", "url_text_input", "number_input"):
        state = current if current is not None else forms.initial_value(element)
        value = state.get("value") or ""
        placeholder = words(element.get("placeholder"))
        ph = f' placeholder="{esc(placeholder)}"' if placeholder else ""
        limits = ""
        if element.get("max_length"):
            limits += f' maxlength="{int(element["max_length"])}"'
        if element.get("multiline"):
            field = (
                f'<textarea class="bk-field" {data} {attrs}{ph}{limits} rows="4">'
                f"{esc(value)}</textarea>"
            )
        else:
            html_type = {
                "email_text_input": "email",
                "url_text_input": "url",
                "number_input": "number",
            }.get(kind, "text")
            if kind == "number_input":
                for key, attr in (("min_value", "min"), ("max_value", "max")):
                    if element.get(key) is not None:
                        limits += f' {attr}="{esc(element[key])}"'
                limits += ' step="any"' if element.get("is_decimal_allowed") else ' step="1"'
            field = (
                f'<input class="bk-field" type="{html_type}" {data} {attrs}{ph}{limits}'
                f' value="{esc(value)}">'
            )
    elif kind in (
        "static_select",
        "external_select",
        "users_select",
        "conversations_select",
        "channels_select",
    ):
        field = _native_select(
            element,
            data,
            label,
            ctx,
            multiple=False,
            acts=acts,
            control_id=control_id,
            described=described,
            current=current,
        ).replace("<select ", f"<select{required}{invalid} ", 1)
    elif kind.startswith("multi_"):
        field = _native_select(
            element,
            data,
            label,
            ctx,
            multiple=True,
            acts=acts,
            control_id=control_id,
            described=described,
            current=current,
        ).replace("<select ", f"<select{required}{invalid} ", 1)
    elif kind in ("datepicker", "timepicker", "datetimepicker"):
        field = _picker(
            element, data, label, control_id, acts=acts, described=described, current=current
        ).replace("<input ", f"<input{required}{invalid} ", 1)
    elif grouped:
        field = _choices(
            block,
            element,
            data,
            label,
            None,
            acts=acts,
            ctx=ctx,
            described=described,
            current=current,
        )
    else:
        field = (
            f'<p class="bk-context">This form uses a {esc(kind)}, '
            "which the sandbox cannot show.</p>"
        )
    hint = (
        f'<p class="bk-hint" id="{hint_id}">{text_html(block.get("hint"), ctx)}</p>'
        if block.get("hint")
        else ""
    )
    error = (
        f'<p class="bk-error" id="{error_id}" role="alert">{plain(ctx.errors[block_id])}</p>'
        if block_id in ctx.errors
        else ""
    )
    if grouped:
        # A group of checkboxes or radio buttons is named by its legend.
        field = field.replace(
            f'aria-label="{esc(label)}"', f'aria-labelledby="{control_id}-legend"', 1
        )
        head = f'<span class="bk-label" id="{control_id}-legend">{shown_label}</span>'
    else:
        head = f'<label class="bk-label" for="{control_id}">{shown_label}</label>'
    return (
        f'<div class="bk-input{" has-error" if error else ""}" data-input="{esc(block_id)}">'
        f"{head}{field}{hint}{error}</div>"
    )
