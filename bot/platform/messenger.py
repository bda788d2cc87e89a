"""The one outbound port: everything ``bot`` sends to people goes through a ``Messenger``.

``bot.slack.WebClientPort`` is the Slack implementation (against real Slack or the twin).
What a caller may rely on is in the types here, not in a client: where a message landed
(``Posted``), a page of a conversation (``History``), and, when the platform answers
with a refusal, its error code, HTTP status, ``Retry-After`` and method (``Refused``).
Failures before an answer (a timeout, a dropped connection) are ``OSError``s, as the
transport raised them: whether the platform acted is then unknown.

Messages and metadata are in Slack's shape for now (Block Kit, ``event_type`` and
``event_payload``); a second platform would map them in its own Messenger.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Posted:
    """Where Slack put a message: the conversation ID it answered (a ``D…`` ID when the
    message was posted to a user ID) and the message's ts.

    Keep ``channel`` for any message copbot later updates or deletes: chat.update and
    chat.delete take a conversation ID, never a user ID (``channel_not_found``)."""

    channel: str
    ts: str


@dataclass(frozen=True)
class History:
    """One page of a conversation, newest first, and the cursor to the next (None: none)."""

    messages: list[dict[str, Any]]
    next_cursor: str | None


class Refused(Exception):
    """The platform answered and refused the call.

    ``code``: its error code (``ratelimited``, ``channel_not_found``..., or ``http_<status>``
    when the answer carried none); ``status``: the HTTP status; ``retry_after``: seconds
    from a ``Retry-After`` header, or None; ``method``: the API method refused.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "",
        status: int | None = None,
        retry_after: float | None = None,
        method: str = "",
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.retry_after = retry_after
        self.method = method


def tagged(message: dict[str, Any], event_type: str, key: str) -> bool:
    """Whether a message was posted with metadata ``event_type`` and payload ``{"key": key}``
    (how copbot finds a message again after a crash between posting and recording it)."""
    metadata = message.get("metadata") or {}
    return metadata.get("event_type") == event_type and (
        (metadata.get("event_payload") or {}).get("key") == key
    )


@runtime_checkable
class Messenger(Protocol):
    """Post, update, DM, publish home, upload; and read back a page of a conversation,
    which is how the outbox makes sure a message it may have sent is not sent twice."""

    def post(
        self,
        channel: str,
        text: str,
        *,
        blocks: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Posted: ...

    def update_message(
        self, channel: str, ts: str, text: str, *, blocks: list[dict[str, Any]] | None = None
    ) -> None: ...

    def open_conversation(self, user_ids: list[str]) -> str: ...

    def publish_home(self, user_id: str, view: dict[str, Any]) -> None: ...

    def upload_file(
        self, user_id: str, filename: str, content: str | bytes, *, title: str, comment: str
    ) -> None: ...

    def history(self, channel: str, *, limit: int, cursor: str | None = None) -> History: ...
