"""Notifications: TMF hubs, an outbox written with the change, and delivery with retries.

A partner registers a hub on an API (``POST {api}/hub`` with a ``callback`` URL and an
optional ``query``: ``eventType=ProductOrderStateChangeEvent&event.productOrder.state=completed``).
A change that others may act on (an order's state, a ticket, an SLA violation, a threshold
reached, a bill issued) writes its event — and one delivery per matching hub — in the same
transaction as the change: no change without its event, no event without its change.

A dispatcher (a thread of every API worker, or ``bssrules deliver``) claims due deliveries
by leasing them for a minute (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers
never claim one twice), POSTs the event with no database transaction open, and records the
outcome: delivered, or retried with exponential backoff
(2, 4, 8 … seconds, at most an hour) and, after ``MAX_ATTEMPTS``, marked failed — kept
and visible, never dropped. Everything is in the database, so a restart resumes delivery.
A hub sees only the events of its partner's own data (the operator's hubs see all).
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import uuid
from typing import Any, Callable, Mapping
from urllib.parse import parse_qsl, urlsplit

from bssrules.catalog.types import format_instant
from bssrules.errors import InvalidInput, NotFound
from bssrules.services.records import StoredResource
from bssrules.services.resources import values_at
from bssrules.services.ports import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger("bssrules.services.notifications")
MAX_ATTEMPTS = 8
MAX_BACKOFF_S = 3600
LEASE = dt.timedelta(seconds=60)  # how long a claimed delivery is left to its dispatcher


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def register_hub(uow: UnitOfWork, api: str, body: dict[str, Any]) -> dict[str, Any]:
    """A TMF EventSubscription: ``callback`` (http or https URL) and an optional ``query``."""
    unknown = sorted(set(body) - {"callback", "query", "@type"})
    if unknown:
        raise InvalidInput(f"unsupported field {unknown[0]!r}: a hub takes callback and query", path=(unknown[0],))
    callback = body.get("callback")
    try:
        parts = urlsplit(callback) if isinstance(callback, str) else None
    except ValueError:  # e.g. an unclosed IPv6 bracket
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput("callback must be an http(s) URL", path=("callback",))
    query = body.get("query")
    if query is not None and not isinstance(query, str):
        raise InvalidInput("query is a string like eventType=…&event.x.y=…", path=("query",))
    now = _now().replace(microsecond=0)
    hub_id = str(uuid.uuid4())
    document = {"api": api, "callback": callback, **({"query": query} if query else {})}
    uow.resources.insert(StoredResource("hub", hub_id, 1, now, now, document))
    uow.commit()
    return {"id": hub_id, "callback": callback, **({"query": query} if query else {})}


def delete_hub(uow: UnitOfWork, api: str, hub_id: str) -> None:
    stored = uow.resources.get("hub", hub_id, for_update=True)
    if stored is None or stored.document.get("api") != api:
        raise NotFound("EventSubscription", hub_id)
    uow.resources.delete("hub", hub_id)
    uow.outbox.drop_pending(hub_id)
    uow.commit()


def _matches(query: str | None, document: Mapping[str, Any]) -> bool:
    """Whether an event matches a hub's query: every ``name=value`` (values separated by
    commas are alternatives) must hold of the event's dotted path."""
    if not query:
        return True
    for name, wanted in parse_qsl(query, keep_blank_values=True):
        alternatives = wanted.split(",")
        found = [str(v).lower() if isinstance(v, bool) else str(v) for v in values_at(document, name)]
        if not any(v in alternatives for v in found):
            return False
    return True


