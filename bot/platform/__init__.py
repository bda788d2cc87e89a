"""The platform under every feature: the outbox, and (to come) scheduling and effects after
commit. It imports no feature (``bot.ideas``, ``bot.pulse``...)."""
