"""Where everything the bot stores lives (ANTIFRAUD_DB): one SQLite file, or a PostgreSQL
database that several replicas share. Both are a `Database`: `Database(target)` opens the
one the target names (a file path, or a `postgresql://` URL) and brings its schema up to
date (bot/store/migrations.py) under a lock, so replicas starting together migrate once.

Stores write their SQL once, with `?` placeholders, in the dialect both backends share
(`ON CONFLICT … DO …`, `RETURNING`); the PostgreSQL side translates the placeholders.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from bot.store.migrations import MIGRATIONS, Migration, statements

MEMORY = ":memory:"


class DatabaseUnusable(Exception):
    """The database file cannot be opened or used; says which file and why."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = path, reason


def _create_private(path: str) -> None:
    """Create the file readable by its owner only (0600), before any data is in it: it holds
    report descriptions, places and user ids. SQLite gives the -wal and -shm files the mode
    of the database file, so they are private too."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass  # created meanwhile by another process: its mode is its creator's
    except OSError as exc:
        raise DatabaseUnusable(path, _why_unusable(path, exc.strerror or str(exc))) from None


def _why_unusable(path: str, sqlite_says: str) -> str:
    """SQLite's reason in an operator's words where SQLite's own are vague."""
    file = Path(path)
    if file.is_dir():
        return "this is a folder, not a database file"
    if not file.parent.is_dir():
        return f"the folder {str(file.parent)!r} does not exist"
    if "not a database" in sqlite_says:
        return "this file is not an SQLite database (a wrong path, or a damaged file?)"
    if "readonly" in sqlite_says or "read-only" in sqlite_says:
        return "the file (or its folder) is read-only for this user"
    return sqlite_says


POSTGRES_PREFIXES = ("postgresql://", "postgres://")
# Any one number, the same in every replica: pg_advisory_xact_lock(MIGRATION_LOCK) serialises
# migrations across processes sharing a database.
MIGRATION_LOCK = 1_800_001
LATEST_VERSION = MIGRATIONS[-1].version


def is_postgres(target: str) -> bool:
    return target.startswith(POSTGRES_PREFIXES)


class Cursor(Protocol):
    """What a store reads from a statement: rows, the row count."""

    rowcount: int

    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...
    def __iter__(self) -> Iterator[Any]: ...


class Connection(Protocol):
    """A connection inside `Database.transaction()`."""

    def execute(self, sql: str, params: Sequence[object] = ()) -> Cursor: ...
    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> Cursor: ...


class Database:
    """An open database. `Database(path)` is SQLite, `Database("postgresql://…")` PostgreSQL.

    `create=False` (the read-only commands) refuses a file that does not exist rather than
    making an empty one from a mistyped path. Every problem opening it is DatabaseUnusable.
    """

    dialect = "sqlite"
    path: str

    def __new__(cls, target: str = MEMORY, create: bool = True, **options: Any) -> Database:
        if cls is Database:
            cls = PostgresDatabase if is_postgres(str(target)) else SqliteDatabase
        return super().__new__(cls)

    def execute(self, sql: str, params: Sequence[object] = ()) -> Cursor:
        raise NotImplementedError

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        raise NotImplementedError
        yield  # pragma: no cover

    @contextmanager
    def exclusive(self, key: int) -> Iterator[bool]:
        """Try to become the one holder of `key` among every process sharing the database;
        yields whether this one is. One SQLite file has one bot process: always True."""
        yield True

    def _apply_missing(self, db: Connection, time_type: str) -> None:
        """Within the caller's transaction (and lock): every migration not yet recorded in
        schema_migrations, in order, each recorded as it is applied."""
        db.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
            f" name TEXT NOT NULL, applied_at {time_type} NOT NULL)"
        )
        done = {row[0] for row in db.execute("SELECT version FROM schema_migrations")}
        for migration in MIGRATIONS:
            if migration.version in done:
                continue
            self._apply(db, migration)
            db.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, time.time()),
            )

    def _apply(self, db: Connection, migration: Migration) -> None:
        for statement in statements(migration.sql(self.dialect)):
            db.execute(statement)

    def schema_version(self) -> int:
        row = self.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def now(self) -> float:
        """The database's clock (seconds since the epoch): the one time every replica shares."""
        return time.time()

    def readable_by_others(self) -> bool:
        return False

    def close(self) -> None:
        raise NotImplementedError


