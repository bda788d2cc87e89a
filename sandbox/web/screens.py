"""The page's parts as HTML, read from the twin: sidebar, a conversation, a thread, the
App Home and the open modal. Nothing here changes anything."""

from __future__ import annotations

import html
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.demo import DemoPerson
from sandbox.web.blocks import Context, esc, render_blocks, text_html, words
from sandbox.web.mrkdwn import plain, to_html
from slacktwin import SlackTwin
from slacktwin.state import ts_key
from storage import clock as storage_clock

LONDON = ZoneInfo("Europe/London")


def role_of(person: DemoPerson) -> str:
    return "workspace admin" if person.is_admin else "lead" if person.is_lead else "member"


def context_for(
    twin: SlackTwin,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    in_form: bool = False,
) -> Context:
    ws = twin.ws
    with ws.lock:
        people = sorted(
            (u.id, u.real_name or u.name)
            for u in ws.users.values()
            if not u.is_bot and not u.deleted and u.id != "USLACKBOT"
        )
        channels = sorted(
            (c.id, f"#{c.name}")
            for c in ws.channels.values()
            if not c.is_im and not c.is_mpim and not c.is_archived
        )
    people.sort(key=lambda p: p[1])
    channels.sort(key=lambda c: c[1])
    return Context(
        user=twin.user_name,
        channel=twin.channel_name,
        people=people,
        channels=channels,
        values=values or {},
        errors=errors or {},
        file_url=lambda file_id: f"/files/{file_id}",
        in_form=in_form,
    )


def conversations(twin: SlackTwin, me: str) -> list[dict[str, Any]]:
    """What the sidebar lists for a person: channels they are in, the app's DM with them,
    and group DMs that include them."""
    ws = twin.ws
    found: list[dict[str, Any]] = []
    with ws.lock:
        for channel in ws.channels.values():
            if me not in channel.members or channel.is_im or channel.is_archived:
                continue
            if channel.is_mpim:
                others = [
                    ws.users[m].real_name or ws.users[m].name
                    for m in channel.members
                    if m != me and m in ws.users and m != ws.bot_user_id
                ]
                name = ", ".join(sorted(others)) + " and copbot"
                found.append({"id": channel.id, "kind": "group", "name": name})
            else:
                prefix = "🔒 " if channel.is_private else "#"
                found.append({"id": channel.id, "kind": "channel", "name": prefix + channel.name})
    found.sort(key=lambda c: (c["kind"] != "channel", c["name"]))
    return found


def latest_ts(twin: SlackTwin, conversation: str, me: str) -> str:
    """The newest message in a conversation a person can see (for unread marks)."""
    ws = twin.ws
    with ws.lock:
        channel = twin._channel(conversation)
        stamps = [m["ts"] for m in channel.messages]
        stamps += [
            e["ts"] for e in ws.ephemerals if e["recipient"] == me and e["channel"] == channel.id
        ]
    return max(stamps, key=ts_key) if stamps else "0.000000"


def unread(twin: SlackTwin, conversation: str, me: str, seen: str | None) -> int:
    ws = twin.ws
    with ws.lock:
        channel = twin._channel(conversation)
        mark = ts_key(seen or "0.000000")
        count = sum(
            1 for m in ws.top_level(channel) if ts_key(m["ts"]) > mark and m.get("user") != me
        )
        count += sum(
            1
            for e in ws.ephemerals
            if e["recipient"] == me and e["channel"] == channel.id and ts_key(e["ts"]) > mark
        )
    return count


def _clock_time(ts: str) -> tuple[str, str]:
    """The time shown beside a message: the day too when it is not the sandbox's today."""
    seconds = ts_key(ts)[0]
    moment = datetime.fromtimestamp(seconds, UTC).astimezone(LONDON)
    today = storage_clock.now().astimezone(LONDON).date()
    shown = moment.strftime("%H:%M" if moment.date() == today else "%a %d %b, %H:%M")
    return shown, moment.isoformat()


def _author(twin: SlackTwin, message: dict[str, Any]) -> tuple[str, bool]:
    if message.get("bot_id") or message.get("user") == twin.bot_user_id:
        return "copbot", True
    user = message.get("user") or ""
    return twin.user_name(user) or user or "someone", False


