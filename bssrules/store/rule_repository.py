"""Rule sets in the database: the authored document of each (id, version)."""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from bssrules import jsontext
from bssrules.store.tables import rule_set
from bssrules.services.records import StoredRuleSet, rule_set_document


class RuleSetRepository:
    def __init__(self, connection: Connection):
        self.connection = connection

    def all(self) -> list[StoredRuleSet]:
        rows = self.connection.execute(select(rule_set).order_by(rule_set.c.id, rule_set.c.version))
        return [StoredRuleSet(r.id, r.version, r.kind, r.source, r.content_hash,
                              r.last_update if r.last_update.tzinfo else r.last_update.replace(tzinfo=dt.timezone.utc),
                              jsontext.loads(r.document)) for r in rows]

    def put(self, id: str, version: int, kind: str, source: str, data: dict[str, Any], now: dt.datetime,
            exists: bool) -> None:
        text, digest = rule_set_document(data)
        values = {"kind": kind, "source": source, "content_hash": digest,
                  "last_update": now.astimezone(dt.timezone.utc), "document": text}
        if exists:
            self.connection.execute(update(rule_set).where(rule_set.c.id == id, rule_set.c.version == version)
                                    .values(**values))
        else:
            self.connection.execute(insert(rule_set).values(id=id, version=version, **values))

    def set_source(self, id: str, version: int, source: str) -> None:
        self.connection.execute(update(rule_set).where(rule_set.c.id == id, rule_set.c.version == version)
                                .values(source=source))

    def delete(self, id: str, version: int) -> None:
        self.connection.execute(delete(rule_set).where(rule_set.c.id == id, rule_set.c.version == version))