class _Rows:
    """A finished statement's rows, read before its connection was let go (back to the pool,
    or to the next thread)."""

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows, self.rowcount, self._next = rows, rowcount, 0

    def fetchone(self) -> Any:
        if self._next >= len(self._rows):
            return None
        self._next += 1
        return self._rows[self._next - 1]

    def fetchall(self) -> list[Any]:
        rows, self._next = self._rows[self._next :], len(self._rows)
        return rows

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


class SqliteDatabase(Database):
    """One connection shared by the threads the bot's queries run in (asyncio.to_thread). The
    lock gives it to one statement, or one transaction, at a time; `execute` reads the rows
    before letting go, since a statement still being read keeps a stale snapshot open, and a
    write on it then (from another thread) fails at once with "database is locked"."""

    def __init__(self, path: str = MEMORY, create: bool = True) -> None:
        self.path = path
        if path != MEMORY and not Path(path).exists():
            if not create:
                raise DatabaseUnusable(path, _why_unusable(path, "there is no such file"))
            _create_private(path)
        try:
            self.connection = sqlite3.connect(
                path, check_same_thread=False, isolation_level=None, timeout=30
            )
        except sqlite3.Error as exc:
            raise DatabaseUnusable(path, _why_unusable(path, str(exc))) from None
        self.lock = threading.RLock()
        try:
            self._set_up(create)
            if create:
                self._check_writable()
        except sqlite3.Error as exc:
            self.connection.close()
            raise DatabaseUnusable(path, _why_unusable(path, str(exc))) from None

    def readable_by_others(self) -> bool:
        """True for a file other users may read: made before files were created 0600, or
        copied with a loose mode. It holds report descriptions, places and user ids."""
        return self.path != MEMORY and Path(self.path).stat().st_mode & 0o077 != 0

    def _check_writable(self) -> None:
        """Fail now, with the reason, if the file is read-only: SQLite opens it anyway and
        would fail at the first report or subscription. Nothing is kept (rolled back)."""
        with self.lock:
            self.connection.execute("BEGIN IMMEDIATE")
            try:
                self.connection.execute("CREATE TABLE write_check (x)")
            finally:
                self.connection.execute("ROLLBACK")

    def _set_up(self, create: bool) -> None:
        with self.lock:
            self._set_journal_mode_wal()
            # NORMAL is durable against a killed process (the WAL survives), which is the
            # crash this bot must survive; FULL would only add power-loss durability.
            self.connection.execute("PRAGMA synchronous=NORMAL")
            self.connection.execute("PRAGMA foreign_keys=ON")
            if create or self._pending_migrations():
                self._migrate()

    def _set_journal_mode_wal(self) -> None:
        """Switching to WAL needs the file to itself for an instant, and SQLite's busy timeout
        does not cover it: a second process opening the file then is told 'locked'. Retry."""
        for attempt in range(300):
            try:
                self.connection.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or attempt == 299:
                    raise
                time.sleep(0.1)

    def _pending_migrations(self) -> bool:
        try:
            return self.schema_version() < LATEST_VERSION
        except sqlite3.OperationalError:  # no schema_migrations table: made before them
            return True

    def _migrate(self) -> None:
        """Apply what is missing in one BEGIN IMMEDIATE transaction: a second process
        opening the file meanwhile waits for it, then finds nothing left to do."""
        with self.transaction() as db:
            self._apply_missing(db, time_type="REAL")

    def _apply(self, db: Connection, migration: Migration) -> None:
        super()._apply(db, migration)
        self._add_missing_columns(db, migration.sqlite_columns)

    @staticmethod
    def _add_missing_columns(db: Connection, columns: tuple[tuple[str, str, str], ...]) -> None:
        for table, column, definition in columns:
            existing = db.execute(f"PRAGMA table_info({table})").fetchall()
            if column not in {row[1] for row in existing}:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:  # type: ignore[override]
        with self.lock:
            self.connection.execute("BEGIN IMMEDIATE")
            try:
                yield self.connection
            except BaseException:
                self.connection.execute("ROLLBACK")
                raise
            self.connection.execute("COMMIT")

    def execute(self, sql: str, params: Sequence[object] | dict = ()) -> _Rows:
        with self.lock:
            cursor = self.connection.execute(sql, params)
            rows = cursor.fetchall() if cursor.description is not None else []
            return _Rows(rows, cursor.rowcount)

    def close(self) -> None:
        with self.lock:
            self.connection.close()


