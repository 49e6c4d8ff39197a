"""The outbox: events and their deliveries, on the caller's connection.

A hub is sent its events in the order they were made: only the earliest pending delivery
of a hub (its head) may be claimed, and while it waits for a retry the hub's later
deliveries wait with it.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Sequence

from sqlalchemy import Connection, and_, delete, exists, func, insert, or_, select, update

from bssrules import jsontext
from bssrules.store.tables import delivery, event
from bssrules.services.records import Delivery


def _utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)


_earlier = delivery.alias("earlier")
# Another pending delivery to the same hub of an earlier event: the row is not its hub's head.
_behind = exists().where(_earlier.c.hub_id == delivery.c.hub_id, _earlier.c.status == "pending",
                         or_(_earlier.c.created < delivery.c.created,
                             and_(_earlier.c.created == delivery.c.created,
                                  _earlier.c.event_id < delivery.c.event_id)))


def _one(item: Delivery) -> Any:
    return and_(delivery.c.event_id == item.event_id, delivery.c.hub_id == item.hub_id)


class OutboxRepository:
    def __init__(self, connection: Connection):
        self.connection = connection

    def add(self, event_id: str, event_type: str, api: str, partner_id: str | None, created: dt.datetime,
            document: dict[str, Any], hubs: Sequence[tuple[str, str]]) -> None:
        """Store an event and one pending delivery per (hub id, callback)."""
        # After every event already stored (and visible): events keep the order they were
        # written in, within a microsecond, or across workers whose clocks disagree.
        created = _utc(created)
        latest = self.connection.execute(select(func.max(event.c.created))).scalar()
        if latest is not None and created <= _utc(latest):
            created = _utc(latest) + dt.timedelta(microseconds=1)
        self.connection.execute(insert(event).values(id=event_id, event_type=event_type, api=api,
                                                     partner_id=partner_id, created=created,
                                                     document=jsontext.dumps(document)))
        if hubs:
            self.connection.execute(insert(delivery), [
                {"event_id": event_id, "hub_id": hub_id, "callback": callback, "status": "pending", "attempts": 0,
                 "next_attempt": created, "last_error": None, "delivered": None, "created": created,
                 "queued": created} for hub_id, callback in hubs])

    def _row(self, row: Any, document: str | None = None) -> Delivery:
        return Delivery(row.event_id, row.hub_id, row.callback, row.status, row.attempts, _utc(row.next_attempt),
                        row.last_error, _utc(row.delivered) if row.delivered else None,
                        jsontext.loads(document) if document else None)

    def claim_due(self, now: dt.datetime, limit: int, lease: dt.timedelta) -> list[tuple[Delivery, dt.datetime]]:
        """The heads of their hubs due now (at most one per hub), leased to the caller: their
        next attempt moves ``lease`` ahead, so other dispatchers leave them (and the hubs'
        later deliveries) alone, and a dispatcher that dies mid-send only delays them (they
        are sent at least once). Each comes with the instant its retries count from."""
        now = _utc(now)
        query = (select(delivery, event.c.document).join(event, event.c.id == delivery.c.event_id)
                 .where(delivery.c.status == "pending", delivery.c.next_attempt <= now, ~_behind)
                 .order_by(delivery.c.next_attempt, delivery.c.created, delivery.c.event_id).limit(limit))
        if self.connection.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=delivery)
        claimed = []
        for row in self.connection.execute(query).all():
            item = self._row(row, row.document)
            # Only if still due: a concurrent pass that claimed it first has moved its next attempt.
            taken = self.connection.execute(update(delivery).where(
                _one(item), delivery.c.status == "pending", delivery.c.next_attempt <= now)
                .values(next_attempt=now + lease))
            if taken.rowcount == 1:
                claimed.append((item, _utc(row.queued)))
        return claimed

    def drop_pending(self, hub_id: str) -> None:
        """Forget what a deleted hub was still to receive."""
        self.connection.execute(delete(delivery).where(delivery.c.hub_id == hub_id, delivery.c.status == "pending"))

    def record(self, item: Delivery, status: str, attempts: int, next_attempt: dt.datetime, error: str | None,
               delivered: dt.datetime | None) -> None:
        """The outcome of an attempt (unless another pass recorded one for it since it was
        claimed). Pending again: the hub's later deliveries wait until ``next_attempt`` too."""
        next_attempt = _utc(next_attempt)
        self.connection.execute(update(delivery).where(_one(item), delivery.c.status == "pending",
                                                       delivery.c.attempts == item.attempts)
                                .values(status=status, attempts=attempts, next_attempt=next_attempt,
                                        last_error=error[:2000] if error else None,
                                        delivered=_utc(delivered) if delivered else None))
        if status == "pending":
            self.connection.execute(update(delivery).where(
                delivery.c.hub_id == item.hub_id, delivery.c.status == "pending",
                delivery.c.event_id != item.event_id, delivery.c.next_attempt < next_attempt)
                .values(next_attempt=next_attempt))

    def get(self, event_id: str, hub_id: str) -> Delivery | None:
        row = self.connection.execute(select(delivery).where(delivery.c.event_id == event_id,
                                                             delivery.c.hub_id == hub_id)).first()
        return self._row(row) if row is not None else None

    def requeue(self, hub_id: str, now: dt.datetime, *, event_id: str | None = None,
                since: dt.datetime | None = None, statuses: Sequence[str] = ("failed",)) -> list[str]:
        """Make deliveries to a hub pending again, due now, with their attempts and retention
        started afresh: one event's, or those of the events made since an instant, in one of
        ``statuses``. Returns their event ids, in the order the hub will be sent them."""
        now = _utc(now)
        chosen = and_(delivery.c.hub_id == hub_id, delivery.c.status.in_(list(statuses)))
        if event_id is not None:
            chosen = and_(chosen, delivery.c.event_id == event_id)
        if since is not None:
            chosen = and_(chosen, delivery.c.created >= _utc(since))
        ids = list(self.connection.execute(select(delivery.c.event_id).where(chosen)
                                           .order_by(delivery.c.created, delivery.c.event_id)).scalars())
        if ids:
            self.connection.execute(update(delivery).where(chosen).values(
                status="pending", attempts=0, next_attempt=now, last_error=None, delivered=None, queued=now))
        return ids

    def of_hubs(self, hub_ids: Sequence[str], status: str | None, offset: int, limit: int) -> list[Delivery]:
        if not hub_ids:
            return []
        query = select(delivery).where(delivery.c.hub_id.in_(list(hub_ids)))
        if status:
            query = query.where(delivery.c.status == status)
        query = query.order_by(delivery.c.next_attempt, delivery.c.created, delivery.c.event_id)
        return [self._row(r) for r in self.connection.execute(query.offset(offset).limit(limit))]
