"""Unit of work on SQLAlchemy: one transaction, the repositories that share it.

Implements :class:`bssrules.services.ports.UnitOfWork`, the port every use case takes.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine

from bssrules.services.ports import Principal
from bssrules.store.charges import ChargeRepository
from bssrules.store.online import OnlineRepository
from bssrules.store.outbox import OutboxRepository
from bssrules.store.repository import CatalogRepository, RevisionSeen
from bssrules.store.resources import ResourceRepository
from bssrules.store.rule_repository import RuleSetRepository
from bssrules.store.usages import UsageRepository


class UnitOfWork:
    """``with UnitOfWork(engine) as uow: …; uow.commit()`` — anything not committed rolls back."""

    def __init__(self, engine: Engine, principal: Principal | None = None):
        self.engine = engine
        # the caller: a partner sees only its own resources (None or an admin: everything)
        self.principal = principal
        self.connection: Connection | None = None

    def __enter__(self) -> "UnitOfWork":
        self.connection = self.engine.connect()
        self.connection.begin()
        seen = RevisionSeen()  # the catalog revision, as the first reads of the transaction bring it
        self.catalog = CatalogRepository(self.connection, seen)
        self.rule_sets = RuleSetRepository(self.connection)
        scope = None if self.principal is None or self.principal.is_admin else self.principal.id
        self.resources = ResourceRepository(self.connection, scope, seen)
        self.all_resources = ResourceRepository(self.connection, None, seen)
        self.charges = ChargeRepository(self.connection)
        self.outbox = OutboxRepository(self.connection)
        self.usages = UsageRepository(self.connection, scope)
        self.online = OnlineRepository(self.connection)
        return self

    def __exit__(self, *exc: Any) -> None:
        assert self.connection is not None
        try:
            if self.connection.in_transaction():
                self.connection.rollback()
        finally:
            self.connection.close()

    def commit(self) -> None:
        assert self.connection is not None
        self.connection.commit()
