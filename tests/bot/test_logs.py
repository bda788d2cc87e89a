"""JSON log lines carry the Slack request's ID while it is being handled."""

from __future__ import annotations

import json
import logging
import sys

from bot import logs


def test_a_json_line_with_the_request_id_and_the_error() -> None:
    formatter = logs.JsonFormatter()
    token = logs.request_id.set("0123456789abcdef")
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            record = logging.LogRecord(
                "copbot.handlers",
                logging.ERROR,
                __file__,
                1,
                "failed on %s",
                ("x",),
                sys.exc_info(),
            )
        line = json.loads(formatter.format(record))
    finally:
        logs.request_id.reset(token)
    assert line["request_id"] == "0123456789abcdef"
    assert line["level"] == "error" and line["message"] == "failed on x"
    assert "ValueError: boom" in line["error"]
    outside = logging.LogRecord("copbot", logging.INFO, __file__, 1, "idle", (), None)
    assert "request_id" not in json.loads(formatter.format(outside))
