"""manifest.json creates the app the interface contract describes, exactly."""

import json
from pathlib import Path

MANIFEST = json.loads((Path(__file__).parent.parent / "manifest.json").read_text())


def test_commands_are_the_contracts() -> None:
    commands = {command["command"] for command in MANIFEST["features"]["slash_commands"]}
    assert commands == {"/idea", "/pulse", "/exchange", "/digest", "/copbot"}


def test_shortcuts_are_the_contracts() -> None:
    shortcuts = {(s["type"], s["callback_id"]) for s in MANIFEST["features"]["shortcuts"]}
    assert shortcuts == {
        ("global", "share_idea"),
        ("message", "save_as_idea"),
        ("message", "write_case_study"),
    }


def test_events_and_the_scopes_they_need() -> None:
    events = set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_home_opened", "reaction_added", "message.channels", "user_change"} <= events
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    needs = {
        "reaction_added": "reactions:read",
        "message.channels": "channels:history",
        "message.groups": "groups:history",
        "user_change": "users:read",
        "member_joined_channel": "channels:read",
    }
    for event in events & needs.keys():
        assert needs[event] in scopes, event
    assert {"commands", "chat:write", "im:write", "users:read", "files:write"} <= scopes


def test_home_tab_and_interactivity_are_on() -> None:
    assert MANIFEST["features"]["app_home"]["home_tab_enabled"] is True
    assert MANIFEST["settings"]["interactivity"]["is_enabled"] is True
    urls = {
        MANIFEST["settings"]["event_subscriptions"]["request_url"],
        MANIFEST["settings"]["interactivity"]["request_url"],
        *(command["url"] for command in MANIFEST["features"]["slash_commands"]),
    }
    assert all(url.endswith("/slack/events") for url in urls)


def test_every_web_api_method_copbot_calls_has_its_scope() -> None:
    """The Slack twin grants exactly these scopes; a method copbot calls whose scope is
    missing here would answer missing_scope in every real install."""
    import re

    from slacktwin.scopes import FIXED_SCOPES

    root = Path(__file__).parent.parent
    called: set[str] = set()
    for folder in ("bot", "handlers"):
        for path in (root / folder).rglob("*.py"):
            for family, name in re.findall(
                r"\.(chat|conversations|users|reactions|files|views|team|bots|auth)_(\w+)\(",
                path.read_text(encoding="utf-8"),
            ):
                called.add(f"{family}.{name}")
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert "conversations.join" in called  # learning capture joins public channels
    for method in sorted(called):
        needed = FIXED_SCOPES.get(method)
        assert not needed or needed in scopes, (method, needed)
    # Kind-dependent methods: copbot reads public and private channels and its DMs.
    assert {"channels:read", "groups:read", "channels:history", "groups:history"} <= scopes
    # The outbox checks a DM's or a group DM's history after an unanswered send
    # (exchange introductions go to group DMs): im:history and mpim:history.
    assert {"im:write", "mpim:write", "im:history", "mpim:history"} <= scopes
