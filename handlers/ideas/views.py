"""How Ideas' domain messages look in Slack (``bot/ideas/messages.py``)."""

from __future__ import annotations

import json

from bot.ideas.messages import BulbOffer, CreditNotice
from bot.platform.rendering import Rendered, renders
from handlers.ideas.blocks import DECLINE_CREDIT, FROM_MESSAGE
from handlers.kit import button, section


@renders(BulbOffer)
def bulb_offer(offer: BulbOffer) -> Rendered:
    where = json.dumps({"channel": offer.channel, "ts": offer.ts})
    turn = button("Turn into an idea", FROM_MESSAGE, value=where, primary=True)
    text = offer.fallback()
    return Rendered(text, [section("💡 " + text), {"type": "actions", "elements": [turn]}])


@renders(CreditNotice)
def credit_notice(notice: CreditNotice) -> Rendered:
    decline = button("Remove my name", DECLINE_CREDIT, value=str(notice.idea_id))
    text = notice.fallback()
    return Rendered(text, [section(text), {"type": "actions", "elements": [decline]}])
