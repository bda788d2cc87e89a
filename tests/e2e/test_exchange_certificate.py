"""The lead's review says how close the proposed pairs are to the best possible pairing:
one line with the gap, the pairing's score and the proven bound, kept when the review is
redrawn, and the same figures stored with the round."""

from __future__ import annotations

import json
import re

from sqlmodel import select

from slacktwin import SlackDriver, SlackTwin
from storage import Database, ExchangeRound
from tests.e2e.test_exchange import community, review  # noqa: F401 (community is a fixture)
from tests.support import CHANNEL, LEAD

LINE = re.compile(
    r"Certified: within (\d+\.\d\d)% of the best possible pairing "
    r"\(score ([\d,]+\.\d), bound ([\d,]+\.\d)\)"
)


def test_the_review_carries_the_certificate_of_the_round(
    driver: SlackDriver,
    twin: SlackTwin,
    database: Database,
    community: list[str],  # noqa: F811
) -> None:
    driver.command(LEAD, "/exchange", "match hereford", channel=CHANNEL)
    twin.wait_for(lambda: "Proposed matches for hereford" in json.dumps(twin.dms(LEAD)))
    shown = " ".join(block["text"]["text"] for block in review(twin)["blocks"] if "text" in block)
    found = LINE.search(shown)
    assert found, shown
    gap, score, bound = (float(x.replace(",", "")) for x in found.groups())
    assert 0 < score <= bound
    assert gap < 0.1  # 30 people: the exact pairing, all eligible pairs considered
    with database.session() as session:
        stored = session.exec(select(ExchangeRound)).one().outcome["certificate"]
    assert stored["kind"] == "pairs" and stored["complete"] is True
    assert round(stored["score"], 1) == score and round(stored["bound"], 1) == bound

    # A re-run with other weights redraws the review with its own certificate (the
    # review is redrawn in place once the re-run is stored: chat.update).
    driver.click(LEAD, "Re-run", message=(twin.dm_channel(LEAD), review(twin)["ts"]))
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None, message="re-run form")
    assert not driver.submit(LEAD).errors
    twin.wait_for(
        lambda: (
            twin.calls_to("chat.update")
            and LINE.search(json.dumps(review(twin)["blocks"])) is not None
        ),
        message="certificate after the re-run",
    )
