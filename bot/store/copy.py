"""`antifraud-bot db copy --from FILE --to URL`: a county's SQLite data into PostgreSQL.

Both sides are brought to the latest schema first; the target must be empty (a copy never
merges into a database already in use). Every table goes over in one target transaction, in
pages, ids kept (reports keep their numbers and references), then the target's id sequences
are moved past the copied ids so new rows do not collide. Counts are checked at the end.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.store.database import Database

PAGE = 2_000  # rows read and written at a time: memory stays flat however large the file
# Pages go by rowid, which may be negative (a group's chat id): start below the least one.
BEFORE_EVERY_ROWID = -(2**63)
# Tables whose `id` is an identity on PostgreSQL.
IDENTITY_TABLES = ("outbox", "reports", "suggestions", "suggestion_answers")


class CopyRefused(Exception):
    """The copy cannot start (the target is in use, a table is unknown); says why."""


def _tables(source: Database) -> list[str]:
    rows = source.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " AND name <> 'schema_migrations' ORDER BY name"
    ).fetchall()
    return _referenced_first(source, [r[0] for r in rows])


def _referenced_first(source: Database, tables: list[str]) -> list[str]:
    """The tables in an order that copies a row's parent before it (suggestions before
    their answers): PostgreSQL checks a foreign key at each insert."""
    parents = {
        table: {row[2] for row in source.execute(f"PRAGMA foreign_key_list({table})")}
        for table in tables
    }
    ordered: list[str] = []
    while len(ordered) < len(tables):
        ready = [t for t in tables if t not in ordered and parents[t] <= {*ordered, t}]
        if not ready:  # pragma: no cover - the schema has no cycle
            raise CopyRefused("the tables' foreign keys form a cycle")
        ordered += ready
    return ordered


def _columns(source: Database, table: str) -> list[str]:
    return [row[1] for row in source.execute(f"PRAGMA table_info({table})")]


def _target_columns(target: Database, table: str) -> list[str]:
    rows = target.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ?"
        " AND table_schema = current_schema() ORDER BY ordinal_position",
        (table,),
    ).fetchall()
    return [r[0] for r in rows]


def copy_database(
    source: Database, target: Database, say: Callable[[str], None] = lambda _: None
) -> dict[str, int]:
    """Copy every row of `source` (SQLite) into the empty `target` (PostgreSQL); the counts
    per table."""
    if source.dialect != "sqlite" or target.dialect != "postgresql":
        raise CopyRefused("copies an SQLite file (--from) into a PostgreSQL database (--to)")
    if source.schema_version() != target.schema_version():
        raise CopyRefused("the two databases are at different schema versions")
    tables = _tables(source)
    plan: dict[str, list[str]] = {}
    for table in tables:
        columns = _target_columns(target, table)
        if not columns:
            raise CopyRefused(f"the target has no table {table!r}")
        missing = [c for c in _columns(source, table) if c not in columns]
        if missing:
            raise CopyRefused(f"the target's table {table!r} lacks {', '.join(missing)}")
        plan[table] = _columns(source, table)
        if target.execute(f"SELECT 1 FROM {table} LIMIT 1").fetchone() is not None:  # noqa: S608
            raise CopyRefused(f"the target is not empty (table {table!r} has rows)")
    counts: dict[str, int] = {}
    with target.transaction() as db:
        for table, columns in plan.items():
            names = ", ".join(columns)
            insert = (
                f"INSERT INTO {table} ({names})"  # noqa: S608 - names from the schema
                f" VALUES ({', '.join('?' for _ in columns)})"
            )
            page = (
                f"SELECT rowid, {names} FROM {table}"  # noqa: S608
                " WHERE rowid > ? ORDER BY rowid LIMIT ?"
            )
            copied, last = 0, BEFORE_EVERY_ROWID
            while rows := source.execute(page, (last, PAGE)).fetchall():
                db.executemany(insert, [row[1:] for row in rows])
                copied, last = copied + len(rows), rows[-1][0]
            counts[table] = copied
            say(f"{table}: {copied}")
        for table in IDENTITY_TABLES:
            if table in plan:
                db.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"  # noqa: S608
                    f" COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                )
    for table, copied in counts.items():
        there = int(target.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])  # noqa: S608
        if there != copied:  # pragma: no cover - one transaction: all or nothing
            raise RuntimeError(f"{table}: {copied} copied but {there} in the target")
    return counts
