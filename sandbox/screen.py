"""What a demo member would see in Slack, drawn as text, with numbered controls.

The bottom layer of the terminal sandbox: its state (who is acting, where, what has been
seen and which numbers are live), its input and output, and the screens it draws.
Reading forms and pressing controls is ``sandbox.forms``; the command loop is
``sandbox.terminal``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from bot.demo import DemoPerson
from sandbox.world import CHANNELS, World
from slacktwin import Interactive, render_interactive
from slacktwin.render import mrkdwn_to_text
from storage import utcnow


@dataclass(frozen=True)
class Pressable:
    """A numbered control and where it lives, so it can be pressed later."""

    surface: str  # "home", "modal", "ephemeral" or "message"
    control: Interactive
    message: tuple[str, str] | None = None
    index: int = 0  # among buttons with the same label on that surface


class Screen:
    """The person acting, the channel they are in, and what they have on screen."""

    def __init__(self, world: World, stdin: TextIO, stdout: TextIO) -> None:
        self.world = world
        self.stdin = stdin
        self.stdout = stdout
        self.me: DemoPerson = world.people[0]
        self.channel = next(iter(CHANNELS))
        self.pressables: dict[int, Pressable] = {}
        self.seen_dms = 0
        self.seen_ephemerals = 0
        self.seen_messages: dict[str, int] = {}

    # ------------------------------------------------------------------ showing

    def show_channel(self, everything: bool) -> None:
        messages = self.world.twin.messages(self.channel)
        start = 0 if everything else self.seen_messages.get(self.channel, len(messages))
        if everything:
            start = max(0, len(messages) - 10)
            if not messages:
                self.say(f"  #{CHANNELS[self.channel]} is quiet so far.")
        for message in messages[start:]:
            author = "copbot" if message.get("bot_id") else self.name_of(message.get("user"))
            self.show_blocks(
                f"#{CHANNELS[self.channel]} · {author}",
                message.get("blocks"),
                message.get("text"),
                surface="message",
                message=(self.channel, message["ts"]),
            )
        self.seen_messages[self.channel] = len(messages)

    def show_dms(self, everything: bool) -> None:
        dms = self.world.twin.dms(self.me.user_id)
        start = max(0, len(dms) - 5) if everything else self.seen_dms
        if everything and not dms:
            self.say("  No direct messages from copbot yet.")
        channel = self.world.twin.dm_channel(self.me.user_id)
        for message in dms[start:]:
            self.show_blocks(
                "DM from copbot",
                message.get("blocks"),
                message.get("text"),
                surface="message",
                message=(channel, message["ts"]),
            )
        self.seen_dms = len(dms)

    def show_home(self) -> None:
        view = self.world.twin.home_view(self.me.user_id)
        if view is None:
            self.say("  copbot's Home tab is empty.")
            return
        self.pressables = {}
        self.show_blocks("copbot · Home", view.get("blocks"), None, surface="home")

    def show_blocks(
        self,
        heading: str,
        blocks: list[dict[str, Any]] | None,
        text: str | None,
        *,
        surface: str = "ephemeral",
        message: tuple[str, str] | None = None,
    ) -> None:
        start = max(self.pressables, default=0) + 1
        rendered = render_interactive(
            blocks,
            resolve_user=self.name_of,
            resolve_channel=lambda cid: CHANNELS.get(cid),
            start=start,
        )
        body = rendered.text if blocks else mrkdwn_to_text(text or "", resolve_user=self.name_of)
        self.say(f"\n┌ {heading}")
        for line in body.splitlines():
            self.say(f"│ {line}")
        self.say("└")
        labels: dict[str, int] = {}
        for control in rendered.elements:
            if control.is_input:
                continue
            index = labels.get(control.label, 0)
            labels[control.label] = index + 1
            self.pressables[control.number] = Pressable(surface, control, message, index)

    def name_of(self, user_id: str | None) -> str:
        person = next((p for p in self.world.people if p.user_id == user_id), None)
        return person.real_name if person else (user_id or "someone")

    def show_message(self, channel: str, ts: str) -> None:
        message = self.world.twin.message(channel, ts)
        if message is not None:
            where = f"#{CHANNELS[channel]}" if channel in CHANNELS else "DM"
            self.show_blocks(
                f"{where} · updated",
                message.get("blocks"),
                message.get("text"),
                surface="message",
                message=(channel, ts),
            )

    def find_person(self, who: str) -> DemoPerson:
        who = who.strip().lstrip("@").lower()
        if who.isdigit() and 1 <= int(who) <= len(self.world.people):
            return self.world.people[int(who) - 1]
        for person in self.world.people:
            if who in (person.display_name.lower(), person.user_id.lower()) or (
                who and who in person.real_name.lower()
            ):
                return person
        raise LookupError(f"Nobody called {who!r}. Type `people` to see everyone.")

    def introduce(self) -> None:
        person = self.me
        role = "workspace admin" if person.is_admin else "lead" if person.is_lead else "member"
        self.say(
            f"You are {person.real_name} ({person.title}, {person.organisation}), a {role}, "
            f"in #{CHANNELS[self.channel]}."
        )

    def list_people(self) -> None:
        for number, person in enumerate(self.world.people, start=1):
            role = " (admin)" if person.is_admin else " (lead)" if person.is_lead else ""
            self.say(
                f"  {number:>2}. {person.display_name:<9} {person.real_name}{role}: "
                f"{person.staff_group}, {person.organisation}"
            )

    def local_now(self) -> str:
        zone = self.world.deps.settings.copbot_timezone
        return f"{utcnow().astimezone(ZoneInfo(zone)):%a %-d %b %Y, %H:%M} ({zone})"

    def today(self) -> date:
        zone = ZoneInfo(self.world.deps.settings.copbot_timezone)
        return utcnow().astimezone(zone).date()

    # ------------------------------------------------------------------ io

    def ask(self, prompt: str) -> str | None:
        self.stdout.write(prompt)
        self.stdout.flush()
        line = self.stdin.readline()
        if not line:
            self.stdout.write("\n")
            return None
        return line.rstrip("\n")

    def say(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()
