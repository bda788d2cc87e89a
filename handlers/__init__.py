"""The Slack surface: one package per feature (``listeners``, ``views``, ``ids``, and
``forms`` where modals need their own module), each listener module exposing ``register(app)``."""

from __future__ import annotations

from slack_bolt import App


def register_listeners(app: App) -> None:
    from handlers import fallback, help, integrity, members
    from handlers.exchange import listeners as exchange
    from handlers.home import listeners as home
    from handlers.ideas import listeners as ideas
    from handlers.learning import listeners as learning
    from handlers.nudges import listeners as nudges
    from handlers.privacy import listeners as privacy
    from handlers.pulse import listeners as pulse
    from handlers.views import install as install_views

    install_views()

    integrity.register(app)  # first: seals are opened before any listener reads a form
    for feature in (help, home, members, ideas, nudges, pulse, exchange, learning, privacy):
        feature.register(app)
    fallback.register(app)  # last: it answers whatever no feature claimed
