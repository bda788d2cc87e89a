"""Block Kit rendered for a terminal, with numbered controls."""

from __future__ import annotations

from typing import Any

from slacktwin import render_blocks, render_interactive
from slacktwin.render import mrkdwn_to_text, render_message, render_view


def test_mrkdwn_is_converted_lightly() -> None:
    names = {"U1": "amara"}
    text = mrkdwn_to_text(
        "*Bold* <https://example.org|the guide> <https://x.org> <@U1> <@U2> <#C1|ideas> "
        "<!here> &lt;tag&gt; &amp;",
        resolve_user=names.get,
    )
    assert text == (
        "*Bold* the guide (https://example.org) https://x.org @amara @U2 #ideas @here <tag> &"
    )


def test_blocks_render_with_numbered_controls(card_blocks: list[dict[str, Any]]) -> None:
    blocks = [
        {"type": "header", "text": {"type": "plain_text", "text": "New idea"}},
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "Posted by <@U1>"},
            "fields": [{"type": "mrkdwn", "text": "*Status:* New"}],
        },
        {"type": "context", "elements": [{"type": "mrkdwn", "text": "3 supporters"}]},
        {"type": "divider"},
        *card_blocks,
    ]
    rendered = render_interactive(blocks, resolve_user={"U1": "amara"}.get)
    assert "NEW IDEA" in rendered.text
    assert "Posted by @amara" in rendered.text and "*Status:* New" in rendered.text
    assert "[1] Support  [2] Discuss  [3] ⋯ ▾ (Change status | Archive)" in rendered.text
    assert [(e.number, e.kind, e.label, e.action_id) for e in rendered.elements] == [
        (1, "button", "Support", "support"),
        (2, "button", "Discuss", "discuss"),
        (3, "overflow", "⋯", "manage"),
    ]
    assert rendered.elements[2].options == ("Change status", "Archive")
    assert render_blocks(blocks, resolve_user={"U1": "amara"}.get) == rendered.text


def test_views_and_messages(idea_modal: dict[str, Any]) -> None:
    view = render_view(idea_modal)
    assert view.text.startswith("┌ Share an idea ┐")
    assert "[1] Title (plain text input) *" in view.text
    assert "[2] Themes ▾ (frailty | discharge and flow | prevention) (optional)" in view.text
    assert view.text.rstrip().endswith("<Cancel>  <Share>")
    assert [e.is_input for e in view.elements][:2] == [True, True]
    plain = render_message({"text": "Hello <@U1>", "files": [{"title": "Export"}]})
    assert plain.text == "Hello @U1\n[file: Export]" and plain.elements == []
