"""After "forget me" has committed: redraw what copbot posted that named the person, and
clean the database's files of what was deleted."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from sqlalchemy.exc import OperationalError

from bot.rights.erasure import Forgotten
from bot.rights.links import table_named
from bot.slack import SlackPort
from storage import Database, OutboxMessage

log = logging.getLogger("copbot.rights")


def redraw(db: Database, slack: SlackPort, done: Forgotten) -> int:
    """Redraw, at once, every card and message copbot posted that named the person.
    Each is tried on its own: one Slack refusal does not stop the rest. Returns how many
    Slack took."""
    from bot.exchange import followup
    from bot.ideas import publish

    redrawn = 0
    for idea_id in sorted(done.ideas):
        redrawn += _try(lambda i=idea_id: publish.refresh_card(db, slack, done.team_id, i))
    for message_id in sorted(done.messages):

        def again(i: int = message_id) -> None:
            with db.session() as session:
                row = session.get(OutboxMessage, i)
            if row and row.sent_channel and row.sent_ts:
                slack.update_message(row.sent_channel, row.sent_ts, row.text, blocks=row.blocks)

        redrawn += _try(again)
    for match_id in sorted(done.matches):
        redrawn += _try(partial(followup.redraw_intro, db.session, slack, match_id))
    for round_id in sorted(done.rounds):
        redrawn += _try(partial(followup.send_review, db.session, slack, round_id))
    return redrawn


def _try(work: Any) -> int:
    try:
        work()
        return 1
    except Exception:
        log.exception("redraw after forget me failed")
        return 0


def clean_storage(db: Database, done: Forgotten) -> bool:
    """Deleted text must not linger in the database's files.

    SQLite keeps deleted rows in free pages and in its write-ahead log: VACUUM rewrites the
    file without them and a TRUNCATE checkpoint empties the log. PostgreSQL keeps them as
    dead tuples until VACUUM reclaims the space; run it on the tables erasure touched (see
    docs/privacy.md for what remains in WAL segments and backups). The erasure itself is
    already committed: if the database is too busy now, this is logged and False returned
    (the next "forget me" or a manual VACUUM clears it)."""
    if db.dialect == "sqlite":
        statements = ["VACUUM", "PRAGMA wal_checkpoint(TRUNCATE)"]
    elif db.dialect == "postgresql":
        statements = [f'VACUUM "{table_named(name).name}"' for name in sorted(done.tables)]
    else:
        return True
    try:
        with db.engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            for statement in statements:
                connection.exec_driver_sql(statement).close()
        return True
    except OperationalError as error:
        log.warning("forget me: the database files are not cleaned yet (%s)", error.orig)
        return False
