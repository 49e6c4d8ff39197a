"""Engines and schema migrations. Nothing connects at import time."""
from __future__ import annotations

import os

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event

DEFAULT_DATABASE_URL = "sqlite:///bssrules.db"


def database_url(url: str | None = None) -> str:
    """The URL to use: the argument, else ``BSSRULES_DATABASE_URL``, else a SQLite file here."""
    url = url or os.environ.get("BSSRULES_DATABASE_URL") or DEFAULT_DATABASE_URL
    # Let users write the plain PostgreSQL URL; psycopg 3 is the driver we ship.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str | None = None, *, migrate: bool = True) -> Engine:
    """An engine for ``url`` with the schema migrated to the latest revision."""
    url = database_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        # No ping on checkout: it would be a round trip more per request (online rating counts
        # them). A connection the server dropped fails its request once, and the pool is renewed.
        # psycopg prepares a statement after it ran prepare_threshold times on a connection.
        engine = create_engine(url, pool_size=int(os.environ.get("BSSRULES_POOL_SIZE", "10")), max_overflow=10,
                               pool_recycle=3600, connect_args={"prepare_threshold": 5})
        event.listen(engine, "checkin", _transactions_on)
    if migrate:
        upgrade(engine)
    return engine


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
    """Apply the Alembic migrations up to ``revision`` (idempotent)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Undo the Alembic migrations down to ``revision``."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