def _files(message: dict[str, Any]) -> str:
    parts = []
    for item in message.get("files") or []:
        file_id = esc(item.get("id", ""))
        name = str(item.get("name") or item.get("title") or "file")
        title = str(item.get("title") or name)
        mimetype = str(item.get("mimetype") or "")
        if mimetype.startswith("image/"):
            alt = item.get("alt_txt") or title
            parts.append(
                f'<figure class="file-image"><img src="/files/{file_id}" alt="{esc(alt)}">'
                f"<figcaption>{plain(title)}</figcaption></figure>"
            )
        else:
            kind = esc(name.rsplit(".", 1)[-1].upper())
            parts.append(
                f'<div class="file-card"><span class="file-type">{kind}</span>'
                f'<a href="/files/{file_id}" download="{esc(name)}">Download {plain(name)}</a>'
                "</div>"
            )
    return "".join(parts)


# What the page's "Add reaction" menu offers: :bulb: offers to capture a message as an
# idea, :memo: marks it as learning, the rest are what people add anyway.
REACTIONS = ("bulb", "memo", "thumbsup", "eyes", "tada", "heart", "pray", "raised_hands")


def _reactions(message: dict[str, Any], me: str, can_react: bool) -> str:
    """The reactions under a message; each is a toggle (pressed when it is also mine)."""
    chips = []
    for reaction in message.get("reactions") or []:
        name = str(reaction.get("name", ""))
        count = int(reaction.get("count", 0))
        mine = me in (reaction.get("users") or [])
        who = f"{count} {'person' if count == 1 else 'people'}" + (", you too" if mine else "")
        face = f"{plain(':' + name + ':')} {count}"
        if can_react:
            chips.append(
                f'<button type="button" class="reaction" data-react="{esc(name)}" '
                f'aria-pressed="{str(mine).lower()}" aria-label="{esc(name)} reaction: {who}">'
                f"{face}</button>"
            )
        else:
            chips.append(f'<span class="reaction" aria-label="{esc(name)}: {who}">{face}</span>')
    return f'<div class="reactions">{"".join(chips)}</div>' if chips else ""


def _menu(menu_id: str, label: str, shown: str, items: str, cls: str = "") -> str:
    """A WAI-ARIA menu button: a button that opens a ``menu`` of ``menuitem`` buttons."""
    return (
        f'<div class="bk-menu {cls}"><button type="button" class="bk-menu-toggle msg-tool" '
        f'id="{menu_id}-button" aria-haspopup="menu" aria-expanded="false" '
        f'aria-controls="{menu_id}" aria-label="{esc(label)}">{shown}</button>'
        f'<ul class="bk-menu-list" id="{menu_id}" role="menu" '
        f'aria-labelledby="{menu_id}-button" hidden>{items}</ul></div>'
    )


def message_html(
    twin: SlackTwin,
    message: dict[str, Any],
    channel: str,
    ctx: Context,
    *,
    shortcuts: list[dict[str, str]],
    me: str = "",
    in_thread: bool = False,
) -> str:
    author, is_app = _author(twin, message)
    clock, stamp = _clock_time(message["ts"])
    ephemeral = message.get("subtype") == "ephemeral"
    blocks = message.get("blocks")
    typed = (
        not is_app
        and message.get("text")
        and all(b.get("type") == "rich_text" for b in blocks or [])
    )
    if typed:
        # What a person typed: Slack's client turns their *bold* and :emoji: into rich
        # text; the twin keeps the words, so draw them as mrkdwn.
        blocks = None
    if blocks:
        body = render_blocks(blocks, ctx)
    else:
        shown = to_html(str(message.get("text") or ""), ctx.user, ctx.channel)
        body = f'<div class="bk-text">{shown}</div>'
    badge = '<span class="badge">APP</span>' if is_app else ""
    surface = "ephemeral" if ephemeral else "message"
    note = '<p class="only-you">Only visible to you</p>' if ephemeral else ""
    thread = ""
    replies = int(message.get("reply_count") or 0)
    if replies and not in_thread and message.get("thread_ts") == message["ts"]:
        thread = (
            f'<button type="button" class="link thread-open" data-thread="{esc(message["ts"])}">'
            f"{replies} {'reply' if replies == 1 else 'replies'}</button>"
        )
    actions = ""
    can_react = not ephemeral and message.get("subtype") != "tombstone"
    if can_react:
        stem = f"{message['ts'].replace('.', '-')}{'-t' if in_thread else ''}"
        shortcut_items = "".join(
            f'<li role="none"><button type="button" role="menuitem" tabindex="-1" '
            f'class="bk-option" data-shortcut="{esc(s["callback_id"])}">'
            f"{plain(s['name'])}</button></li>"
            for s in shortcuts
        )
        reaction_items = "".join(
            f'<li role="none"><button type="button" role="menuitem" tabindex="-1" '
            f'class="bk-option" data-react="{name}">{plain(f":{name}:")} '
            f"{name.replace('_', ' ')}</button></li>"
            for name in REACTIONS
        )
        root = esc(message.get("thread_ts") or message["ts"])
        reply = (
            ""
            if in_thread
            else f'<button type="button" class="msg-tool thread-open" data-thread="{root}">'
            "Reply in thread</button>"
        )
        actions = (
            f'<div class="msg-tools">{reply}'
            + _menu(f"react-{stem}", "Add reaction", "Add reaction", reaction_items)
            + _menu(f"more-{stem}", "More actions", "More actions", shortcut_items, "msg-more")
            + "</div>"
        )
    label = f"{author} at {clock}"
    return (
        f'<article class="msg{" ephemeral" if ephemeral else ""}" data-surface="{surface}" '
        f'data-channel="{esc(channel)}" data-ts="{esc(message["ts"])}" aria-label="{esc(label)}">'
        f'<div class="msg-head"><span class="author">{plain(author)}</span>{badge}'
        f'<time datetime="{esc(stamp)}">{clock}</time></div>{note}'
        f'<div class="msg-body">{body}</div>{_files(message)}'
        f"{_reactions(message, me, can_react)}{thread}"
        f"{actions}</article>"
    )


