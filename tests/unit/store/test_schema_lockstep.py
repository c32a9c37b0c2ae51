"""The lockstep test (docs/design/postgres.md §5.3): SQLite and PostgreSQL, migrated fresh, hold the same schema.

Both databases are read back into one normal form and compared whole: per table its columns (type, NOT NULL,
default), primary key and UNIQUE constraints; every created index with its columns in order, DESC, uniqueness and
partial predicate; and the two migration tables list the same migrations, so no migration lands for one backend only.
(test_dialect.py checks that the translated DDL applies; this checks what it builds, in full.)
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from notifbot.store.db import connect, migrations

TYPES = {
    "integer": "integer",
    "bigint": "integer",
    "real": "real",
    "double precision": "real",
    "text": "text",
}


@dataclass(frozen=True)
class Index:
    table: str
    columns: tuple[str, ...]  # "name" or "name DESC", in key order
    unique: bool
    predicate: str | None


@dataclass
class Schema:
    columns: dict[str, dict[str, tuple[str, bool, str | None]]]  # table → column → (type, NOT NULL, default)
    primary_keys: dict[str, tuple[str, ...]]
    uniques: dict[str, set[tuple[str, ...]]]  # table → UNIQUE constraints (column lists)
    indexes: dict[str, Index]  # the ones migrations create by name
    migrations: list[str]


def normal_default(text: str | None) -> str | None:
    """A column default without PostgreSQL's casts and parentheses: `'pending'::text` → `'pending'`."""
    if text is None:
        return None
    text = re.sub(r"::[a-z ]+", "", text.strip())
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    return text


def normal_predicate(text: str | None) -> str | None:
    """A partial index's WHERE clause in one spelling: casts, quotes of names, outer parentheses and case dropped,
    `x = ANY (ARRAY[a, b])` written `x IN (a, b)`, whitespace collapsed."""
    if text is None:
        return None
    text = re.sub(r"::[a-z ]+", "", text)
    text = re.sub(r"(\w+) = ANY \(ARRAY\[(.*?)\]\)", r"\1 IN (\2)", text)
    text = text.replace('"', "")
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"\(\s+", "(", re.sub(r"\s+\)", ")", text))
    text = re.sub(r",\s*", ", ", text)
    while text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()
    return text.lower()


def sqlite_schema(conn: sqlite3.Connection) -> Schema:
    conn.row_factory = sqlite3.Row
    tables = [
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
            " AND name <> ? ORDER BY name",
            (migrations.migrations_table,),
        )
    ]
    schema = Schema({}, {}, {}, {}, [])
    for t in tables:
        info = conn.execute("SELECT * FROM pragma_table_info(?)", (t,)).fetchall()
        pk = [r["name"] for r in sorted((r for r in info if r["pk"]), key=lambda r: r["pk"])]
        schema.primary_keys[t] = tuple(pk)
        schema.columns[t] = {
            # a primary key column is NOT NULL on PostgreSQL whatever it says; SQLite lets a non-INTEGER one be
            # NULL (a known quirk no store code relies on), so both sides count it as NOT NULL
            r["name"]: (
                TYPES[r["type"].lower()],
                bool(r["notnull"]) or r["name"] in pk,
                normal_default(r["dflt_value"]),
            )
            for r in info
        }
        schema.uniques[t] = set()
        for ix in conn.execute("SELECT * FROM pragma_index_list(?)", (t,)).fetchall():
            keys = conn.execute(
                "SELECT name, desc FROM pragma_index_xinfo(?) WHERE key = 1 ORDER BY seqno", (ix["name"],)
            ).fetchall()
            if ix["origin"] == "u":
                schema.uniques[t].add(tuple(k["name"] for k in keys))
            elif ix["origin"] == "c":
                sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (ix["name"],)).fetchone()[
                    0
                ]
                where = re.split(r"\bWHERE\b", sql, maxsplit=1, flags=re.IGNORECASE)
                schema.indexes[ix["name"]] = Index(
                    t,
                    tuple(k["name"] + (" DESC" if k["desc"] else "") for k in keys),
                    bool(ix["unique"]),
                    normal_predicate(where[1]) if len(where) == 2 else None,
                )
    schema.migrations = sorted(
        r[0]
        for r in conn.execute(
            f"SELECT name FROM {migrations.migrations_table} WHERE migration_set = ?", (migrations.name,)
        )
    )
    return schema


