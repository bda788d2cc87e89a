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


def test_values_a_database_quotes_in_its_errors_are_scrubbed() -> None:
    """PostgreSQL's detail names the key's values; a record carrying it is cleaned before
    any handler sees it (the engine already hides the SQL parameters)."""
    detail = (
        'duplicate key value violates unique constraint "pulse_ballot_pkey"\n'
        "DETAIL:  Key (id)=(9f86d081884c7d65) already exists.\n"
        "[parameters: ('9f86d081884c7d65', 7)]\n"
        "DETAIL:  Failing row contains (7, null, I feel unsafe)."
    )
    try:
        raise RuntimeError(detail)
    except RuntimeError:
        record = logging.LogRecord(
            "copbot.handlers", logging.ERROR, __file__, 1, "failed: %s", (detail,), sys.exc_info()
        )
    assert logs.Scrub().filter(record)
    shown = record.getMessage() + (record.exc_text or "")
    assert "9f86d081884c7d65" not in shown and "unsafe" not in shown
    assert "Key (id)=(…) already exists" in shown and "pulse_ballot_pkey" in shown
    line = json.loads(logs.JsonFormatter().format(record))
    assert "9f86d081884c7d65" not in json.dumps(line)
