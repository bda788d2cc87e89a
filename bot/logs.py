"""Logging: one JSON object a line for servers (with the Slack request's ID on every line
logged while handling it), plain text for people at a terminal.

Logs link nobody to what they wrote or answered: the engine hides SQL parameters
(``hide_parameters``), request descriptions leave out action values and text
(``handlers.common.describe``), and ``Scrub`` removes the values a database quotes in
its own error detail (PostgreSQL's "Key (run_id, id)=(7, ab12...)", "Failing row
contains (...)") from every message and traceback.
"""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from datetime import UTC, datetime

request_id: ContextVar[str | None] = ContextVar("copbot_request_id", default=None)


_KEY_VALUES = re.compile(r"(Key \([^)]*\))=\((?:[^()\n]|\([^()\n]*\))*\)")
_FAILING_ROW = re.compile(r"(Failing row contains) \(.*\)")
_PARAMETERS = re.compile(r"\[parameters: [^\n]*\]")
HIDDEN = "(…)"


def scrub(text: str) -> str:
    """``text`` without the values a database error quotes (``Key (...)=(...)``,
    ``Failing row contains (...)``, SQLAlchemy's ``[parameters: ...]``)."""
    text = _KEY_VALUES.sub(rf"\1={HIDDEN}", text)
    text = _FAILING_ROW.sub(rf"\1 {HIDDEN}", text)
    return _PARAMETERS.sub("[parameters hidden]", text)


class Scrub(logging.Filter):
    """Scrubs a record's message and traceback (``scrub``) before any handler sees it.
    On a handler it covers every logger; on a logger, that logger's own records."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        current = request_id.get()
        if current:
            entry["request_id"] = current
        if record.exc_info or record.exc_text:
            error = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
            entry["error"] = scrub(error)
        return json.dumps(entry, ensure_ascii=False)


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get() or "-"
        return True


def configure(*, json_lines: bool, level: int = logging.INFO) -> None:
    handler = logging.StreamHandler()
    handler.addFilter(_RequestId())
    handler.addFilter(Scrub())
    handler.setFormatter(
        JsonFormatter()
        if json_lines
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s]: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