def publish(uow: UnitOfWork, api: str, event_type: str, name: str, resource: Mapping[str, Any],
            partner_id: str | None | list[str | None]) -> str:
    """Write an event about ``resource`` (named ``name`` in the event body) and its deliveries
    to every hub of ``api`` allowed to see it and whose query it matches; the caller commits."""
    now = _now()
    event_id = str(uuid.uuid4())
    document = {"eventId": event_id, "eventTime": format_instant(now.replace(microsecond=0)),
                "eventType": event_type, "event": {name: dict(resource)}}
    hubs = uow.all_resources.find("hub", {"api": [api]}, 100_000)  # every partner's hubs
    operators = {p.id for p in uow.all_resources.find("partner", {"role": ["admin"]}, 1000)}
    owners = set(partner_id) if isinstance(partner_id, list) else {partner_id}  # one event, however many see it
    chosen = [(h.id, h.document["callback"]) for h in hubs
              if (h.partner_id is None or h.partner_id in operators or h.partner_id in owners)
              and _matches(h.document.get("query"), document)]
    first = sorted(o for o in owners if o)[:1]
    uow.outbox.add(event_id, event_type, api, first[0] if first else None, now, document, chosen)
    return event_id


def list_deliveries(uow: UnitOfWork, status: str | None, offset: int, limit: int) -> list[dict[str, Any]]:
    """The deliveries to the caller's hubs (all hubs for the operator), oldest due first."""
    hubs = [h.id for h in uow.resources.find("hub", {}, 100_000)]
    return [{"event": d.event_id, "hub": d.hub_id, "callback": d.callback, "status": d.status,
             "attempts": d.attempts, "nextAttempt": format_instant(d.next_attempt.replace(microsecond=0)),
             **({"lastError": d.last_error} if d.last_error else {}),
             **({"delivered": format_instant(d.delivered.replace(microsecond=0))} if d.delivered else {})}
            for d in uow.outbox.of_hubs(hubs, status, offset, limit)]


def deliver_due(unit_of_work: UnitOfWorkFactory, send: Callable[[str, dict[str, Any]], None] | None = None,
                limit: int = 100, now: dt.datetime | None = None) -> int:
    """One pass: send every delivery due now; returns how many were attempted. ``send``
    raises on failure (default: an HTTP POST that wants a 2xx within 5 s)."""
    send = send or _post
    # Claim in one short transaction, send with no transaction open (a slow receiver must
    # not hold a database lock), record each outcome in its own.
    with unit_of_work() as uow:
        due = uow.outbox.claim_due(now or _now(), limit, LEASE)
        uow.commit()
    for item in due:
        attempts = item.attempts + 1
        # (status, attempts, next attempt, last error, delivered): what OutboxStore.record takes
        outcome: tuple[str, int, dt.datetime, str | None, dt.datetime | None]
        try:
            send(item.callback, item.document or {})
        except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
            final = attempts >= MAX_ATTEMPTS
            retry = (now or _now()) + dt.timedelta(seconds=min(2 ** attempts, MAX_BACKOFF_S))
            outcome = ("failed" if final else "pending", attempts, retry, f"{exc.__class__.__name__}: {exc}", None)
        else:
            outcome = ("delivered", attempts, now or _now(), None, now or _now())
        with unit_of_work() as uow:
            uow.outbox.record(item, *outcome)
            uow.commit()
    return len(due)


def _post(url: str, document: dict[str, Any]) -> None:
    import httpx

    from bssrules import jsontext

    response = httpx.post(url, content=jsontext.dumps(document), headers={"content-type": "application/json"},
                          timeout=5.0)
    if not 200 <= response.status_code < 300:
        raise RuntimeError(f"HTTP {response.status_code}")


class Dispatcher:
    """Delivers in the background of an API worker until stopped (state stays in the database)."""

    def __init__(self, unit_of_work: UnitOfWorkFactory, interval_s: float = 0.5):
        self.unit_of_work, self.interval_s = unit_of_work, interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bssrules-delivery", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                busy = deliver_due(self.unit_of_work)
            except Exception:  # noqa: BLE001 - keep delivering; the database holds the state
                log.exception("delivery pass failed")
                busy = 0
            if not busy:
                self._stop.wait(self.interval_s)
