"""slacktwin: a local fake Slack for copbot's tests, sandbox and benchmarks.

``SlackTwin`` serves Slack's Web API on loopback with Slack's shapes, errors, Block Kit
validation, rate limits and faults; ``SlackDriver`` sends signed events, commands and
interactions to an app over HTTP as a person would; ``render`` prints Block Kit.
"""

from slacktwin.driver import SlackDriver, SubmitResult
from slacktwin.errors import ApiError, TwinUsageError
from slacktwin.ratelimit import Limit, RateLimits
from slacktwin.recording import Call
from slacktwin.render import Interactive, Rendered, render_blocks, render_interactive
from slacktwin.twin import SlackTwin

__all__ = [
    "ApiError",
    "Call",
    "Interactive",
    "Limit",
    "RateLimits",
    "Rendered",
    "SlackDriver",
    "SlackTwin",
    "SubmitResult",
    "TwinUsageError",
    "render_blocks",
    "render_interactive",
]