def _postgres_sql(sql: str) -> str:
    """`?` placeholders as psycopg's `%s` (a literal `%` doubled first)."""
    return sql.replace("%", "%%").replace("?", "%s")


def _run(cursor: Any, sql: str, params: Sequence[object]) -> _Rows:
    cursor.execute(_postgres_sql(sql), tuple(params))
    rows = cursor.fetchall() if cursor.description is not None else []
    return _Rows(rows, cursor.rowcount)


class _PostgresConnection:
    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def execute(self, sql: str, params: Sequence[object] = ()) -> _Rows:
        with self._connection.cursor() as cursor:
            return _run(cursor, sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> _Rows:
        with self._connection.cursor() as cursor:
            cursor.executemany(_postgres_sql(sql), [tuple(r) for r in rows])
            return _Rows([], cursor.rowcount)


class PostgresDatabase(Database):
    """A pool of connections to one PostgreSQL database (psycopg 3), shared by threads.

    Each statement outside `transaction()` runs on a pooled connection in autocommit; a
    transaction holds one connection until it ends. The URL may carry a password: it is
    never logged or put in an error (errors name the host and database only).
    """

    dialect = "postgresql"

    def __init__(self, url: str, create: bool = True, pool_size: int = 8) -> None:
        try:
            import psycopg
            from psycopg_pool import ConnectionPool
        except ImportError:  # pragma: no cover - a dependency of the package
            raise DatabaseUnusable(url, "psycopg is not installed") from None
        self.path = _without_password(url)
        try:  # one plain connection first: its error says why (the pool's only "timed out")
            psycopg.connect(url, connect_timeout=10).close()
        except psycopg.Error as exc:
            raise DatabaseUnusable(self.path, _postgres_reason(exc)) from None
        self.pool = ConnectionPool(
            url,
            min_size=1,
            max_size=pool_size,
            kwargs={"autocommit": True},
            open=False,
            name="antifraud",
        )
        try:
            self.pool.open(wait=True, timeout=15)
            self._migrate()
        except Exception as exc:
            self.pool.close()
            raise DatabaseUnusable(self.path, _postgres_reason(exc)) from None

    def _migrate(self) -> None:
        """Apply what is missing in one transaction holding an advisory lock: a replica
        starting meanwhile waits at the lock, then finds nothing left to do."""
        with self.transaction() as db:
            db.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))
            self._apply_missing(db, time_type="DOUBLE PRECISION")

    def execute(self, sql: str, params: Sequence[object] = ()) -> _Rows:
        with self.pool.connection() as connection, connection.cursor() as cursor:
            return _run(cursor, sql, params)

    @contextmanager
    def transaction(self) -> Iterator[_PostgresConnection]:  # type: ignore[override]
        with self.pool.connection() as connection, connection.transaction():
            yield _PostgresConnection(connection)

    @contextmanager
    def session(self) -> Iterator[_PostgresConnection]:
        """One connection kept for a while, in autocommit: session advisory locks live on it."""
        with self.pool.connection() as connection:
            yield _PostgresConnection(connection)

    @contextmanager
    def exclusive(self, key: int) -> Iterator[bool]:
        """A session advisory lock on a connection kept for the while: released when the block
        ends, or by the server when the process dies (its connection closes)."""
        with self.pool.connection() as connection:
            ours = connection.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]
            try:
                yield bool(ours)
            finally:
                if ours:
                    connection.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def now(self) -> float:
        return float(self.execute("SELECT EXTRACT(EPOCH FROM clock_timestamp())").fetchone()[0])

    def close(self) -> None:
        self.pool.close()


def _without_password(url: str) -> str:
    """The URL as it may be shown: user, host, port and database, never a password."""
    try:
        from psycopg.conninfo import conninfo_to_dict
    except ImportError:  # pragma: no cover
        return "postgresql://…"
    try:
        parts = conninfo_to_dict(url)
    except Exception:
        return "postgresql://…"
    user = f"{parts['user']}@" if parts.get("user") else ""
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{parts.get('host', '')}{port}/{parts.get('dbname', '')}"


def _postgres_reason(exc: BaseException) -> str:
    """psycopg's reason, first line, without anything that could be the password."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "password" in text.lower() and "authentication" not in text.lower():
        return "the connection was refused (check the URL's user and password)"
    return text
