"""Against the strict twin (user IDs refused by chat.update, scopes from manifest.json): a
lead's Swap redraws the review in their DM, and Approve introduces every pair, swapped
pairs included, in a group DM of exactly its members."""

from __future__ import annotations

import json

from slacktwin import SlackDriver, SlackTwin
from storage import Database
from tests.e2e.test_exchange import (  # noqa: F401 (community is a fixture)
    PAUSED,
    community,
    matches_of_round,
    org_of,
    review,
)
from tests.support import CHANNEL, LEAD


def test_swap_then_approve_introduces_every_pair_by_group_dm(
    driver: SlackDriver,
    twin: SlackTwin,
    database: Database,
    community: list[str],  # noqa: F811
) -> None:
    driver.command(LEAD, "/exchange", "match hereford", channel=CHANNEL)
    twin.wait_for(lambda: "Proposed matches for hereford" in json.dumps(twin.dms(LEAD)))
    twin.wait_for(lambda: matches_of_round(database, 1), message="proposal stored")
    first = matches_of_round(database, 1)
    pairs = [g for g in first if len(g) == 2 and PAUSED not in g]
    x = pairs[0][0]
    x_partner = pairs[0][1]
    y = next(
        u
        for g in pairs[1:]
        for u in g
        if org_of(u) == org_of(x) and org_of(next(v for v in g if v != u)) != org_of(x_partner)
    )
    before = review(twin)
    driver.click(LEAD, "Swap", message=(twin.dm_channel(LEAD), before["ts"]))
    twin.wait_for(lambda: twin.current_modal(LEAD) is not None, message="swap form")
    driver.fill(LEAD, {"Person": x, "Other person": y})
    assert not driver.submit(LEAD).errors
    swapped = matches_of_round(database, 1)
    assert sorted([y, x_partner]) in swapped
    # The review is redrawn in place, through the D… ID Slack returned.
    twin.wait_for(lambda: review(twin) != before, message="review redrawn after swap")
    assert review(twin)["ts"] == before["ts"]
    assert not twin.calls_to("chat.update") or all(
        c.args["channel"].startswith("D") for c in twin.calls_to("chat.update")
    )

    driver.click(LEAD, "Approve", message=(twin.dm_channel(LEAD), review(twin)["ts"]))
    final = matches_of_round(database, 1)
    assert final == swapped
    for group in final:
        twin.wait_for(lambda g=group: twin.group_dms(g[0]), message=f"introduction {group}")
        (channel,) = twin.group_dms(group[0])
        assert set(twin.members(channel)) == {*group, twin.bot_user_id}
        twin.wait_for(lambda c=channel: twin.messages(c), message="intro message")
        assert "Why you were matched" in json.dumps(twin.messages(channel)[-1]["blocks"])
    twin.wait_for(lambda: "approved by" in json.dumps(review(twin)), message="review redrawn")
    refused = [c for c in twin.calls if not c.response.get("ok") and c.status == 200]
    assert not [
        c for c in refused if c.response.get("error") in ("channel_not_found", "missing_scope")
    ]
