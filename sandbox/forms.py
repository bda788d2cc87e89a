"""Pressing what is on screen and filling in forms, as a person at a keyboard would.

Nothing is sent on its own: a form, even one with nothing to fill in, waits for the
person to choose; a red or confirmed button and a step that can't be undone want ``yes``.
"""

from __future__ import annotations

from typing import Any

from sandbox.screen import Pressable, Screen
from sandbox.values import parse_date, parse_number, parse_time
from sandbox.world import CHANNELS
from slacktwin import Interactive, render_interactive
from slacktwin.render import mrkdwn_to_text


class Forms(Screen):
    """The screens, plus the controls on them: buttons, menus and modals."""

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

    def where(self, pressable: Pressable) -> dict[str, Any]:
        if pressable.surface == "message":
            return {"message": pressable.message}
        return {pressable.surface: True}

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


_CANCEL = object()
SUBMIT = "submit"
_FINAL = ("can't be undone", "cannot be undone")
_DESTRUCTIVE = ("forget", "delete", "erase", "remove", "leave", "withdraw")


def _cannot_be_undone(text: str, submit: str) -> bool:
    lowered = text.lower()
    return any(words in lowered for words in _FINAL) or any(
        word in submit.lower() for word in _DESTRUCTIVE
    )
