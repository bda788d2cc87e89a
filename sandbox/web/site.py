"""The running sandbox behind the page: the world, what each person has seen, form errors
Slack would be showing, and the saved conversations.

The twin is the single source of truth: every screen is drawn from its state, and every
action a person takes goes to copbot through ``SlackDriver`` as Slack would send it
(signed commands, events and interactions).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.demo import DemoPerson
from sandbox import clock
from sandbox.web import persist, screens
from sandbox.world import SANDBOX_DATABASE, World
from slacktwin import forms
from slacktwin.errors import TwinUsageError

log = logging.getLogger("copbot.sandbox.web")

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.json"
STATE_FILE = Path("var/sandbox-twin.json")
HOME = "home"
FIRST_CHANNEL = "C0SBIDEAS"  # #ideas: where a newcomer starts


class BadRequest(Exception):
    """Input the page should not have sent: answered 400 with a readable message."""


def _shortcuts(kind: str) -> list[dict[str, str]]:
    try:
        manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    found = manifest.get("features", {}).get("shortcuts") or []
    return [
        {"name": str(s["name"]), "callback_id": str(s["callback_id"])}
        for s in found
        if s.get("type") == kind
    ]


class Site:
    """The running sandbox behind the page: the world, what each person has seen, form
    errors Slack would be showing, and the saved conversations."""

    def __init__(
        self,
        settings: Settings,
        *,
        state_file: Path | None = STATE_FILE,
        start_world: Callable[..., World] = World.start,
        tick: float | None = None,
    ) -> None:
        self.settings = settings
        self.state_file = state_file
        self.start_world = start_world
        self.tick = tick  # None: scheduled jobs run only when the clock is moved (tests)
        self.lock = threading.RLock()
        self.errors: dict[str, dict[str, str]] = {}  # view id -> block id -> message
        self.seen: dict[tuple[str, str], str] = {}  # (user, conversation) -> ts
        self.bumps = 0
        self.saved_version: tuple[int, ...] | None = None
        self.message_shortcuts = _shortcuts("message")
        self.global_shortcuts = _shortcuts("global")
        self.world = self._boot()
        self._stop = threading.Event()
        self._saver = threading.Thread(target=self._save_loop, name="sandbox-save", daemon=True)
        self._saver.start()

    # ------------------------------------------------------------------ lifecycle

    def _boot(self) -> World:
        def prepare(twin: Any) -> None:
            if self.state_file is not None and persist.restore(twin, self.state_file):
                log.info("put back the sandbox's conversations from %s", self.state_file)

        return self.start_world(self.settings, tick=self.tick, prepare=prepare)

    def save(self) -> None:
        if self.state_file is None:
            return
        with self.lock:
            version = self.version_key()
            if version == self.saved_version:
                return
            persist.save(self.world.twin, self.state_file)
            self.saved_version = version

    def _save_loop(self) -> None:
        while not self._stop.wait(1.0):
            try:
                self.save()
            except Exception:  # keep saving later; a failed write must not stop the page
                log.exception("could not save the sandbox's conversations")

    def close(self) -> None:
        self._stop.set()
        self._saver.join(timeout=5)
        with self.lock:
            self.save()
            self.world.close()

    def reset(self) -> None:
        """Start the demo over: copbot's sandbox data, the conversations and the clock."""
        with self.lock:
            self.world.close()
            database_url = self.world.deps.settings.database_url
            if database_url == SANDBOX_DATABASE:
                for suffix in ("", "-wal", "-shm", "-journal"):
                    Path("var/sandbox.db" + suffix).unlink(missing_ok=True)
            else:
                _drop_everything(database_url)
            clock_file = getattr(self.world, "clock_file", None)
            if clock_file is not None:
                Path(clock_file).unlink(missing_ok=True)
            if self.state_file is not None:
                self.state_file.unlink(missing_ok=True)
            self.errors.clear()
            self.seen.clear()
            self.world = self._boot()
            self.bump()

    # ------------------------------------------------------------------ reading

    def bump(self) -> None:
        self.bumps += 1

    def version_key(self) -> tuple[int, ...]:
        twin = self.world.twin
        ws = twin.ws
        with ws.lock:
            messages = sum(len(c.messages) for c in ws.channels.values())
            return (
                id(self.world),
                self.bumps,
                len(twin.log.all()),
                messages,
                len(ws.ephemerals),
                len(ws.files),
                sum(len(stack) for stack in ws.modal_stacks.values()),
            )

    def version(self) -> str:
        return ".".join(str(part) for part in self.version_key())

    def person(self, user_id: str) -> DemoPerson:
        for person in self.world.people:
            if person.user_id == user_id:
                return person
        raise BadRequest(f"There is nobody with the id {user_id!r} in the demo community.")

    def now(self) -> datetime:
        return self.world.clock.now()

    def screen(self, me: str, at: str, thread: str | None) -> dict[str, Any]:
        person = self.person(me)
        twin = self.world.twin
        listed = screens.conversations(twin, me)
        dm = twin.dm_channel(me)
        ids = {c["id"] for c in listed} | {HOME, dm}
        if at not in ids:
            at = FIRST_CHANNEL if FIRST_CHANNEL in ids else (listed[0]["id"] if listed else HOME)
        for item in listed:
            item["unread"] = (
                0
                if item["id"] == at
                else screens.unread(twin, item["id"], me, self.seen.get((me, item["id"])))
            )
        dm_unread = 0 if at in (dm, HOME) else screens.unread(twin, dm, me, self.seen.get((me, dm)))
        if at == HOME:
            main = screens.home_html(twin, me)
            title = "copbot · Home"
        else:
            main = screens.conversation_html(twin, at, me, self.message_shortcuts)
            title = next((c["name"] for c in listed if c["id"] == at), "copbot · Messages")
        thread_html = None
        if thread and at != HOME:
            thread_html = screens.thread_html(twin, at, thread, me, self.message_shortcuts)
        stack = twin.modal_stack(me)
        modal = None
        if stack:
            top = stack[-1]
            errors = self.errors.get(top["id"], {})
            modal = {
                "key": f"{top['id']}:{top.get('hash')}:{json.dumps(errors, sort_keys=True)}",
                "html": screens.modal_html(twin, top, len(stack), errors),
            }
        now = self.now().astimezone(screens.LONDON)
        return {
            "version": self.version(),
            "me": {
                "id": person.user_id,
                "name": person.real_name,
                "role": screens.role_of(person),
                "title": person.title,
                "organisation": person.organisation,
            },
            "at": at,
            "dm": dm,
            "dm_unread": dm_unread,
            "title": title,
            "conversations": listed,
            "main": main,
            "thread": thread_html,
            "modal": modal,
            "clock": now.strftime("%a %d %b %Y, %H:%M"),
            "composer": at != HOME,
        }

    def mark_seen(self, me: str, at: str) -> None:
        if at != HOME:
            self.seen[(me, at)] = screens.latest_ts(self.world.twin, at, me)

    # ------------------------------------------------------------------ acting

    def settle(self) -> None:
        self.world.settle(timeout=8.0, quiet=0.25)
        self.bump()

    def open_home(self, me: str) -> None:
        twin = self.world.twin
        published = len(twin.calls_to("views.publish"))
        self.world.driver.app_home_opened(me)
        try:
            twin.wait_for(lambda: len(twin.calls_to("views.publish")) > published, timeout=8)
        except TimeoutError:
            log.warning("copbot did not publish %s's Home tab", me)
        self.settle()

    def send(self, me: str, at: str, text: str, thread: str | None) -> str | None:
        """A typed line: a slash command, or a message in the conversation."""
        text = text.strip()
        if not text:
            raise BadRequest("Type a message first.")
        conversation = None if at in (HOME, self.world.twin.dm_channel(me)) else at
        if text.startswith("/"):
            command, _, rest = text.partition(" ")
            known = {"/idea", "/pulse", "/exchange", "/digest", "/copbot"}
            if command not in known:
                return f"{command} is not a command here. Try {', '.join(sorted(known))}."
            response = self.world.driver.command(me, command, rest.strip(), channel=conversation)
            self.settle()
            if response.status_code != 200:
                return f"Slack would show an error: copbot answered {response.status_code}."
            return None
        self.world.driver.post_message(me, conversation, text, thread_ts=thread or None)
        self.settle()
        return None

    def shortcut(self, me: str, callback_id: str, channel: str | None, ts: str | None) -> None:
        if channel and ts:
            if callback_id not in {s["callback_id"] for s in self.message_shortcuts}:
                raise BadRequest("That is not one of copbot's message shortcuts.")
            self.world.driver.message_shortcut(me, callback_id, channel, ts)
        else:
            if callback_id not in {s["callback_id"] for s in self.global_shortcuts}:
                raise BadRequest("That is not one of copbot's shortcuts.")
            self.world.driver.shortcut(me, callback_id)
        self.settle()

    def react(self, me: str, channel: str, ts: str, name: str) -> None:
        """Add the person's reaction to a message (Slack sends ``reaction_added``, so
        :bulb: gets copbot's offer), or take it off again when it is already theirs."""
        twin = self.world.twin
        message = twin.message(channel, ts)
        if message is None:
            raise BadRequest("That message is gone.")
        there = {r.get("name"): r.get("users") or [] for r in message.get("reactions") or []}
        if name not in screens.REACTIONS and name not in there:
            raise BadRequest("Choose a reaction from the menu.")
        if me in there.get(name, []):  # copbot subscribes to reaction_added only
            twin.ws.remove_reaction(twin._channel(channel), ts, name, me)
        else:
            self.world.driver.react(me, channel, ts, name)
        self.settle()

    def _surface(self, me: str, where: dict[str, Any]) -> tuple[dict[str, Any], list[dict]]:
        """Driver keyword arguments for a surface, and that surface's blocks now."""
        twin = self.world.twin
        surface = where.get("surface")
        if surface == "message":
            channel, ts = str(where.get("channel")), str(where.get("ts"))
            conversation = None if channel == twin.dm_channel(me) else channel
            try:
                message = twin.message(channel, ts)
            except TwinUsageError as error:
                raise BadRequest("That conversation does not exist.") from error
            if message is None:
                raise BadRequest("That message is gone.")
            return {"message": (conversation or me, ts)}, message.get("blocks") or []
        if surface == "ephemeral":
            ts = str(where.get("ts"))
            found = [e for e in twin.ephemerals(me) if e["ts"] == ts]
            if not found:
                raise BadRequest("That message is gone.")
            return {"ephemeral": ts}, found[-1].get("blocks") or []
        if surface == "home":
            view = twin.home_view(me)
            if view is None:
                raise BadRequest("Your Home tab is not drawn yet.")
            return {"home": True}, view.get("blocks") or []
        if surface == "modal":
            view = twin.current_modal(me)
            if view is None or view["id"] != where.get("view"):
                raise BadRequest("That form is no longer open.")
            return {"modal": True}, view.get("blocks") or []
        raise BadRequest("Say where the control is.")

    def store_values(self, me: str, values: dict[str, Any]) -> None:
        """What the person typed and chose in the open modal, into its state (Slack's
        client keeps this and sends it with every action and the submission)."""
        view = self.world.twin.current_modal(me)
        if view is None or not values:
            return
        driver = self.world.driver
        prepared: list[tuple[str, str, dict[str, Any]]] = []
        for block in forms.input_blocks(view.get("blocks") or []):
            block_id = block["block_id"]
            element = block["element"]
            action_id = element.get("action_id", "")
            if block_id not in values:
                continue
            raw = values[block_id]
            kind = element.get("type", "")
            if raw in ("", None, []) and kind not in forms.SELECT_LIKE:
                raw = None
            if raw in ("", None) and kind in forms.SELECT_LIKE:
                raw = [] if kind.startswith("multi_") or kind == "checkboxes" else None
            try:
                state = forms.value_for(
                    element,
                    raw,
                    resolve_user=driver.resolve_user,
                    resolve_channel=driver.resolve_channel,
                )
            except (LookupError, TwinUsageError) as error:
                raise BadRequest(f"That choice is not on the form: {error}") from error
            prepared.append((block_id, action_id, state))
        ws = self.world.twin.ws
        with ws.lock:
            stored = ws.views.get(view["id"])
            if stored is None:
                return
            box = stored.setdefault("state", {}).setdefault("values", {})
            for block_id, action_id, state in prepared:
                box.setdefault(block_id, {})[action_id] = state

    def act(self, me: str, where: dict[str, Any], control: dict[str, Any]) -> None:
        """A button pressed or a menu, picker or choice used, as block_actions."""
        if where.get("surface") == "modal":
            self.store_values(me, where.get("values") or {})
        kwargs, blocks = self._surface(me, where)
        block_id, action_id = str(control.get("block")), str(control.get("action"))
        found = [
            c
            for c in forms.controls(blocks)
            if c.block.get("block_id") == block_id and c.element.get("action_id") == action_id
        ]
        if not found:
            raise BadRequest("That button or menu is no longer there.")
        target = found[0]
        element = target.element
        driver = self.world.driver
        if element.get("type") == "button":
            label = forms.text_of(element.get("text"))
            same = [
                c
                for c in forms.controls(blocks)
                if c.element.get("type") == "button"
                and " ".join(forms.text_of(c.element.get("text")).split()).casefold()
                == " ".join(label.split()).casefold()
            ]
            index = next(i for i, c in enumerate(same) if c is target or c == target)
            driver.click(me, label, index=index, **kwargs)
        else:
            value = control.get("value")
            candidates = [
                c
                for c in forms.controls(blocks)
                if c.element.get("type") in forms.SELECT_LIKE
                and (c.block.get("type") != "input" or c.block.get("dispatch_action"))
            ]
            named = [
                c
                for c in candidates
                if c.element.get("action_id") == action_id
                or " ".join(action_id.split()).casefold()
                in {
                    " ".join(forms.text_of(c.element.get("placeholder")).split()).casefold(),
                    " ".join(c.label.split()).casefold(),
                }
            ]
            if target not in named:
                raise BadRequest("That menu cannot be used here.")
            index = named.index(target)
            if value in ("", None) and element.get("type", "").startswith("multi_"):
                value = []
            try:
                driver.choose(me, action_id, value, index=index, **kwargs)
            except LookupError as error:
                raise BadRequest(f"That choice is not on the menu: {error}") from error
        self.settle()

    def submit(self, me: str, view_id: str, values: dict[str, Any]) -> dict[str, str]:
        view = self.world.twin.current_modal(me)
        if view is None or view["id"] != view_id:
            raise BadRequest("That form is no longer open.")
        self.store_values(me, values)
        result = self.world.driver.submit(me)
        if result.errors:
            self.errors[view_id] = dict(result.errors)
        else:
            self.errors.pop(view_id, None)
        self.settle()
        if result.problem:
            log.warning("a submission went wrong: %s", result.problem)
        return dict(result.errors)

    def close_modal(self, me: str, view_id: str) -> None:
        view = self.world.twin.current_modal(me)
        if view is None or view["id"] != view_id:
            raise BadRequest("That form is no longer open.")
        self.errors.pop(view_id, None)
        self.world.driver.close(me)
        self.settle()

    def jump(self, to: str) -> list[str]:
        now, zone = self.now(), self.settings.copbot_timezone  # 09:00 is the community's
        destinations = {
            "hour": lambda: clock.next_hour(now),
            "tomorrow": lambda: clock.tomorrow_at(now, 9, zone=zone),
            "monday": lambda: clock.next_monday(now, 9, zone=zone),
        }
        if to not in destinations:
            raise BadRequest("Jump to the next hour, tomorrow 09:00 or next Monday.")
        ran = clock.jump(self.world, destinations[to]())
        self.settle()
        return ran


def _drop_everything(url: str) -> None:
    """Empty a non-default sandbox database so migrations build it again."""
    from sqlalchemy import MetaData

    from storage import Database

    database = Database(url)
    try:
        metadata = MetaData()
        metadata.reflect(database.engine)
        metadata.drop_all(database.engine)
    finally:
        database.dispose()
