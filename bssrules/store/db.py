"""Engines and schema migrations. Nothing connects at import time."""
from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.util import CommandError
from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from bssrules.errors import BssRulesError

DEFAULT_DATABASE_URL = "sqlite:///bssrules.db"
# what an operator may write: said whenever a URL cannot be used
URL_FORMS = "sqlite:///FILE or postgresql://USER@HOST:PORT/DATABASE"
# the PostgreSQL advisory lock the migrations run under ("bssrules" in ASCII): servers and
# workers that start together migrate one after the other, not over each other
MIGRATION_LOCK = 0x6273737275_6C6573
CONNECT_TIMEOUT_SECONDS = 10


class DatabaseUnavailable(BssRulesError):
    """The database cannot be used: its URL is wrong, it cannot be reached, or its schema is
    of a bssrules this one does not know. The message is one line: what is wrong, what to do."""

    code = "databaseUnavailable"


def database_url(url: str | None = None) -> str:
    """The URL to use: the argument, else ``BSSRULES_DATABASE_URL``, else a SQLite file here."""
    url = url or os.environ.get("BSSRULES_DATABASE_URL") or DEFAULT_DATABASE_URL
    # Let users write the plain PostgreSQL URL; psycopg 3 is the driver we ship.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str | None = None, *, migrate: bool = True) -> Engine:
    """An engine for ``url`` with the schema migrated to the latest revision.

    Raises :class:`DatabaseUnavailable` when the URL (or ``BSSRULES_POOL_SIZE``) cannot be
    used or, migrating, as :func:`upgrade` does."""
    url = database_url(url)
    try:
        engine = _engine_for(url)
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:  # (ImportError: a driver not installed)
        raise DatabaseUnavailable(f"the database URL {_shown_url(url)} cannot be used ({one_line(exc)}); "
                                  f"give --database-url or BSSRULES_DATABASE_URL as {URL_FORMS}") from None
    if migrate:
        try:
            upgrade(engine)
        except BaseException:
            engine.dispose()  # (no pooled connection left behind by a start that failed)
            raise
    return engine


