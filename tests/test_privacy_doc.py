"""docs/privacy.md stays true: every table has a row in the data inventory, and the
export and erasure map (bot.rights) names real tables and columns and covers every
column that holds a person's Slack user ID."""

from __future__ import annotations

import re
from pathlib import Path

from sqlmodel import SQLModel

import storage  # noqa: F401  (registers the tables)
from bot import rights

DOC = Path(__file__).resolve().parents[1] / "docs" / "privacy.md"
PERSON_COLUMNS = {"user_id", "slack_user_id", "author_id", "actor_id", "owner_id"}


def inventory() -> dict[str, list[str]]:
    """The inventory's rows by table: | `table` | personal data | ... |."""
    rows = {}
    for line in DOC.read_text().splitlines():
        found = re.match(r"\|\s*`([a-z_]+)`\s*\|(.*)\|\s*$", line)
        if found:
            rows[found.group(1)] = [cell.strip() for cell in found.group(2).split("|")]
    return rows


def person_columns() -> set[tuple[str, str]]:
    """Columns that name a person by their Slack user ID (by the project's naming)."""
    return {
        (table.name, column.name)
        for table in rights.tables()
        for column in table.columns
        if column.name in PERSON_COLUMNS or column.name.endswith("_by")
    }


def test_every_table_is_in_the_inventory_with_every_column_filled() -> None:
    rows = inventory()
    missing = {t.name for t in rights.tables()} - rows.keys()
    assert not missing, f"add these tables to docs/privacy.md: {sorted(missing)}"
    for name, cells in rows.items():
        assert len(cells) == 5 and all(cells), f"{name}: fill every column"


def test_the_export_map_names_real_tables_and_columns() -> None:
    tables = SQLModel.metadata.tables
    for link in rights.LINKS:
        assert link.table in tables, link
        columns = tables[link.table].c
        assert link.column in columns, link
        assert set(link.columns) <= set(columns.keys()), link
    for table, column in rights.NOT_THEIRS:
        assert column in tables[table].c, (table, column)


def test_every_column_naming_a_person_is_exported_or_marked_not_theirs() -> None:
    linked = {(link.table, link.column) for link in rights.LINKS}
    uncovered = person_columns() - linked - set(rights.NOT_THEIRS)
    assert not uncovered, f"say in bot/rights/links.py how export and erasure treat {uncovered}"


def test_the_inventory_says_how_each_linked_table_is_exported() -> None:
    rows = inventory()
    for link in rights.LINKS:
        export = rows[link.table][3]
        assert f"`{link.column}`" in export, f"{link.table}: name `{link.column}` under export"