def conversation_html(
    twin: SlackTwin, channel: str, me: str, shortcuts: list[dict[str, str]]
) -> str:
    ws = twin.ws
    ctx = context_for(twin)
    with ws.lock:
        conversation = twin._channel(channel)
        shown = list(ws.top_level(conversation))
        shown += [
            e
            for e in ws.ephemerals
            if e["recipient"] == me
            and e["channel"] == conversation.id
            and not (e.get("thread_ts") and e.get("thread_ts") != e["ts"])
        ]
        shown = [dict(m) for m in shown]
    shown.sort(key=lambda m: ts_key(m["ts"]))
    if not shown:
        return '<p class="empty">No messages yet. Say hello, or type / for copbot\'s commands.</p>'
    return "".join(
        message_html(twin, m, conversation.id, ctx, shortcuts=shortcuts, me=me) for m in shown
    )


def thread_html(
    twin: SlackTwin, channel: str, ts: str, me: str, shortcuts: list[dict[str, str]]
) -> str:
    ctx = context_for(twin)
    ws = twin.ws
    with ws.lock:
        conversation = twin._channel(channel)
        messages = [dict(m) for m in ws.thread(conversation, ts)]
        messages += [
            dict(e)
            for e in ws.ephemerals
            if e["recipient"] == me and e["channel"] == conversation.id and e.get("thread_ts") == ts
        ]
    messages.sort(key=lambda m: ts_key(m["ts"]))
    return "".join(
        message_html(twin, m, conversation.id, ctx, shortcuts=shortcuts, me=me, in_thread=True)
        for m in messages
    )


def home_html(twin: SlackTwin, me: str) -> str:
    view = twin.home_view(me)
    if view is None:
        return '<p class="empty">copbot has not drawn your Home tab yet.</p>'
    ctx = context_for(twin, values=view.get("state", {}).get("values", {}))
    return (
        f'<div class="home" data-surface="home" data-view="{esc(view["id"])}">'
        f"{render_blocks(view.get('blocks') or [], ctx)}</div>"
    )


def modal_html(twin: SlackTwin, view: dict[str, Any], depth: int, errors: dict[str, str]) -> str:
    """The top modal: its title, form, errors under their fields and the footer buttons."""
    twin_ctx = context_for(
        twin, values=view.get("state", {}).get("values", {}), errors=errors, in_form=True
    )
    title = words(view.get("title")) or "copbot"
    close = words(view.get("close")) or "Cancel"
    submit = words(view.get("submit"))
    body = render_blocks(view.get("blocks") or [], twin_ctx)
    submit_button = (
        f'<button type="submit" class="bk-btn primary modal-submit">{plain(submit)}</button>'
        if submit and not view.get("submit_disabled")
        else ""
    )
    back = " (back)" if depth > 1 else ""
    return (
        f'<div class="modal" role="dialog" aria-modal="true" aria-labelledby="modal-title" '
        f'data-surface="modal" data-view="{esc(view["id"])}">'
        f'<form class="modal-form" novalidate>'
        f'<header class="modal-head"><h2 id="modal-title">{plain(title)}</h2>'
        f'<button type="button" class="modal-close icon" aria-label="Close{html.escape(back)}">×'
        f"</button></header>"
        f'<div class="modal-body">{body}</div>'
        f'<footer class="modal-foot"><button type="button" class="bk-btn modal-close">'
        f"{plain(close)}</button>{submit_button}</footer></form></div>"
    )


__all__ = [
    "context_for",
    "conversation_html",
    "conversations",
    "home_html",
    "message_html",
    "modal_html",
    "role_of",
    "text_html",
    "thread_html",
    "unread",
]