def _engine_for(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        # No ping on checkout: it would be a round trip more per request (online rating counts
        # them). A connection the server dropped fails its request once, and the pool is renewed.
        # psycopg prepares a statement after it ran prepare_threshold times on a connection.
        engine = create_engine(url, pool_size=pool_size(), max_overflow=10,
                               pool_recycle=3600, connect_args={"prepare_threshold": 5, **_connect_timeout(url)})
        event.listen(engine, "checkin", _transactions_on)
    return engine


def _connect_timeout(url: str) -> dict[str, int]:
    """How long a connection may take to open, unless the URL says (``?connect_timeout=``):
    a server that accepts and never answers (a wedged host, a firewall that swallows the
    packets) otherwise held a command or a worker's start for ever."""
    return {} if "connect_timeout" in make_url(url).query else {"connect_timeout": CONNECT_TIMEOUT_SECONDS}


def pool_size() -> int:
    """The connections each process keeps open to PostgreSQL (``BSSRULES_POOL_SIZE``, default 10)."""
    raw = os.environ.get("BSSRULES_POOL_SIZE", "10").strip()
    if not raw.isdigit() or int(raw) < 1:
        raise DatabaseUnavailable(f"BSSRULES_POOL_SIZE must be a whole number of connections, 1 or more "
                                  f"(default 10); got {raw!r}")
    return int(raw)


def _shown_url(url: str | URL) -> str:
    """The URL as a message may show it: without its password."""
    try:
        return repr(make_url(url).render_as_string(hide_password=True))
    except ArgumentError:  # (not a URL at all: nothing in it can be told from a password)
        return repr(url) if "@" not in url else "(not shown: it holds an '@')"


def one_line(exc: BaseException) -> str:
    """What an error of the driver says, on one line: no SQL (PostgreSQL's ``LINE 2: …`` and
    its caret), no parameters, no link to SQLAlchemy's background pages (for the operator)."""
    said = str(getattr(exc, "orig", None) or exc).splitlines()
    return "; ".join(line.strip() for line in said
                     if line.strip() and line.strip() != "^" and not line.startswith("LINE ")
                     and "sqlalche.me" not in line)


def unanswered(engine: Engine) -> str | None:
    """What the database said (:func:`one_line`) when it does not answer a trivial query through
    ``engine``, else None: the readiness probe's check."""
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - whatever the driver or the pool raised: not answering
        return one_line(exc)[:300] or type(exc).__name__
    return None


def _transactions_on(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    """A connection goes back to the pool sending its BEGIN itself again: online rating sends
    its own BEGIN with its first call (:mod:`bssrules.store.online`), and ends the transaction
    it began with its COMMIT, or the pool's reset with a ROLLBACK."""
    if dbapi_connection is not None and getattr(dbapi_connection, "autocommit", False):
        dbapi_connection.rollback()  # nothing is open any more (the pool's reset rolled back): a no-op
        dbapi_connection.autocommit = False


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")  # the attribute index cascades on delete
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    from bssrules.store.hot_rows import register_sqlite_functions

    register_sqlite_functions(dbapi_connection)  # the document filters of the hot tables' lists


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", "bssrules.store:migrations")
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the Alembic migrations up to ``revision`` (idempotent), one process at a time (an
    advisory lock on PostgreSQL, the write lock on SQLite): the workers of a server, or
    commands, starting together on a new database all migrate it, and without the lock they
    created the same tables at once and all but one failed. Raises :class:`DatabaseUnavailable`
    when the database cannot be reached, refuses a migration, or was migrated by a newer
    bssrules."""
    config = alembic_config()
    try:
        connection = engine.connect()
    except DBAPIError as exc:
        raise DatabaseUnavailable(_unreachable(engine, exc)) from None
    try:
        with connection, connection.begin():
            _lock_migrations(connection)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except DBAPIError as exc:  # the database refused a migration (rolled back with its transaction)
        raise DatabaseUnavailable(f"the database {_shown_url(engine.url)} could not be migrated ({one_line(exc)}); "
                                  f"nothing of the migration was kept: give bssrules a database of its own (not "
                                  f"one with another application's tables), whose user may create tables") from None
    except CommandError as exc:  # a revision this bssrules does not have: a newer one migrated it
        raise DatabaseUnavailable(f"the database {_shown_url(engine.url)} "
                                  f"has a schema this bssrules does not know ({one_line(exc)}): it was "
                                  f"migrated by a newer bssrules; run that version, or give another "
                                  f"database") from None


def _lock_migrations(connection: Connection) -> None:
    """One migration at a time on a database, whoever runs it; the lock is released with the
    transaction, and the next finds the schema migrated."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    elif connection.dialect.name == "sqlite":  # the write lock, taken now (others wait: the busy timeout)
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _unreachable(engine: Engine, exc: DBAPIError) -> str:
    shown = _shown_url(engine.url)
    if engine.url.get_backend_name() == "sqlite":
        folder = Path(engine.url.database or ".").parent
        if not folder.is_dir():
            return (f"cannot open the SQLite database {shown}: the folder {str(folder)!r} does not exist; "
                    f"create it, or give another --database-url or BSSRULES_DATABASE_URL")
        return (f"cannot open the SQLite database {shown} ({one_line(exc)}); check that the file and its "
                f"folder may be read and written, or give another --database-url or BSSRULES_DATABASE_URL")
    return (f"cannot reach the database {shown} ({one_line(exc)}); check that the server runs and accepts "
            f"connections, and the URL (--database-url or BSSRULES_DATABASE_URL: {URL_FORMS})")


def downgrade(engine: Engine, revision: str) -> None:
    """Undo the Alembic migrations down to ``revision``."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
