"""The sandbox's terminal: act as any demo member, see what Slack would show them."""

from __future__ import annotations

import re
from datetime import timedelta

from sandbox.clock import jump, next_hour, next_monday, tomorrow_at
from sandbox.forms import Forms
from sandbox.world import CHANNELS
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


class Terminal(Forms):
    """The command loop: read a line, do what it says, show what changed."""

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
