"""Every feature's views, imported so that ``bot.platform.rendering.render`` can draw any
domain message. Imported by each composition root (the Bolt app, the worker, the
sandbox); a feature that adds ``handlers/<feature>/views.py`` adds its import here."""

from __future__ import annotations


def install() -> None:
    """Register every feature's views (idempotent: imports run once)."""
    # Features add their views module here as they move their Block Kit out of bot/.
    from handlers.exchange import views as exchange  # noqa: F401
    from handlers.ideas import views as ideas  # noqa: F401
    from handlers.learning import views as learning  # noqa: F401
    from handlers.nudges import views as nudges  # noqa: F401
    from handlers.pulse import views as pulse  # noqa: F401
