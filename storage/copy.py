"""Copy a whole community from one database to another (``copbot copy-db --to URL``),
e.g. from SQLite to PostgreSQL as it grows, then check every table's row count.

The target is migrated first and must be empty. Rows are read and written through the
models' own tables, so JSON and times convert between dialects; PostgreSQL sequences
are moved past the copied IDs so new rows don't collide.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import MetaData, Table, func, insert, select, text
from sqlmodel import SQLModel

from storage.db import Database
from storage.migrate import LIBRARY_TABLES, upgrade

BATCH = 1000


class CopyError(Exception):
    """The copy can't start or didn't verify; the message says why in one line."""


@dataclass(frozen=True)
class Copied:
    table: str
    source: int
    target: int

    @property
    def ok(self) -> bool:
        return self.source == self.target


def _tables(target: Database) -> list[Table]:
    """Our tables in dependency order, then the libraries' (reflected from the target)."""
    library = MetaData()
    library.reflect(target.engine, only=lambda name, _: name in LIBRARY_TABLES)
    return [*SQLModel.metadata.sorted_tables, *library.sorted_tables]


def _count(database: Database, table: Table) -> int:
    with database.engine.connect() as connection:
        return int(connection.scalar(select(func.count()).select_from(table)) or 0)


def copy_database(
    source: Database, target: Database, progress: Callable[[str], None] = lambda _: None
) -> list[Copied]:
    upgrade(target)
    tables = _tables(target)
    busy = [t.name for t in tables if _count(target, t)]
    if busy:
        raise CopyError(f"the target database is not empty ({', '.join(busy[:5])}); use a new one")
    with source.engine.connect() as reading, target.engine.begin() as writing:
        for table in tables:
            rows = reading.execute(select(table)).mappings()
            copied = 0
            while batch := rows.fetchmany(BATCH):
                writing.execute(insert(table), [dict(row) for row in batch])
                copied += len(batch)
            progress(f"{table.name}: {copied} rows")
        if target.dialect == "postgresql":
            _advance_sequences(writing, tables)
    report = [Copied(t.name, _count(source, t), _count(target, t)) for t in tables]
    bad = [c for c in report if not c.ok]
    if bad:
        names = ", ".join(f"{c.table} {c.source}->{c.target}" for c in bad)
        raise CopyError(f"row counts differ after copying: {names}")
    return report


def _advance_sequences(connection: object, tables: list[Table]) -> None:
    for table in tables:
        key = table.c.get("id")
        if key is None or not key.autoincrement or key.type.python_type is not int:
            continue
        connection.execute(  # type: ignore[attr-defined]
            text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 1), "
                f"(SELECT MAX(id) FROM {table.name}) IS NOT NULL)"
            )
        )
