"""The outbox: events and their deliveries, on the caller's connection."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Sequence

from sqlalchemy import Connection, and_, insert, select, update

from bssrules import jsontext
from bssrules.store.tables import delivery, event
from bssrules.services.records import Delivery


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


class OutboxRepository:
    def __init__(self, connection: Connection):
        self.connection = connection

    def add(self, event_id: str, event_type: str, api: str, partner_id: str | None, created: dt.datetime,
            document: dict[str, Any], hubs: Sequence[tuple[str, str]]) -> None:
        """Store an event and one pending delivery per (hub id, callback)."""
        self.connection.execute(insert(event).values(id=event_id, event_type=event_type, api=api,
                                                     partner_id=partner_id, created=_utc(created),
                                                     document=jsontext.dumps(document)))
        if hubs:
            self.connection.execute(insert(delivery), [
                {"event_id": event_id, "hub_id": hub_id, "callback": callback, "status": "pending", "attempts": 0,
                 "next_attempt": _utc(created), "last_error": None, "delivered": None} for hub_id, callback in hubs])

    def _row(self, row: Any, document: str | None = None) -> Delivery:
        return Delivery(row.event_id, row.hub_id, row.callback, row.status, row.attempts, _utc(row.next_attempt),
                        row.last_error, _utc(row.delivered) if row.delivered else None,
                        jsontext.loads(document) if document else None)

    def claim_due(self, now: dt.datetime, limit: int, lease: dt.timedelta) -> list[Delivery]:
        """Pending deliveries due now, leased to the caller: their next attempt moves ``lease``
        ahead, so other dispatchers leave them alone once this transaction commits, and a
        dispatcher that dies mid-send only delays them (they are sent at least once)."""
        query = (select(delivery, event.c.document).join(event, event.c.id == delivery.c.event_id)
                 .where(delivery.c.status == "pending", delivery.c.next_attempt <= _utc(now))
                 .order_by(delivery.c.next_attempt, delivery.c.event_id).limit(limit))
        if self.connection.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=delivery)
        claimed = [self._row(r, r.document) for r in self.connection.execute(query)]
        for item in claimed:
            self.connection.execute(update(delivery).where(and_(delivery.c.event_id == item.event_id,
                                                                delivery.c.hub_id == item.hub_id))
                                    .values(next_attempt=_utc(now + lease)))
        return claimed

    def drop_pending(self, hub_id: str) -> None:
        """Forget what a deleted hub was still to receive."""
        from sqlalchemy import delete as remove

        self.connection.execute(remove(delivery).where(delivery.c.hub_id == hub_id, delivery.c.status == "pending"))

    def record(self, item: Delivery, status: str, attempts: int, next_attempt: dt.datetime, error: str | None,
               delivered: dt.datetime | None) -> None:
        self.connection.execute(update(delivery).where(and_(delivery.c.event_id == item.event_id,
                                                            delivery.c.hub_id == item.hub_id))
                                .values(status=status, attempts=attempts, next_attempt=_utc(next_attempt),
                                        last_error=error[:2000] if error else None,
                                        delivered=_utc(delivered) if delivered else None))

    def of_hubs(self, hub_ids: Sequence[str], status: str | None, offset: int, limit: int) -> list[Delivery]:
        if not hub_ids:
            return []
        query = select(delivery).where(delivery.c.hub_id.in_(list(hub_ids)))
        if status:
            query = query.where(delivery.c.status == status)
        query = query.order_by(delivery.c.next_attempt, delivery.c.event_id).offset(offset).limit(limit)
        return [self._row(r) for r in self.connection.execute(query)]
