"""slacktwin: a local fake Slack for copbot's tests, sandbox and benchmarks.

``SlackTwin`` serves Slack's Web API on loopback with Slack's shapes, errors, Block Kit
validation, rate limits and faults, and Socket Mode; ``SlackDriver`` sends events, commands
and interactions to an app over signed HTTP or Socket Mode as a person would; ``render``
prints Block Kit.
"""

from slacktwin.driver import SlackDriver, SubmitResult
from slacktwin.errors import ApiError, TwinUsageError
from slacktwin.ratelimit import Limit, RateLimits
from slacktwin.recording import Call
from slacktwin.render import Interactive, Rendered, render_blocks, render_interactive
from slacktwin.socketmode import AckTimeout, SocketAck, SocketModeError
from slacktwin.twin import SlackTwin

__all__ = [
    "AckTimeout",
    "ApiError",
    "Call",
    "Interactive",
    "Limit",
    "RateLimits",
    "Rendered",
    "SlackDriver",
    "SlackTwin",
    "SocketAck",
    "SocketModeError",
    "SubmitResult",
    "TwinUsageError",
    "render_blocks",
    "render_interactive",
]
