"""The platform under every feature: the one outbound port (``Messenger``), the outbox,
scheduling (``bot.platform.scheduling``) and (to come) effects after commit. It imports
no feature."""

from bot.platform.messenger import History, Messenger, Posted, Refused, tagged

__all__ = ["History", "Messenger", "Posted", "Refused", "tagged"]
