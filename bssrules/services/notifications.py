"""Notifications: TMF hubs, an outbox written with the change, and delivery with retries.

A partner registers a hub on an API (``POST {api}/hub`` with a ``callback`` URL and an
optional ``query``: ``eventType=ProductOrderStateChangeEvent&event.productOrder.state=completed``);
a query naming what the API's events do not hold (it could never match) is refused, with a
suggestion. A change that others may act on (an order's state, a ticket, an SLA violation, a
threshold reached, a bill issued) writes its event — and one delivery per matching hub — in
the same transaction as the change: no change without its event, no event without its change.

A dispatcher (a thread of every API worker, or ``bssrules deliver``) claims due deliveries
by leasing them for a minute (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several workers
never claim one twice), POSTs the event with no database transaction open, and records the
outcome. A hub is sent its events in the order they were made: while one waits for a retry,
the hub's later events wait behind it. A failed attempt is retried after 2, 4, 8 … seconds,
at most ``max_backoff`` apart (5 minutes: a receiver back from a long outage hears from us
within minutes), for the ``retention`` (72 hours) since the event was made or redelivered;
then the delivery is ``failed`` — kept, listed, and redelivered on request (one event, or
those of a hub since an instant). Everything is in the database, so a restart resumes delivery.
A hub sees only the events of its partner's own data, while its bundle subscribes to the API
(the operator's hubs see all).
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Callable, Collection, Mapping
from urllib.parse import parse_qsl, urlsplit

from bssrules.catalog.types import format_instant, parse_instant
from bssrules.errors import Conflict, InvalidInput, NotFound, UnknownReference, did_you_mean
from bssrules.services.records import Delivery, StoredResource
from bssrules.services.resources import values_at
from bssrules.services.ports import UnitOfWork, UnitOfWorkFactory

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("bssrules.services.notifications")
LEASE = dt.timedelta(seconds=60)  # how long a claimed delivery is left to its dispatcher
SEND_TIMEOUT_S = 5.0  # how long a receiver has to answer (the partner guide says 5 seconds)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> dt.timedelta:
    """``90s``, ``15m``, ``72h``, ``3d`` or a number of seconds."""
    match = _DURATION.match(text)
    try:
        if match:
            return dt.timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])
    except OverflowError:
        pass
    raise ValueError(f"'{text}' is not a duration such as 90s, 15m, 72h or 3d")


@dataclass(frozen=True)
class RetryPolicy:
    """How a failing delivery is retried: after 2, 4, 8 … seconds, never more than
    ``max_backoff`` apart, until ``retention`` has passed since it was queued (its event
    made, or its redelivery asked); an attempt at the end of the retention is the last."""

    retention: dt.timedelta = dt.timedelta(hours=72)
    max_backoff: dt.timedelta = dt.timedelta(minutes=5)

    def __post_init__(self) -> None:
        year = dt.timedelta(days=366)
        if not dt.timedelta(0) < self.retention <= year or not dt.timedelta(seconds=1) <= self.max_backoff <= year:
            raise ValueError("the retention is more than nothing and the longest backoff at least a second, "
                             "both a year at most")

    @classmethod
    def from_env(cls, retention: str | None = None, max_backoff: str | None = None) -> "RetryPolicy":
        """The policy of ``BSSRULES_DELIVERY_RETENTION`` and ``BSSRULES_DELIVERY_MAX_BACKOFF``
        (durations such as ``72h`` or ``5m``), unless given here; the defaults otherwise."""
        retention = retention or os.environ.get("BSSRULES_DELIVERY_RETENTION")
        max_backoff = max_backoff or os.environ.get("BSSRULES_DELIVERY_MAX_BACKOFF")
        default = cls()
        return cls(parse_duration(retention) if retention else default.retention,
                   parse_duration(max_backoff) if max_backoff else default.max_backoff)

    def next_attempt(self, attempts: int, failed_at: dt.datetime, queued: dt.datetime) -> dt.datetime | None:
        """When to try again after ``attempts`` failed ones; None: give up (retention over)."""
        give_up = queued + self.retention
        if failed_at >= give_up:
            return None
        backoff = min(dt.timedelta(seconds=2 ** min(attempts, 40)), self.max_backoff)
        return failed_at + min(backoff, give_up - failed_at)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class EventShape:
    """What the events of one API hold, so that a hub query naming anything else (it could
    never match) is refused: the event types, and ``attributes(path)``, the names that may
    follow a dotted path of the event (``()``: eventId, eventType, event …; None: anything)."""

    event_types: frozenset[str]
    attributes: Callable[[tuple[str, ...]], Collection[str] | None]


def check_query(api: str, query: str, shape: EventShape) -> None:
    """Refuse (400) a query naming an attribute, or an event type, that the events of ``api``
    do not have, suggesting the closest that they have."""
    for name, wanted in parse_qsl(query, keep_blank_values=True):
        path = tuple(name.split("."))
        for depth, part in enumerate(path):
            known = shape.attributes(path[:depth])
            if known is None:  # a free-form value: anything may be below
                break
            if part not in known:
                close = did_you_mean(part, known)
                raise InvalidInput(f"query: '{name}' is not an attribute of the events of {api}", path=("query",),
                                   suggestion=".".join((*path[:depth], close)) if close else None)
        _refuse_an_object(api, name, shape.attributes(path))
        for value in wanted.split(",") if name == "eventType" else ():
            if value not in shape.event_types:
                raise InvalidInput(f"query: {api} sends no event of type '{value}'", path=("query",),
                                   suggestion=did_you_mean(value, shape.event_types))


def _refuse_an_object(api: str, name: str, below: Collection[str] | None) -> None:
    """A name with attributes below it is an object (or a list of them): no value in a query
    is ever equal to one, so the hub would never be sent anything."""
    if below:
        example = "id" if "id" in below else sorted(below)[0]
        raise InvalidInput(f"query: '{name}' is an object in the events of {api}, which no value matches: "
                           f"name one of its attributes, e.g. '{name}.{example}'", path=("query",))


def _check_callback(callback: Any) -> None:
    """Refuse (400) a callback no delivery could ever reach: not an http(s) URL, no host, a
    port that is none, or spaces and control characters (which ``urlsplit`` silently drops
    or keeps, and no HTTP client sends) — it would be retried for the retention, then failed."""
    problem = "callback must be an http(s) URL"
    try:
        parts = urlsplit(callback) if isinstance(callback, str) else None
        port = parts.port if parts is not None else None  # out of range or not a number: ValueError
    except ValueError:  # e.g. an unclosed IPv6 bracket, port 99999 or 'abc'
        raise InvalidInput(f"{problem}: its host and port are not those of a URL, e.g. https://example.com:8443/events",
                           path=("callback",)) from None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise InvalidInput(problem, path=("callback",))
    if not parts.hostname or port == 0:
        raise InvalidInput(f"{problem}: it names no host (or port 0), e.g. https://example.com/events", path=("callback",))
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in callback):
        raise InvalidInput(f"{problem}: it holds a space or a control character (encode a space in a path as %20)",
                           path=("callback",))


def register_hub(uow: UnitOfWork, api: str, body: dict[str, Any], shape: EventShape | None = None) -> dict[str, Any]:
    """A TMF EventSubscription: ``callback`` (http or https URL) and an optional ``query``,
    checked against ``shape`` when given."""
    unknown = sorted(set(body) - {"callback", "query", "@type"})
    if unknown:
        raise InvalidInput(f"unsupported field {unknown[0]!r}: a hub takes callback and query", path=(unknown[0],))
    callback = body.get("callback")
    _check_callback(callback)
    query = body.get("query")
    if query is not None and not isinstance(query, str):
        raise InvalidInput("query is a string like eventType=…&event.x.y=…", path=("query",))
    if query and shape is not None:
        check_query(api, query, shape)
    now = _now().replace(microsecond=0)
    hub_id = str(uuid.uuid4())
    document = {"api": api, "callback": callback, **({"query": query} if query else {})}
    uow.resources.insert(StoredResource("hub", hub_id, 1, now, now, document))
    _refuse_a_second(uow, hub_id, document)
    uow.commit()
    return {"id": hub_id, "callback": callback, **({"query": query} if query else {})}


def _refuse_a_second(uow: UnitOfWork, hub_id: str, document: Mapping[str, Any]) -> None:
    """409 if the partner of the hub just inserted (uncommitted) already has one with the same
    callback and query on the API: it would be sent every event twice — and a POST retried
    after a lost answer must not subscribe twice, but learn the id of its hub."""
    owner = uow.resources.get("hub", hub_id)
    partner = owner.partner_id if owner is not None else None
    for other in uow.resources.find("hub", {"api": [document["api"]]}, 100_000):
        if other.id != hub_id and other.partner_id == partner and other.document.get("callback") == \
                document["callback"] and other.document.get("query") == document.get("query"):
            raise Conflict(f"hub '{other.id}' already sends the events of {document['api']} to this callback "
                           f"with this query: one hub is enough (DELETE it first to subscribe again)")


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
        found = values_at(document, name)
        if name == "fieldPath":  # the attributes a change is about, comma-separated: one named is enough
            found = [attribute for value in found for attribute in str(value).split(",")]
        if not any(_equal(value, alternative) for value in found for alternative in alternatives):
            return False
    return True


def _equal(value: Any, wanted: str) -> bool:
    """Whether a value of an event is the text of a query: a number by its value (an amount of
    152.50 is 152.5, a volume of 10.0 is 10), a boolean as true or false, the rest as text."""
    if isinstance(value, bool):
        return str(value).lower() == wanted
    if isinstance(value, (int, float, Decimal)):
        try:
            return Decimal(str(value)) == Decimal(wanted.strip())
        except (InvalidOperation, ValueError):
            return False
    return str(value) == wanted


def _subscribers(uow: UnitOfWork, api: str, partners: set[str]) -> tuple[set[str], set[str]]:
    """Among ``partners`` (those owning a hub of ``api``), the operators (whose hubs are sent
    everything), and those whose bundle holds ``subscribe`` on ``api`` now: a hub needs it to
    be registered, and it must still hold when the event is made — a partner whose bundle no
    longer has it (or no longer has the API at all) is not sent the data it may no longer
    read. Only the hubs' owners are read (an event is published on every usage that reaches a
    threshold, every order, bill and ticket: not a read of every partner each time)."""
    operators, subscribers = set(), set()
    for partner in (uow.all_resources.get("partner", p) for p in sorted(partners)):
        if partner is None:
            continue
        if partner.document.get("role") == "admin":
            operators.add(partner.id)
        elif any(entry.get("name") == api and "subscribe" in (entry.get("operations") or ())
                 for entry in (partner.document.get("apiBundle") or {}).get("api") or ()):
            subscribers.add(partner.id)
    return operators, subscribers


def publish(uow: UnitOfWork, api: str, event_type: str, name: str, resource: Mapping[str, Any],
            partner_id: str | None | list[str | None], field_path: str | None = None) -> str:
    """Write an event about ``resource`` (named ``name`` in the event body) and its deliveries
    to every hub of ``api`` allowed to see it and whose query it matches; the caller commits.
    ``field_path``: the attributes a change event is about (TMF's ``fieldPath``)."""
    now = _now()
    event_id = str(uuid.uuid4())
    document: dict[str, Any] = {"eventId": event_id, "eventTime": format_instant(now.replace(microsecond=0)),
                                "eventType": event_type}
    if field_path:
        document["fieldPath"] = field_path
    document["event"] = {name: dict(resource)}
    hubs = uow.all_resources.find("hub", {"api": [api]}, 100_000)  # every partner's hubs
    operators, subscribers = _subscribers(uow, api, {h.partner_id for h in hubs if h.partner_id is not None})
    owners = set(partner_id) if isinstance(partner_id, list) else {partner_id}  # one event, however many see it
    chosen = [(h.id, h.document["callback"]) for h in hubs
              if (h.partner_id is None or h.partner_id in operators
                  or (h.partner_id in owners and h.partner_id in subscribers))
              and _matches(h.document.get("query"), document)]
    first = sorted(o for o in owners if o)[:1]
    uow.outbox.add(event_id, event_type, api, first[0] if first else None, now, document, chosen)
    return event_id


def _delivery(d: Delivery) -> dict[str, Any]:
    return {"event": d.event_id, "hub": d.hub_id, "callback": d.callback, "status": d.status,
            "attempts": d.attempts, "nextAttempt": format_instant(d.next_attempt.replace(microsecond=0)),
            **({"lastError": d.last_error} if d.last_error else {}),
            **({"delivered": format_instant(d.delivered.replace(microsecond=0))} if d.delivered else {})}


def list_deliveries(uow: UnitOfWork, status: str | None, offset: int, limit: int,
                    hub: str | None = None) -> list[dict[str, Any]]:
    """The deliveries to the caller's hubs (all hubs for the operator), or to one of them,
    oldest due first."""
    hubs = [h.id for h in uow.resources.find("hub", {}, 100_000) if hub is None or h.id == hub]
    return [_delivery(d) for d in uow.outbox.of_hubs(hubs, status, offset, limit)]


def redeliver(uow: UnitOfWork, hub_id: str, request: Mapping[str, Any], api: str | None = None) -> dict[str, Any]:
    """Send again, from now on and with a fresh retention, what a hub of the caller's (of
    ``api`` when given) was sent: ``{"event": id}`` that event, failed or delivered;
    ``{"since": instant}`` every failed delivery of the events made since then; ``{}`` every
    failed delivery. They go in the order their events were made, before the hub's later ones."""
    unknown = sorted(set(request) - {"event", "since", "@type"})
    if unknown:
        raise InvalidInput(f"unsupported field {unknown[0]!r}: a redelivery takes event or since",
                           path=(unknown[0],), suggestion=did_you_mean(unknown[0], ("event", "since")))
    event_id, since = request.get("event"), request.get("since")
    if event_id is not None and since is not None:
        raise InvalidInput("name one event, or the instant since when to redeliver, not both", path=("since",))
    if event_id is not None and (not isinstance(event_id, str) or not event_id):
        raise InvalidInput("event is the id of an event", path=("event",))
    instant: dt.datetime | None = None
    if since is not None:
        try:
            parsed = parse_instant(since) if isinstance(since, str) else None
        except ValueError as exc:
            raise InvalidInput(f"since: {exc}", path=("since",)) from None
        if not isinstance(parsed, dt.datetime):
            raise InvalidInput("since is a date-time, e.g. 2026-11-30T08:00:00Z", path=("since",))
        instant = parsed
    hub = uow.resources.get("hub", hub_id, for_update=True)  # the caller's own hub (any, for the operator)
    if hub is None or (api is not None and hub.document.get("api") != api):
        raise NotFound("EventSubscription", hub_id)
    now = _now()
    if event_id is not None:
        current = uow.outbox.get(event_id, hub_id)
        if current is None:
            raise UnknownReference(f"event '{event_id}' was never to be sent to hub '{hub_id}'")
        if current.status == "pending":
            raise Conflict(f"event '{event_id}' is still pending for hub '{hub_id}': it will be sent "
                           f"(its nextAttempt is in the delivery log)")
        events = uow.outbox.requeue(hub_id, now, event_id=event_id, statuses=("failed", "delivered"))
    else:
        events = uow.outbox.requeue(hub_id, now, since=instant)
    uow.commit()
    log.info("hub %s: %d deliveries queued again", hub_id, len(events))
    return {"hub": hub_id, "redelivered": len(events), "event": events}


def _attempt(send: Callable[[str, dict[str, Any]], None], item: Delivery, queued: dt.datetime,
             moment: Callable[[], dt.datetime], policy: RetryPolicy
             ) -> tuple[str, int, dt.datetime, str | None, dt.datetime | None]:
    """Send one delivery; what ``OutboxStore.record`` takes: (status, attempts, next attempt,
    last error, delivered)."""
    attempts = item.attempts + 1
    try:
        send(item.callback, item.document or {})
    except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
        failed_at = moment()
        retry = policy.next_attempt(attempts, failed_at, queued)
        error = f"{exc.__class__.__name__}: {exc}"
        if retry is None:
            log.warning("event %s to hub %s given up after %d attempts: %s", item.event_id, item.hub_id, attempts,
                        error)
        return ("failed" if retry is None else "pending", attempts, retry or failed_at, error, None)
    done = moment()
    return ("delivered", attempts, done, None, done)


def deliver_due(unit_of_work: UnitOfWorkFactory, send: Callable[[str, dict[str, Any]], None] | None = None,
                limit: int = 100, now: dt.datetime | None = None, policy: RetryPolicy | None = None) -> int:
    """One pass: send what is due now, up to ``limit`` attempts; returns how many were made.
    A hub's next event is sent in the same pass once its earlier one is delivered. ``send``
    raises on failure (default: an HTTP POST that wants a 2xx within 5 s); ``now`` fixes
    the clock (tests); ``policy`` defaults to :meth:`RetryPolicy.from_env`."""
    send = send or _post
    policy = policy or RetryPolicy.from_env()

    def moment() -> dt.datetime:
        return now or _now()

    attempted = 0
    while attempted < limit:
        # Claim in one short transaction, send with no transaction open (a slow receiver must
        # not hold a database lock), record each outcome in its own.
        claimed_at, claimed = time.monotonic(), moment()  # (before the claim: its lease ends no sooner)
        with unit_of_work() as uow:
            due = uow.outbox.claim_due(claimed, limit - attempted, LEASE)
            uow.commit()
        if not due:
            break
        for index, (item, queued) in enumerate(due):
            if index and _lease_runs_out(claimed_at):
                _release(unit_of_work, [later for later, _ in due[index:]], claimed + LEASE)
                break
            outcome = _attempt(send, item, queued, moment, policy)
            with unit_of_work() as uow:
                uow.outbox.record(item, *outcome)
                uow.commit()
            attempted += 1
    return attempted


def _lease_runs_out(claimed_at: float) -> bool:
    """Whether a send begun now could outlast the lease of a batch claimed at ``claimed_at``
    (``time.monotonic``): a slow receiver, or many that time out, must not keep the rest of
    the batch past its lease — another dispatcher would claim and send those too, and, the
    hub's head delivered, its later events, before this one sends the stale copies."""
    return time.monotonic() - claimed_at + SEND_TIMEOUT_S >= LEASE.total_seconds()


def _release(unit_of_work: UnitOfWorkFactory, items: list[Delivery], leased_until: dt.datetime) -> None:
    """Give back claimed deliveries not attempted, due again as they were (not one attempt
    more) — those still leased to this pass only: one whose lease ran out (a send that took
    longer than it should) may have been claimed by another dispatcher since, and is its own."""
    if leased_until.tzinfo is None:  # (a naive instant is UTC, as the outbox takes it)
        leased_until = leased_until.replace(tzinfo=dt.timezone.utc)
    with unit_of_work() as uow:
        for item in items:
            current = uow.outbox.get(item.event_id, item.hub_id)
            if current is not None and current.status == "pending" and current.attempts == item.attempts \
                    and current.next_attempt == leased_until.astimezone(dt.timezone.utc):
                uow.outbox.record(item, "pending", item.attempts, item.next_attempt, item.last_error, None)
        uow.commit()


@lru_cache(maxsize=1)
def _client() -> "httpx.Client":
    """One HTTP client for every delivery (its TLS context is costly to build: ~30 ms)."""
    import httpx

    return httpx.Client(timeout=SEND_TIMEOUT_S)


def _post(url: str, document: dict[str, Any]) -> None:
    from bssrules import jsontext

    response = _client().post(url, content=jsontext.dumps(document), headers={"content-type": "application/json"})
    if not 200 <= response.status_code < 300:
        raise RuntimeError(f"HTTP {response.status_code}")


class Dispatcher:
    """Delivers in the background of an API worker until stopped (state stays in the database)."""

    def __init__(self, unit_of_work: UnitOfWorkFactory, interval_s: float = 0.5, policy: RetryPolicy | None = None):
        self.unit_of_work, self.interval_s = unit_of_work, interval_s
        self.policy = policy or RetryPolicy.from_env()  # a bad setting stops the worker at start
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
                busy = deliver_due(self.unit_of_work, policy=self.policy)
            except Exception:  # noqa: BLE001 - keep delivering; the database holds the state
                log.exception("delivery pass failed")
                busy = 0
            if not busy:
                self._stop.wait(self.interval_s)
