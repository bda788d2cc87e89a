"""``/copbot`` and ``/copbot help``: a short guide to every command."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext

from bot.learning import actions as learning_actions
from bot.text import escape
from handlers.common import actor, deps, ephemeral
from handlers.learning import listeners as learning
from handlers.nudges.listeners import schedule_reply
from handlers.privacy import listeners as privacy

MEMBER_GUIDE = """*copbot* helps this community share ideas, check in, meet across \
organisations and learn together.
• `/idea [text]` share an idea  ·  `/idea search <words>`  ·  `/idea mine`
• `/pulse` your pulse checks
• `/exchange join [programme]`  ·  `/exchange leave [programme]`  ·  `/exchange` your matches
• `/copbot privacy` what copbot keeps about you  ·  `/copbot learned <text>` add a reflection \
 ·  `/copbot hub <words>` search case studies
Open copbot's *Home* tab for your profile."""

LEAD_GUIDE = """*For leads*
• `/idea challenge`  ·  `/idea stats`  ·  `/idea export [challenge]`
• `/pulse new`  ·  `/pulse list`  ·  `/pulse results <name>`  ·  `/pulse pause <name>` \
 ·  `/pulse send-now <name>`
• `/exchange new`  ·  `/exchange match <programme>`  ·  `/exchange stats`
• `/digest` preview a digest  ·  `/digest usage`  ·  `/copbot schedule`
Settings and leads are in copbot's *Home* tab."""


def register(app: App) -> None:
    app.command("/copbot")(copbot_command)


def copbot_command(ack: Ack, command: dict[str, Any], context: BoltContext) -> None:
    words = (command.get("text") or "").split(maxsplit=1)
    sub = words[0].lower() if words else "help"
    if sub == "help":
        ack(guide(actor(context).is_lead))
        return
    if sub == "schedule":
        ack(schedule_reply(context))
        return
    if sub == "learned":
        text = words[1] if len(words) > 1 else ""
        learning_actions.reflect(deps(context).db, actor(context), text)
        ack(
            ephemeral(
                "Thank you: your reflection is saved for the learning digest (without your name)."
            )
        )
        return
    if sub == "privacy":
        ack(privacy.rights_reply(context))
        return
    if sub == "hub":
        ack(learning.hub_reply(context, words[1] if len(words) > 1 else ""))
        return
    ack(
        ephemeral(
            f"Sorry, I don't know `/copbot {escape(sub)}` yet. Here is what I can do.",
            guide_blocks(actor(context).is_lead),
        )
    )


def guide(for_lead: bool) -> dict[str, Any]:
    return ephemeral("How to use copbot", guide_blocks(for_lead))


def guide_blocks(for_lead: bool) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": MEMBER_GUIDE}}
    ]
    if for_lead:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": LEAD_GUIDE}})
    return blocks
