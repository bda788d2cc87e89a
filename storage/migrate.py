"""Apply Alembic migrations programmatically (``copbot migrate`` and start-up)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from storage.db import Database

MIGRATIONS = Path(__file__).parent / "migrations"
# Several copbot processes may start at once against one PostgreSQL: one migrates at a time.
MIGRATION_LOCK_ID = 0x0C0B07
# Tables whose shape belongs to a library: created by our migrations, not by our models.
LIBRARY_TABLES = frozenset({"apscheduler_jobs"})


def include_object(obj: object, name: str | None, kind: str, *_: object) -> bool:
    """Leave library tables (and their indexes) out of autogenerate's comparison."""
    table = obj if kind == "table" else getattr(obj, "table", None)
    return getattr(table, "name", name) not in LIBRARY_TABLES


def alembic_config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = database.engine
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    config = alembic_config(database)
    if database.dialect == "postgresql":
        with database.engine.connect() as lock:
            lock.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
            try:
                command.upgrade(config, revision)
            finally:
                lock.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
                lock.commit()
    else:
        command.upgrade(config, revision)


def current_revision(database: Database) -> str | None:
    with database.engine.connect() as connection:
        try:
            row = connection.execute(text("SELECT version_num FROM alembic_version")).first()
        except Exception:
            return None
    return row[0] if row else None


def head_revision() -> str | None:
    """The newest migration this code ships."""
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def is_current(database: Database) -> bool:
    """Whether the database answers and is at the newest migration."""
    return current_revision(database) == head_revision()
