"""Errors: how a Web API failure travels from state code to the HTTP answer."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A Slack API error answer: ``{"ok": false, "error": <error>, ...}``.

    ``messages`` become ``response_metadata.messages`` (Slack's explanation lines),
    ``status`` the HTTP status (Slack answers most errors with 200).
    """

    def __init__(
        self,
        error: str,
        *,
        messages: list[str] | None = None,
        status: int = 200,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(error if not messages else f"{error}: {'; '.join(messages)}")
        self.error = error
        self.messages = messages or []
        self.status = status
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error": self.error, **self.extra}
        if self.messages:
            body["response_metadata"] = {"messages": list(self.messages)}
        return body


class TwinUsageError(Exception):
    """The twin or driver was used in a way that cannot match anything Slack would do."""
