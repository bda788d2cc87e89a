# temporary: removed once every caller imports bot.platform.outbox
from bot.platform.outbox import *  # noqa: F403
from bot.platform.outbox import __all__  # noqa: F401
