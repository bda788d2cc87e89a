from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlmodel import SQLModel

from storage import Database, ProcessedEvent, insert_or_ignore
from storage.migrate import current_revision, include_object, upgrade


def test_migrations_create_the_foundation_tables(database: Database) -> None:
    tables = set(inspect(database.engine).get_table_names())
    assert {"workspace", "member", "organisation", "processedevent", "audit_log"} <= tables
    assert current_revision(database) is not None


def test_upgrade_twice_is_harmless(database: Database) -> None:
    revision = current_revision(database)
    upgrade(database)
    assert current_revision(database) == revision


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path) -> None:
    database = Database(f"sqlite:///{tmp_path}/fresh/copbot.db")
    upgrade(database)
    with database.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    database.dispose()


def test_insert_or_ignore_reports_duplicates(database: Database) -> None:
    with database.session() as session:
        assert insert_or_ignore(session, ProcessedEvent(key="Ev1"))
        assert not insert_or_ignore(session, ProcessedEvent(key="Ev1"))
    with database.session() as session:
        assert not insert_or_ignore(session, ProcessedEvent(key="Ev1"))
        assert session.get(ProcessedEvent, "Ev1") is not None


def test_the_models_and_the_migrations_agree(database: Database) -> None:
    """A model changed without a migration (or the reverse) fails here, on both databases."""
    with database.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_object": include_object}
        )
        assert compare_metadata(context, SQLModel.metadata) == []
