"""The sandbox's terminal: act as any demo member, see what Slack would show them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from bot.demo import DemoPerson
from sandbox.clock import jump, next_hour, next_monday, tomorrow_at
from sandbox.world import CHANNELS, World
from slacktwin import Interactive, render_interactive
from slacktwin.render import mrkdwn_to_text
from storage import utcnow

HELP = """\
What you can type:
  /copbot help        any slash command, as the person you are acting as
  home                open copbot's App Home tab
  1, 2, ...           press the numbered button or menu last shown
  show                the latest messages in this channel
  dms                 your direct messages from copbot
  post <text>         post a message in this channel
  #<channel>          move to a channel: {channels}
  clock               what time it is in the sandbox
  jump <how far>      move the clock: jump hour, jump tomorrow (09:00), jump monday
                      (09:00), jump 3d, jump 12h; what copbot would have done runs
  people              everyone in the demo community
  as <name|number>    act as someone else (try: as priya, as 2)
  help                this list
  quit                leave (your data stays in var/sandbox.db)"""


@dataclass(frozen=True)
class Pressable:
    """A numbered control and where it lives, so it can be pressed later."""

    surface: str  # "home", "modal", "ephemeral" or "message"
    control: Interactive
    message: tuple[str, str] | None = None
    index: int = 0  # among buttons with the same label on that surface


class Terminal:
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

    # ------------------------------------------------------------------ loop

    def loop(self) -> int:
        self.say(
            f"\ncopbot sandbox: a local Slack for {self.world.twin.team_name}, with "
            f"{len(self.world.people)} people and copbot running beside it.\n"
            "Nothing leaves this machine. Type `help` for what you can do, `quit` to leave.\n"
        )
        self.introduce()
        while True:
            line = self.ask(f"{self.me.display_name}@#{CHANNELS[self.channel]}> ")
            if line is None or line.strip().lower() in ("quit", "exit"):
                self.say("Bye.")
                return 0
            try:
                self.handle(line.strip())
            except (LookupError, ValueError) as error:
                self.say(f"  {error}")

    def handle(self, line: str) -> None:
        if not line:
            return
        word, _, rest = line.partition(" ")
        if not line.isdigit():
            # A new screen: the numbers shown before it are no longer live, and the next
            # ones start again at 1.
            self.pressables = {}
        if line.startswith("/"):
            self.command(word, rest)
        elif line.isdigit():
            self.press(int(line))
        elif line.startswith("#"):
            self.move(line[1:])
        elif word == "as":
            self.become(rest)
        elif word == "home":
            self.open_home()
        elif word == "show":
            self.show_channel(everything=True)
        elif word == "dms":
            self.show_dms(everything=True)
        elif word == "post":
            self.post(rest)
        elif word == "people":
            self.list_people()
        elif word == "clock":
            self.say(f"  It is {self.local_now()} in the sandbox.")
        elif word == "jump":
            self.jump_clock(rest)
        elif word == "help":
            self.say(HELP.format(channels=", ".join(f"#{c}" for c in CHANNELS.values())))
        else:
            self.say("  I didn't understand that. Type `help` for what you can do.")

    # ------------------------------------------------------------------ actions

    def command(self, command: str, text: str) -> None:
        response = self.world.driver.command(self.me.user_id, command, text, channel=self.channel)
        self.world.settle()
        if response.status_code != 200:
            self.say(f"  Slack would show an error: copbot answered {response.status_code}.")
        self.show_new()  # the twin shows the command's answer as an ephemeral message

    def open_home(self) -> None:
        published = len(self.world.twin.calls_to("views.publish"))
        self.world.driver.app_home_opened(self.me.user_id)
        # Building the Home tab is database work with no Slack calls until it is published,
        # so wait for that publish rather than for a quiet moment.
        self.world.twin.wait_for(
            lambda: len(self.world.twin.calls_to("views.publish")) > published,
            message="the Home tab",
        )
        self.world.settle()
        self.show_home()
        self.show_new()

    def post(self, text: str) -> None:
        if not text:
            raise ValueError("Type something to post: post <text>")
        self.world.driver.post_message(self.me.user_id, self.channel, text)
        self.world.settle()
        self.show_new()

    def press(self, number: int) -> None:
        pressable = self.pressables.get(number)
        if pressable is None:
            raise LookupError(f"There is no [{number}] on screen. Type `home` or `show`.")
        control, where = pressable.control, self.where(pressable)
        driver = self.world.driver
        if control.kind == "button":
            if not self.confirmed(control):
                return
            driver.click(
                self.me.user_id,
                control.label,
                value=control.element.get("value"),
                index=pressable.index,
                **where,
            )
        else:
            option = self.pick(control.label, list(control.options))
            if option is None:
                return
            driver.choose(self.me.user_id, control.action_id or control.label, option, **where)
        self.world.settle()
        self.pressables = {}  # what is shown next is a new screen
        if pressable.surface == "home":
            self.show_home()
        elif pressable.message is not None:
            self.show_message(*pressable.message)  # cards are updated in place
        self.show_new()

    def local_now(self) -> str:
        zone = self.world.deps.settings.copbot_timezone
        return f"{utcnow().astimezone(ZoneInfo(zone)):%a %-d %b %Y, %H:%M} ({zone})"

    def jump_clock(self, how_far: str) -> None:
        """Move the sandbox's clock; copbot's scheduled work on the way runs in order."""
        zone, now = self.world.deps.settings.copbot_timezone, utcnow()
        how_far = how_far.strip().lower()
        span = re.fullmatch(r"(\d{1,3})\s*([hd])", how_far)
        if how_far in ("", "hour"):
            to = next_hour(now)
        elif how_far == "tomorrow":
            to = tomorrow_at(now, 9, zone)
        elif how_far == "monday":
            to = next_monday(now, 9, zone)
        elif span and 0 < int(span.group(1)) <= (24 * 31 if span.group(2) == "h" else 31):
            amount = int(span.group(1))
            to = now + (timedelta(hours=amount) if span.group(2) == "h" else timedelta(days=amount))
        else:
            raise ValueError(
                "Jump how far? jump hour, jump tomorrow, jump monday, jump 3d (up to 31) "
                "or jump 12h."
            )
        self.say("  Moving the clock; copbot does what it would have done meanwhile...")
        for line in jump(self.world, to):
            self.say(f"  · {line}")
        self.say(f"  It is now {self.local_now()}.")
        self.show_new()

    def confirmed(self, control: Interactive) -> bool:
        """A button Slack would confirm first (its ``confirm`` dialog) or a red one asks;
        only ``yes`` goes ahead."""
        dialog = control.element.get("confirm")
        if not dialog and control.element.get("style") != "danger":
            return True
        if dialog:
            title = (dialog.get("title") or {}).get("text", control.label)
            text = mrkdwn_to_text((dialog.get("text") or {}).get("text", ""))
            go = (dialog.get("confirm") or {}).get("text", control.label)
            self.say(f"  {title}: {text}")
        else:
            go = control.label
        answer = self.ask(f"  Type yes to {go}, anything else leaves it > ")
        if (answer or "").strip().lower() == "yes":
            return True
        self.say("  Nothing was done.")
        return False

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

    def where(self, pressable: Pressable) -> dict[str, Any]:
        if pressable.surface == "message":
            return {"message": pressable.message}
        return {pressable.surface: True}

    def move(self, name: str) -> None:
        channel = next((cid for cid, cname in CHANNELS.items() if cname == name.strip()), None)
        if channel is None:
            raise LookupError(f"No channel #{name}. Channels: {', '.join(CHANNELS.values())}")
        self.channel = channel
        self.show_channel(everything=True)

    def become(self, who: str) -> None:
        self.me = self.find_person(who)
        self.seen_dms = len(self.world.twin.dms(self.me.user_id))
        self.seen_ephemerals = len(self.world.twin.ephemerals(self.me.user_id))
        self.introduce()

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

    # ------------------------------------------------------------------ showing

    def show_new(self) -> None:
        """Whatever appeared for this person since they last looked; then any open modal."""
        self.show_channel(everything=False)
        self.show_dms(everything=False)
        ephemerals = self.world.twin.ephemerals(self.me.user_id)
        for message in ephemerals[self.seen_ephemerals :]:
            self.show_blocks(
                "copbot (only visible to you)", message.get("blocks"), message.get("text")
            )
        self.seen_ephemerals = len(ephemerals)
        if self.world.twin.current_modal(self.me.user_id) is not None:
            self.fill_modal()

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

    # ------------------------------------------------------------------ modals

    def fill_modal(self) -> None:
        """Walk the open modal's inputs one by one, then ask what to do: submit, cancel or
        press one of its buttons. Nothing is sent until the person chooses, even when
        the form has nothing to fill in; one that can't be undone ("Forget me") wants
        ``yes``. Errors are asked again."""
        twin, driver, me = self.world.twin, self.world.driver, self.me.user_id
        view = twin.current_modal(me)
        assert view is not None
        title = (view.get("title") or {}).get("text", "Form")
        self.say(f"\n╔ {title} (a form: Enter keeps or skips a field, '-' clears it, '!' cancels)")
        inputs = [b for b in view.get("blocks", []) if b.get("type") == "input"]
        self.pressables = {}
        labels: dict[str, int] = {}
        shown: list[str] = []
        for block in view.get("blocks", []):
            if block.get("type") == "input":
                continue
            rendered = render_interactive(
                [block],
                resolve_user=self.name_of,
                resolve_channel=lambda cid: CHANNELS.get(cid),
                start=max(self.pressables, default=0) + 1,
            )
            shown.append(rendered.text)
            self.say("║ " + rendered.text.replace("\n", "\n║ "))
            for control in rendered.elements:
                if control.is_input:
                    continue
                index = labels.get(control.label, 0)
                labels[control.label] = index + 1
                self.pressables[control.number] = Pressable("modal", control, None, index)
        wanted: set[str] | None = None  # None: every field
        while True:
            asked: set[str] = set()
            while (block := self.next_field(view["id"], asked, wanted)) is not None:
                asked.add(block["block_id"])
                value = self.ask_field(block)
                if value is _CANCEL:
                    driver.close(me)
                    self.say("╚ Cancelled.")
                    self.pressables = {}  # the form's buttons went with it
                    return
                if value is not None:
                    driver.fill(me, {block["label"]["text"]: value})
                    if block.get("dispatch_action"):
                        self.world.settle()  # copbot redraws the form with what applies
            current = twin.view(view["id"]) or view
            inputs = [b for b in current.get("blocks", []) if b.get("type") == "input"]
            choice = self.choose_action(view, "\n".join(shown))
            if choice is _CANCEL:
                driver.close(me)
                self.say("╚ Cancelled.")
                self.pressables = {}
                return
            if isinstance(choice, int):
                self.press(choice)
                return
            result = driver.submit(me)
            if not result.errors:
                self.say("╚ Sent.")
                self.pressables = {}
                self.world.settle()
                self.show_new_after_modal(view["id"])
                return
            for block_id, problem in result.errors.items():
                self.say(f"║ ⚠ {self.label_of(inputs, block_id)}: {problem}")
            wanted = set(result.errors)

    def choose_action(self, view: dict[str, Any], text: str) -> Any:
        """Submit (``SUBMIT``), cancel (``_CANCEL``) or the number of a button in the form,
        as the person says; an empty line asks again."""
        submit = (view.get("submit") or {}).get("text")
        close = (view.get("close") or {}).get("text", "Cancel")
        numbers = f", or a number from 1 to {max(self.pressables)}" if self.pressables else ""
        accepted: tuple[str, ...] = ()
        if submit is None:
            prompt = f"║ Type ! to {close}{numbers} > "
        elif _cannot_be_undone(text, submit):
            prompt, accepted = f"║ Type yes to {submit}, ! to {close}{numbers} > ", ("yes",)
        else:
            prompt = f"║ Type s to {submit}, ! to {close}{numbers} > "
            accepted = ("s", submit.lower())
        while True:
            answer = self.ask(prompt)
            if answer is None:
                return _CANCEL
            answer = answer.strip()
            if answer == "!":
                return _CANCEL
            if answer.isdigit() and int(answer) in self.pressables:
                return int(answer)
            if answer.lower() in accepted:
                return SUBMIT
            self.say("║ Nothing is sent until you choose.")

    def next_field(
        self, view_id: str, asked: set[str], wanted: set[str] | None
    ) -> dict[str, Any] | None:
        """The form's next field to ask, read from the form as it is now: a choice may have
        redrawn it with other fields."""
        view = self.world.twin.view(view_id) or {}
        for block in view.get("blocks", []):
            block_id = block.get("block_id", "")
            if block.get("type") != "input" or block_id in asked:
                continue
            if wanted is None or block_id in wanted:
                return block
        return None

    def show_new_after_modal(self, submitted_id: str) -> None:
        top = self.world.twin.current_modal(self.me.user_id)
        if top is not None and top.get("id") != submitted_id:
            self.fill_modal()
            return
        if self.world.twin.home_view(self.me.user_id) is not None:
            self.show_home()
        self.show_new()

    @staticmethod
    def label_of(inputs: list[dict[str, Any]], block_id: str) -> str:
        block = next((b for b in inputs if b["block_id"] == block_id), None)
        return block["label"]["text"] if block else block_id

    def ask_field(self, block: dict[str, Any]) -> Any:
        element = block["element"]
        kind = element.get("type", "")
        label = block["label"]["text"]
        optional = " (optional)" if block.get("optional") else ""
        hint = f"  {block['hint']['text']}" if block.get("hint") else ""
        self.say(f"║ {label}{optional}{hint}")
        options = [option["text"]["text"] for option in element.get("options", [])]
        current = self.current_value(element)
        if current:
            self.say(f"║   now: {current} (Enter keeps it)")
        keeps = bool(block.get("optional") or current)
        if kind in ("static_select", "radio_buttons"):
            return self.pick(label, options, optional=keeps)
        if kind in ("multi_static_select", "checkboxes"):
            for number, option in enumerate(options, start=1):
                self.say(f"║   {number}. {option}")
            answer = self.ask("║ numbers, separated by commas > ")
            if answer is None or answer.strip() == "!":
                return _CANCEL
            if not answer.strip():
                return None
            return [options[int(n) - 1] for n in answer.replace(",", " ").split() if n.isdigit()]
        if kind in ("users_select", "multi_users_select"):
            answer = self.ask("║ names (see `people`), separated by commas; '-' for none > ")
            if answer is None or answer.strip() == "!":
                return _CANCEL
            if not answer.strip():
                return None
            if answer.strip() == "-":
                return [] if kind.startswith("multi") else None
            names = [name for name in answer.split(",") if name.strip()]
            people = [self.find_person(name).user_id for name in names]
            return people if kind.startswith("multi") else (people[0] if people else None)
        if kind in ("conversations_select", "channels_select"):
            answer = self.ask("║ channel name, e.g. ideas > ")
            if answer is None or answer.strip() == "!":
                return _CANCEL
            if not answer.strip():
                return None
            name = answer.strip().lstrip("#")
            return next((cid for cid, cname in CHANNELS.items() if cname == name), None)
        if kind in ("datepicker", "timepicker", "number_input"):
            return self.ask_typed(kind, element, keeps)
        answer = self.ask("║ > ")
        if answer is None or answer.strip() == "!":
            return _CANCEL
        if answer.strip() == "-":
            return ""
        return answer.strip() or None

    def ask_typed(self, kind: str, element: dict[str, Any], optional: bool) -> Any:
        """A date, time or number, as a date picker, time picker or number input would
        take it: the format is said up front and anything else is asked again."""
        if kind == "datepicker":
            what = "a date: 2026-01-15, 15 Jan, today, tomorrow, monday or +7 (days)"
        elif kind == "timepicker":
            what = "a time: 09:30, 9.30, 2pm"
        else:
            low, high = element.get("min_value"), element.get("max_value")
            whole = not element.get("is_decimal_allowed")
            what = "a whole number" if whole else "a number"
            if low is not None and high is not None:
                what += f" from {low} to {high}"
            elif low is not None:
                what += f", at least {low}"
        while True:
            answer = self.ask(f"║ {what} > ")
            if answer is None or answer.strip() == "!":
                return _CANCEL
            text = answer.strip()
            if not text and optional:
                return None
            if kind == "datepicker":
                value: str | None = parse_date(text, self.today())
            elif kind == "timepicker":
                value = parse_time(text)
            else:
                value = parse_number(text, element)
            if value is not None:
                return value
            self.say(f"║ I can't read {text!r} as {what}." if text else f"║ Type {what}.")

    def today(self) -> date:
        zone = ZoneInfo(self.world.deps.settings.copbot_timezone)
        return utcnow().astimezone(zone).date()

    def current_value(self, element: dict[str, Any]) -> str:
        """What a field holds before the person types, shown so Enter can keep it."""
        if element.get("initial_option"):
            return element["initial_option"]["text"]["text"]
        if element.get("initial_options"):
            return ", ".join(o["text"]["text"] for o in element["initial_options"])
        if element.get("initial_users"):
            return ", ".join(self.name_of(user) for user in element["initial_users"])
        for key in ("initial_user", "initial_conversation", "initial_channel"):
            if element.get(key):
                found = element[key]
                return CHANNELS.get(found) or self.name_of(found)
        return str(
            element.get("initial_value")
            or element.get("initial_date")
            or element.get("initial_time")
            or ""
        )

    def pick(self, label: str, options: list[str], optional: bool = True) -> Any:
        for number, option in enumerate(options, start=1):
            self.say(f"║   {number}. {option}")
        while True:
            answer = self.ask("║ number > ")
            if answer is None or answer.strip() == "!":
                return _CANCEL
            if not answer.strip() and optional:
                return None
            if answer.strip().isdigit() and 1 <= int(answer) <= len(options):
                return options[int(answer) - 1]
            self.say(f"║ Choose 1 to {len(options)} for {label}.")

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


_MONTHS = {
    name: number
    for number in range(1, 13)
    for name in (
        date(2000, number, 1).strftime("%b").lower(),
        date(2000, number, 1).strftime("%B").lower(),
    )
}
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def parse_date(text: str, today: date) -> str | None:
    """ISO date for what a person types: 2026-01-15, 15 Jan (the next one), 15/01,
    15/01/2026, today, tomorrow, a weekday (the next one) or +N days; None if unreadable."""
    text = text.strip().lower().replace(",", " ")
    try:
        if text == "today":
            return today.isoformat()
        if text == "tomorrow":
            return (today + timedelta(days=1)).isoformat()
        if re.fullmatch(r"\+\d{1,3}", text):
            return (today + timedelta(days=int(text[1:]))).isoformat()
        for n, name in enumerate(_WEEKDAYS):
            if len(text) >= 3 and name.startswith(text):
                return (today + timedelta(days=(n - today.weekday() - 1) % 7 + 1)).isoformat()
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return date.fromisoformat(text).isoformat()
        if found := re.fullmatch(r"(\d{1,2})/(\d{1,2})(?:/(\d{2}|\d{4}))?", text):
            day, month, year = found.groups()
            return _dated(today, int(day), int(month), year)
        words = text.split()
        if len(words) in (2, 3):
            if words[0].isdigit() and words[1] in _MONTHS:
                day, month = int(words[0]), _MONTHS[words[1]]
            elif words[1].isdigit() and words[0] in _MONTHS:
                day, month = int(words[1]), _MONTHS[words[0]]
            else:
                return None
            year = words[2] if len(words) == 3 and words[2].isdigit() else None
            if len(words) == 3 and year is None:
                return None
            return _dated(today, day, month, year)
    except ValueError:
        return None
    return None


def _dated(today: date, day: int, month: int, year: str | None) -> str:
    if year is not None:
        full = int(year) + (2000 if len(year) == 2 else 0)
        return date(full, month, day).isoformat()
    found = date(today.year, month, day)
    return (found if found >= today else date(today.year + 1, month, day)).isoformat()


def parse_time(text: str) -> str | None:
    """HH:MM for 09:30, 9.30, 930, 9am, 2pm, 2:15pm; None if unreadable."""
    found = re.fullmatch(r"(\d{1,2})(?:[:.h]?(\d{2}))?\s*(am|pm)?", text.strip().lower())
    if not found:
        return None
    hour, minute = int(found.group(1)), int(found.group(2) or 0)
    if found.group(3):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if found.group(3) == "pm" else 0)
    elif found.group(2) is None:
        return None  # a bare "9" could be either; ask for 09:00 or 9am
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def parse_number(text: str, element: dict[str, Any]) -> str | None:
    """The number as typed, if it is one the input takes (whole, within its range)."""
    try:
        value = float(text)
    except ValueError:
        return None
    if not element.get("is_decimal_allowed") and not value.is_integer():
        return None
    low, high = element.get("min_value"), element.get("max_value")
    if (low is not None and value < float(low)) or (high is not None and value > float(high)):
        return None
    return text


_CANCEL = object()
SUBMIT = "submit"
_FINAL = ("can't be undone", "cannot be undone")
_DESTRUCTIVE = ("forget", "delete", "erase", "remove", "leave", "withdraw")


def _cannot_be_undone(text: str, submit: str) -> bool:
    lowered = text.lower()
    return any(words in lowered for words in _FINAL) or any(
        word in submit.lower() for word in _DESTRUCTIVE
    )