def pg_schema(conn: Any) -> Schema:
    from notifbot.store.pg import MIGRATIONS_TABLE

    schema = Schema({}, {}, {}, {}, [])
    for r in conn.execute(
        "SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns"
        " WHERE table_schema = 'public' AND table_name <> ? ORDER BY table_name, ordinal_position",
        (MIGRATIONS_TABLE,),
    ).fetchall():
        schema.columns.setdefault(r["table_name"], {})[r["column_name"]] = (
            TYPES[r["data_type"]],
            r["is_nullable"] == "NO",
            normal_default(r["column_default"]),
        )
    for t in schema.columns:
        schema.uniques[t] = set()
        schema.primary_keys.setdefault(t, ())
    keyed = conn.execute(
        "SELECT c.relname AS tbl, i.relname AS name, x.indisunique AS uniq, x.indisprimary AS pk,"
        " x.indnkeyatts AS nkeys, x.indoption::int2[] AS options, x.indexrelid AS oid,"
        " pg_get_expr(x.indpred, x.indrelid, true) AS predicate,"
        " EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.contype = 'u') AS constraint_"
        " FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relname <> ?",
        (MIGRATIONS_TABLE,),
    ).fetchall()
    for r in keyed:
        columns = tuple(
            conn.execute("SELECT pg_get_indexdef(?, ?, true)", (r["oid"], k + 1)).fetchone()[0]
            + (" DESC" if r["options"][k] & 1 else "")
            for k in range(r["nkeys"])
        )
        if r["pk"]:
            schema.primary_keys[r["tbl"]] = columns
        elif r["constraint_"]:
            schema.uniques[r["tbl"]].add(columns)
        else:
            schema.indexes[r["name"]] = Index(r["tbl"], columns, r["uniq"], normal_predicate(r["predicate"]))
    schema.migrations = sorted(r[0] for r in conn.execute(f"SELECT name FROM {MIGRATIONS_TABLE}").fetchall())
    return schema


@pytest.fixture
def schemas(pg_store_url: str, tmp_path: Path) -> tuple[Schema, Schema]:
    from notifbot.store import pg

    lite = connect(tmp_path / "lite.db")
    conn = pg.connect(pg_store_url)
    try:
        return sqlite_schema(lite), pg_schema(conn)
    finally:
        lite.close()
        conn.close()


def test_both_backends_have_the_same_tables_and_columns(schemas: tuple[Schema, Schema]) -> None:
    lite, pg = schemas
    assert sorted(pg.columns) == sorted(lite.columns)
    for table, columns in lite.columns.items():
        assert pg.columns[table] == columns, table
    assert sum(len(c) for c in lite.columns.values()) >= 163


def test_both_backends_have_the_same_keys_and_unique_constraints(schemas: tuple[Schema, Schema]) -> None:
    lite, pg = schemas
    assert pg.primary_keys == lite.primary_keys
    assert all(lite.primary_keys.values()), "every table has a primary key"
    assert pg.uniques == lite.uniques
    assert ("key",) in lite.uniques["events"] and ("key_id", "period_end") in lite.uniques["digests"]


def test_both_backends_have_the_same_indexes(schemas: tuple[Schema, Schema]) -> None:
    lite, pg = schemas
    assert pg.indexes == lite.indexes
    # the shapes the comparison must see: DESC, a unique partial index, an IN predicate
    assert lite.indexes["outbox_claim"].columns == ("dest_type", "target", "status", "priority DESC", "id")
    assert lite.indexes["alert_groups_open"] == Index("alert_groups", ("key_id",), True, "closed = 0")
    assert lite.indexes["outbox_open"].predicate == "status in ('pending', 'dead')"


def test_both_backends_record_the_same_migrations(schemas: tuple[Schema, Schema]) -> None:
    lite, pg = schemas
    assert pg.migrations == lite.migrations
    assert len(lite.migrations) >= 15


@pytest.mark.parametrize(
    ("sqlite", "postgres"),
    [
        ("status IN ('pending', 'dead')", "(status = ANY (ARRAY['pending'::text, 'dead'::text]))"),
        ("provider_message_id IS NOT NULL", "(provider_message_id IS NOT NULL)"),
        ("closed = 0", "(closed = 0)"),
        ("\"status\" = 'pending'", "status = 'pending'::text"),
    ],
)
def test_predicates_normalise_to_one_spelling(sqlite: str, postgres: str) -> None:
    assert normal_predicate(sqlite) == normal_predicate(postgres)


def test_normal_forms_still_tell_different_schemas_apart() -> None:
    assert normal_predicate("closed = 0") != normal_predicate("closed = 1")
    assert normal_predicate("status IN ('pending')") != normal_predicate("status IN ('pending', 'dead')")
    assert normal_default("'pending'::text") == normal_default("'pending'") != normal_default("'firing'")
    assert normal_default("0") != normal_default("1")
