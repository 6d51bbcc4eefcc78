"""Opening a database: a URL or a file path in, an SQLAlchemy engine out, failures as one line.

SQLite needs nothing running (a path or ``sqlite:///figures.db``); PostgreSQL goes
through psycopg 3 (``postgresql://user@host/db``).  An unreachable or locked
database is a :class:`FileError` (exit status 2) naming the URL without its
password.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import FileError, UsageError

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine

INSTALL_HINT = "the database commands need SQLAlchemy and psycopg; install them with: pip install 'xlreport[db]'"
PG_LOCK_TIMEOUT = "5s"  # an import waits this long for another import before giving up


def _sqlalchemy() -> Any:
    try:
        import sqlalchemy
    except ImportError:
        raise UsageError(INSTALL_HINT) from None
    return sqlalchemy


class Database:
    """One database: its engine, and the URL to show in messages (password hidden)."""

    def __init__(self, url: str | Path, *, create: bool = False) -> None:
        sa = _sqlalchemy()
        text = str(url)
        if "://" not in text:
            text = "sqlite:///" + text
        try:
            parsed = sa.engine.make_url(text)
        except sa.exc.ArgumentError:
            raise UsageError(f"{str(url)!r} is not a database URL; use a file path, sqlite:///FILE or postgresql://USER@HOST/DB") from None
        if parsed.drivername in ("postgresql", "postgres"):
            parsed = parsed.set(drivername="postgresql+psycopg")
        self.shown = parsed.render_as_string(hide_password=True)
        self.dialect = parsed.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise UsageError(f"{self.shown}: unsupported database {self.dialect!r}; use SQLite (a file path) or postgresql://...")
        connect_args: dict[str, Any] = {}
        if self.dialect == "sqlite":
            database = parsed.database or ""
            if not database or database == ":memory:":
                raise UsageError(f"{self.shown}: give SQLite a file, e.g. sqlite:///figures.db")
            if not create and not Path(database).is_file():
                raise FileError("no such database file; create it with `xlreport db init URL -t TEMPLATE` or `xlreport db load URL DATA`", file=self.shown)
        else:
            connect_args["connect_timeout"] = 10
            if parsed.drivername == "postgresql+psycopg":
                try:
                    import psycopg  # noqa: F401
                except ImportError:
                    raise UsageError(INSTALL_HINT) from None
        self.engine: Engine = sa.create_engine(parsed, connect_args=connect_args, poolclass=sa.pool.NullPool)
        if self.dialect == "sqlite":
            _explicit_sqlite_transactions(self.engine)

    @contextlib.contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back on any error or kill."""
        with self.errors(), self.engine.begin() as conn:
            if self.dialect == "postgresql":
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{PG_LOCK_TIMEOUT}'")
            yield conn

    @contextlib.contextmanager
    def errors(self) -> Iterator[None]:
        """Database failures as one line with exit status 2."""
        sa = _sqlalchemy()
        try:
            yield
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(getattr(exc, "orig", exc)).strip() else type(exc).__name__
            if "locked" in reason or "lock timeout" in reason:
                raise FileError(f"the database is locked by another process ({reason}); try again when it is free", file=self.shown) from None
            raise FileError(f"cannot use the database ({reason}); check that it is running and the URL is right", file=self.shown) from None

    def dispose(self) -> None:
        self.engine.dispose()


def _explicit_sqlite_transactions(engine: Engine) -> None:
    """pysqlite starts transactions lazily; take the write lock at BEGIN so two imports never interleave."""
    from sqlalchemy import event

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
