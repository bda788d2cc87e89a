"""Effects after commit: what a use case decides inside its transaction and does outside it.

A use case writes its rows and, in the same transaction, says what should happen in the
world once they are safe: ``after_commit(session, lambda: refresh_card(port, idea_id))``.
The effect runs right after the commit, in the thread that committed, and never if the
transaction rolls back, so Slack never hears of a change that did not happen and no
Slack call holds a row lock (rule 2 of docs/architecture.md). The model is Django's
``transaction.on_commit`` as zulip's ``zerver/actions`` use it.

Messages to people go through the outbox instead (``outbox.enqueue`` in the same
transaction): they are kept, paced and retried. Effects are for what must happen now and
may be lost with the process: redrawing a card, answering the person who acted.

An effect that raises stops the ones after it, and its error reaches whoever committed
(the rows are already committed). Effects run after the commit, when the session has no
transaction: one that needs the database opens its own session.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

_EFFECTS = "copbot.after_commit"

Effect = Callable[[], object]


def after_commit(session: Session, effect: Effect) -> None:
    """Run ``effect`` once ``session``'s transaction has committed; never if it rolls back."""
    session.info.setdefault(_EFFECTS, []).append(effect)


def pending(session: Session) -> int:
    """How many effects wait for this session's commit (for tests and logs)."""
    return len(session.info.get(_EFFECTS, ()))


@event.listens_for(Session, "after_commit")
def _run(session: Session) -> None:
    effects: list[Effect] = session.info.pop(_EFFECTS, [])
    for effect in effects:
        effect()


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_EFFECTS, None)
