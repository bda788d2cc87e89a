"""The engine and a session per unit of work."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, Engine, make_url
from sqlmodel import Session, SQLModel, create_engine

from storage import clock


def utcnow() -> datetime:
    """Aware UTC from the process's clock (``storage.clock``: real time unless the sandbox
    or a test moved it); SQLModel's datetime columns store and return UTC on every database."""
    return clock.now()


def random_key() -> str:
    """A random row key (128 bits), for rows whose order or time must not show."""
    return secrets.token_hex(16)


def normalise_url(url: str) -> URL:
    """SQLite paths get their folder created; PostgreSQL goes through psycopg 3."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return parsed.set(drivername="postgresql+psycopg")
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    return parsed


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    """``hide_parameters``: an error (logged with its statement) never shows the values
    bound into it: answers, free text, token hashes."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(
            parsed,
            connect_args={"check_same_thread": False, "timeout": 10},
            hide_parameters=True,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        parsed, pool_pre_ping=True, pool_size=10, max_overflow=20, hide_parameters=True
    )


class Database:
    """Owns the engine; ``session()`` is one unit of work, committed on success."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        self.engine.dispose()


def insert_or_ignore(session: Session, row: SQLModel) -> bool:
    """Insert ``row`` unless it clashes with a unique key; True when it was inserted.

    ``ON CONFLICT DO NOTHING`` on both SQLite and PostgreSQL: no exception, no aborted
    transaction, and on PostgreSQL a concurrent duplicate waits for the first to commit.
    """
    table, values = _table_values(row)
    key = next(iter(table.primary_key.columns))
    statement = _insert(session, table).values(**values).on_conflict_do_nothing().returning(key)
    return session.execute(statement).first() is not None


def insert_copies_or_ignore(
    session: Session, template: SQLModel, changes: Sequence[dict[str, Any]]
) -> None:
    """Insert one row per item of ``changes`` (the template's values with those changed),
    skipping rows that clash with a unique key: many rows that differ in a column or two,
    in one statement and without building a model for each."""
    table, values = _table_values(template)
    if changes:
        rows = [values | change for change in changes]
        session.execute(_insert(session, table).values(rows).on_conflict_do_nothing())


def _table_values(row: SQLModel) -> tuple[Any, dict[str, Any]]:
    table = type(row).__table__  # type: ignore[attr-defined]
    return table, {k: v for k, v in row.model_dump().items() if k in table.c and v is not None}


def _insert(session: Session, table: Any) -> Any:
    return (
        postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    )(table)
