"""The database edge: SQLAlchemy tables, repositories, unit of work, Alembic migrations."""
from bssrules.store.db import database_url, make_engine, upgrade
from bssrules.store.uow import UnitOfWork

__all__ = ["database_url", "make_engine", "upgrade", "UnitOfWork"]
