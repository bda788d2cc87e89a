"""The Slack surface: one module (or package) per feature, each exposing ``register(app)``."""

from __future__ import annotations

from slack_bolt import App


def register_listeners(app: App) -> None:
    from handlers import fallback, help, home, ideas, members

    for feature in (help, home, members, ideas):
        feature.register(app)
    fallback.register(app)  # last: it answers whatever no feature claimed
