"""TMF notifications end to end, on both tiers: hubs registered over HTTP (authentication on),
events written with the changes (an order's creation and state changes, a roaming budget
threshold of examples/roaming, a bill run), and delivered by ``deliver_due`` to a REAL HTTP
receiver listening on loopback.

* Each event reaches each hub allowed to see it exactly once, in the TMF shape (eventId,
  eventTime, eventType, event.<resource>); a hub's ``query`` filters; a partner's hub never
  gets another partner's events; the operator's hubs get everyone's. A query naming what
  the events do not hold is refused with a suggestion; everything an event holds may be named.
* A receiver answering 500: the delivery stays pending with its attempts and lastError, the
  next attempt is backed off (2, 4, 8 … s, at most 5 minutes apart), it is delivered once the
  receiver recovers; once the retention has passed it is ``failed``, kept, listed by
  ``GET …/delivery?status=failed``, and redelivered on request (API and CLI). A hub is sent
  its events in order: a later one waits while an earlier one is retried. A receiver down
  for a whole (simulated) day gets every event once, in order, minutes after it is back.
  Time is driven with the ``now`` argument (and the clock of the events, patched).
* A restart (a new engine and app on the same database) resumes pending deliveries; the
  Dispatcher thread delivers on its own; DELETE of a hub stops its deliveries; a bad
  callback is a 400. The migration gives the deliveries already stored their order.
* On PostgreSQL, concurrent delivery passes never send one delivery twice, and keep the order.
"""
from __future__ import annotations

import datetime as dt
import json
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from alembic import command
from sqlalchemy import Engine, text
from typer.testing import CliRunner

from bssrules import cli
from bssrules.services import catalog as services
from bssrules.services import notifications
from bssrules.api import create_app
from bssrules.api.hubs import event_shape
from bssrules.services.notifications import Dispatcher, RetryPolicy, _post, check_query, deliver_due, parse_duration
from bssrules.services.partners import make_key
from bssrules.rules.project import load_project
from bssrules.store import UnitOfWork
from bssrules.store.db import alembic_config, make_engine, upgrade
from bssrules.store.tables import metadata
from tests.api.session_app import ADMIN_KEY, AppFor, keyed_app, keyed_app_on_engine

ROOT = Path(__file__).resolve().parents[2]
PM = "/tmf-api/partnerManagement/v4"
PARTNER, DELIVERY = f"{PM}/partner", f"{PM}/delivery"
PARTY, ACCOUNT = "/tmf-api/party/v4", "/tmf-api/accountManagement/v4"
INVENTORY = "/tmf-api/productInventory/v4/product"
ORDERING = "/tmf-api/productOrderingManagement/v4"
ORDER = f"{ORDERING}/productOrder"
USAGE_API = "/tmf-api/usageManagement/v4"
BILLING = "/tmf-api/customerBillManagement/v4"
HUB_BASE = {"TMF622": ORDERING, "TMF635": USAGE_API, "TMF678": BILLING}
MERGE = "application/merge-patch+json"
INSTANT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
UTC = dt.timezone.utc


# ----------------------------------------------------------------------------- the receiver


class Receiver:
    """An HTTP server on a free loopback port recording every POST (path, JSON body) as it
    arrives; each path answers 200 unless told otherwise (``fail``), at once unless slowed
    down (``delays``)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, Any]] = []
        self.statuses: dict[str, int] = {}
        self.delays: dict[str, float] = {}
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server protocol
                length = int(self.headers.get("content-length", 0))
                raw = self.rfile.read(length)
                name = self.path.lstrip("/")
                with receiver.lock:
                    receiver.received.append((name, json.loads(raw)))
                    status = receiver.statuses.get(name, 200)
                    delay = receiver.delays.get(name, 0.0)
                time.sleep(delay)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/{name}"

    def fail(self, name: str, status: int | None = 500) -> None:
        with self.lock:
            if status is None:
                self.statuses.pop(name, None)
            else:
                self.statuses[name] = status

    def bodies(self, name: str) -> list[Any]:
        with self.lock:
            return [body for path, body in self.received if path == name]

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def wait_for(self, name: str, count: int, timeout: float = 15.0) -> list[Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.bodies(name)) >= count:
                return self.bodies(name)
            time.sleep(0.02)
        raise AssertionError(f"{name}: {len(self.bodies(name))} POSTs after {timeout} s, expected {count}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


# ----------------------------------------------------------------------------- the BSS


def _load(engine: Engine, example: str) -> None:
    with UnitOfWork(engine) as uow:
        services.load_project(uow, load_project(ROOT / "examples" / example), example)


BUNDLE = [{"name": n} for n in ("TMF622", "TMF632", "TMF635", "TMF637", "TMF666", "TMF678", "partner")]


class Bss:
    """The app with authentication on: the administrator's key and two partners' keys."""

    def __init__(self, engine: Engine, admin_key: str | None = None, app: Any = None):
        """On ``app`` when given (the session's, with ``admin_key``: see tests/api/session_app.py),
        else on an app of its own."""
        self.engine = engine
        self.admin = admin_key or make_key()
        self.client = TestClient(app if app is not None else create_app(engine=engine, auth=True, admin_key=self.admin),
                                 raise_server_exceptions=False)
        self.keys: dict[str, str] = {}

    def __enter__(self) -> "Bss":
        self.client.__enter__()
        self.keys["op"] = self.admin
        return self

    def __exit__(self, *exc: Any) -> None:
        self.client.__exit__(*exc)

    def add_partners(self, *names: str) -> None:
        for name in names:
            created = self.ok("op", "POST", PARTNER, {"id": f"partner-{name}", "name": name,
                                                      "apiBundle": {"api": BUNDLE}})
            self.keys[name] = created["apiKey"]

    def call(self, who: str, method: str, path: str, body: Any = None, params: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {self.keys[who]}"}
        if method in ("POST", "PATCH"):
            headers["content-type"] = MERGE if method == "PATCH" else "application/json"
            return self.client.request(method, path, headers=headers, content=json.dumps(body), params=params)
        return self.client.request(method, path, headers=headers, params=params)

    def ok(self, who: str, method: str, path: str, body: Any = None, status: int | None = None,
           params: Any = None) -> Any:
        response = self.call(who, method, path, body, params)
        wanted = status or {"POST": 201, "DELETE": 204}.get(method, 200)
        assert response.status_code == wanted, f"{who} {method} {path} → {response.status_code}: {response.text}"
        return response.json() if response.content else None

    def hub(self, who: str, api: str, callback: str, query: str | None = None) -> str:
        body = {"callback": callback, **({"query": query} if query else {})}
        response = self.call(who, "POST", f"{HUB_BASE[api]}/hub", body)
        assert response.status_code == 201, response.text
        hub = response.json()
        assert set(hub) == {"id", "callback", *(("query",) if query else ())}
        assert (hub["callback"], hub.get("query")) == (callback, query)
        assert response.headers["location"] == f"{HUB_BASE[api]}/hub/{hub['id']}"
        return hub["id"]

    def customer(self, who: str, party: str, account: str) -> None:
        self.ok(who, "POST", f"{PARTY}/individual", {"id": party, "givenName": party, "familyName": "X"})
        self.ok(who, "POST", f"{ACCOUNT}/billingAccount", {"id": account, "name": party, "relatedParty": [
            {"id": party, "name": party, "role": "owner", "@referredType": "Individual"}]})

    def order(self, who: str, party: str) -> str:
        order = self.ok(who, "POST", ORDER, {
            "relatedParty": [{"id": party, "role": "customer", "@referredType": "Individual"}],
            "productOrderItem": [{"id": "1", "action": "add", "quantity": 1,
                                  "productOffering": {"id": "mobile-data-plan"}}]})
        assert order["state"] == "acknowledged"
        return order["id"]

    def move(self, who: str, order_id: str, *states: str) -> None:
        for state in states:  # the operator fulfils orders; their owner may cancel them
            actor = who if state == "cancelled" else "op"
            assert self.ok(actor, "PATCH", f"{ORDER}/{order_id}", {"state": state})["state"] == state

    def deliveries(self, who: str = "op", status: str | None = None) -> list[dict[str, Any]]:
        return self.ok(who, "GET", DELIVERY, params={"status": status} if status else None)


def _empty(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())


def _uow(engine: Engine) -> Callable[[], UnitOfWork]:
    return lambda: UnitOfWork(engine)


@pytest.fixture
def bss(engine: Engine, keyed_app_on_engine: Any) -> Iterator[Bss]:
    _load(engine, "roaming")
    with Bss(engine, ADMIN_KEY, keyed_app_on_engine) as app:
        app.add_partners("a", "b")
        yield app


def _instant(value: dt.datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _roaming(id: str, product: str, megabytes: int, at: dt.datetime) -> dict[str, Any]:
    return {"id": id, "usageDate": _instant(at.replace(microsecond=0)), "usageType": "data", "usageCharacteristic": [
        {"name": "productId", "value": product}, {"name": "service", "value": "data"},
        {"name": "volume", "value": megabytes}, {"name": "unit", "value": "MB"}, {"name": "roaming", "value": True}]}


def _check_shape(body: Any, event_type: str, name: str) -> dict[str, Any]:
    """A TMF event: exactly eventId, eventTime, eventType and event.<name>; returns event.<name>."""
    assert set(body) == {"eventId", "eventTime", "eventType", "event"}, body
    assert isinstance(body["eventId"], str) and body["eventId"]
    assert INSTANT.match(body["eventTime"]), body["eventTime"]
    assert body["eventType"] == event_type
    assert list(body["event"]) == [name], body["event"]
    return body["event"][name]


def _summary(bodies: list[Any]) -> list[tuple[str, ...]]:
    """What each received event tells, in the order received."""
    out = []
    for body in bodies:
        if body["eventType"] == "ProductOrderCreateEvent":
            order = _check_shape(body, "ProductOrderCreateEvent", "productOrder")
            out.append(("create", order["id"], order["state"]))
        elif body["eventType"] == "ProductOrderStateChangeEvent":
            order = _check_shape(body, "ProductOrderStateChangeEvent", "productOrder")
            out.append(("state", order["id"], order["state"]))
        elif body["eventType"] == "UsageThresholdReachedEvent":
            reached = _check_shape(body, "UsageThresholdReachedEvent", "usageThreshold")
            out.append(("threshold", reached["product"]["id"], reached["threshold"]))
        else:
            bill = _check_shape(body, "CustomerBillCreateEvent", "customerBill")
            out.append(("bill", bill["id"], bill["billingAccount"]["id"]))
    return out


def _leaf_paths(value: Any, prefix: str = "") -> Iterator[str]:
    """The dotted path of every scalar of a JSON document (lists looked into)."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaf_paths(item, f"{prefix}.{key}" if prefix else key)
    elif isinstance(value, list):
        for item in value:
            yield from _leaf_paths(item, prefix)
    else:
        yield prefix


class Clock:
    """The clock the events are made by (``notifications._now``), moved by hand."""

    def __init__(self, now: dt.datetime):
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    simulated = Clock(dt.datetime.now(UTC).replace(microsecond=0) + dt.timedelta(seconds=1))
    monkeypatch.setattr(notifications, "_now", simulated)
    return simulated


def _next_due(engine: Engine, after: dt.datetime) -> dt.datetime | None:
    from sqlalchemy import func, select

    from bssrules.store.tables import delivery

    with engine.connect() as connection:
        found = connection.execute(select(func.min(delivery.c.next_attempt)).where(
            delivery.c.status == "pending", delivery.c.next_attempt > after)).scalar()
    if found is None:
        return None
    return found.replace(tzinfo=UTC) if found.tzinfo is None else found.astimezone(UTC)


def _drive(engine: Engine, clock: Clock, policy: RetryPolicy, until: dt.datetime | None = None,
           send: Callable[[str, dict[str, Any]], None] | None = None) -> int:
    """Deliver as the dispatcher would, the clock jumping from one due instant to the next
    (nothing happens in between), up to ``until`` (None: while anything is due); returns the
    attempts made."""
    attempts = 0
    while True:
        while made := deliver_due(_uow(engine), send=send, now=clock.now, policy=policy):
            attempts += made
        following = _next_due(engine, clock.now)
        if following is None or (until is not None and following > until):
            clock.now = until or clock.now
            return attempts
        clock.now = following


# ----------------------------------------------------------------------------- routing and shape


def test_each_event_reaches_once_exactly_the_hubs_allowed_to_see_it(bss: Bss, receiver: Receiver) -> None:
    # the operator's hubs (all events), with filters; each partner's own hubs
    hubs = {
        "op-622": ("op", "TMF622", None),
        "op-622-completed": ("op", "TMF622",
                             "eventType=ProductOrderStateChangeEvent&event.productOrder.state=completed"),
        "op-622-moves": ("op", "TMF622", "event.productOrder.state=inProgress,cancelled"),
        "op-635": ("op", "TMF635", None),
        "op-635-block": ("op", "TMF635", "event.usageThreshold.action=block"),
        "op-678": ("op", "TMF678", None),
        "a-622": ("a", "TMF622", None), "a-635": ("a", "TMF635", None), "a-678": ("a", "TMF678", None),
        "b-622": ("b", "TMF622", None), "b-635": ("b", "TMF635", None), "b-678": ("b", "TMF678", None),
        "b-622-created": ("b", "TMF622", "eventType=ProductOrderCreateEvent"),
    }
    for name, (who, api, query) in hubs.items():
        bss.hub(who, api, receiver.url(name), query)

    # A: an order completed into a line, roaming on it (posted by the operator) up to the budget
    bss.customer("a", "ana", "ba-a")
    order_a = bss.order("a", "ana")
    bss.move("a", order_a, "inProgress", "completed")
    [line_a] = [p["id"] for p in bss.ok("a", "GET", INVENTORY)]
    start = dt.datetime.fromisoformat(bss.ok("a", "GET", f"{INVENTORY}/{line_a}")["startDate"].replace("Z", "+00:00"))
    warned = bss.ok("op", "POST", f"{USAGE_API}/usage", _roaming("roam-1", line_a, 800, start))  # 40 EUR
    assert [e["threshold"] for e in warned["event"]] == ["budget-warning"]
    blocked = bss.ok("op", "POST", f"{USAGE_API}/usage", _roaming("roam-2", line_a, 300, start))  # 55 EUR
    assert [e["threshold"] for e in blocked["event"]] == ["budget-reached"]
    # B: an order completed, another cancelled; the operator: an order of its own, cancelled
    bss.customer("b", "bob", "ba-b")
    order_b = bss.order("b", "bob")
    bss.move("b", order_b, "inProgress", "completed")
    order_b2 = bss.order("b", "bob")
    bss.move("b", order_b2, "cancelled")
    bss.customer("op", "olga", "ba-op")
    order_op = bss.order("op", "olga")
    bss.move("op", order_op, "cancelled")
    period = start.strftime("%Y-%m")
    run = bss.ok("op", "POST", f"{BILLING}/billRun", {"period": period})
    bill_a, bill_b = f"ba-a-{period}-EUR", f"ba-b-{period}-EUR"
    assert sorted(run["billsMade"]) == [bill_a, bill_b]
    assert receiver.count() == 0  # nothing is sent before a delivery pass

    attempted = deliver_due(_uow(bss.engine))
    a_orders = [("create", order_a, "acknowledged"), ("state", order_a, "inProgress"), ("state", order_a, "completed")]
    b_orders = [("create", order_b, "acknowledged"), ("state", order_b, "inProgress"), ("state", order_b, "completed"),
                ("create", order_b2, "acknowledged"), ("state", order_b2, "cancelled")]
    op_orders = [("create", order_op, "acknowledged"), ("state", order_op, "cancelled")]
    thresholds = [("threshold", line_a, "budget-warning"), ("threshold", line_a, "budget-reached")]
    expected = {
        "op-622": a_orders + b_orders + op_orders,
        "op-622-completed": [a_orders[2], b_orders[2]],
        "op-622-moves": [a_orders[1], b_orders[1], b_orders[4], op_orders[1]],
        "op-635": thresholds, "op-635-block": thresholds[1:],
        "op-678": [("bill", bill_a, "ba-a"), ("bill", bill_b, "ba-b")],
        "a-622": a_orders, "a-635": thresholds, "a-678": [("bill", bill_a, "ba-a")],
        "b-622": b_orders, "b-635": [], "b-678": [("bill", bill_b, "ba-b")],
        "b-622-created": [b_orders[0], b_orders[3]],
    }
    assert attempted == sum(len(v) for v in expected.values())
    for name, events in expected.items():
        assert _summary(receiver.bodies(name)) == events, name  # in the order they happened
    # one event is one document, whichever hub it reaches; each hub gets it once
    by_id: dict[str, Any] = {}
    for name, body in receiver.received:
        assert by_id.setdefault(body["eventId"], body) == body
    for name in expected:
        ids = [b["eventId"] for b in receiver.bodies(name)]
        assert len(ids) == len(set(ids)), name
    with bss.engine.connect() as connection:
        stored = {r.id: (r.event_type, r.partner_id) for r in connection.execute(text(
            "SELECT id, event_type, partner_id FROM event"))}
    assert set(stored) == set(by_id)  # every event reached the operator's hubs
    partner_of = {"a": "partner-a", "b": "partner-b", "op": None}
    for name, body in receiver.received:
        owner = partner_of[name.split("-")[0]]
        assert owner is None or stored[body["eventId"]][1] == owner, (name, body)
    # the documents carry what changed
    [completed] = [b for b in receiver.bodies("a-622") if b["event"]["productOrder"]["state"] == "completed"]
    assert completed["event"]["productOrder"]["href"] == f"{ORDER}/{order_a}"
    assert completed["event"]["productOrder"]["completionDate"]
    [warning, reached] = receiver.bodies("a-635")
    assert {k: v for k, v in reached["event"]["usageThreshold"].items() if k != "value"} == {
        "accumulator": "mobile-usage/roaming-budget", "threshold": "budget-reached", "action": "block",
        "product": {"id": line_a}, "period": period, "usage": {"id": "roam-2"}}
    assert (warning["event"]["usageThreshold"]["action"], warning["event"]["usageThreshold"]["usage"]) == (
        "notify", {"id": "roam-1"})
    [bill] = receiver.bodies("a-678")
    assert bill["event"]["customerBill"]["href"] == f"{BILLING}/customerBill/{bill_a}"
    assert bill["event"]["customerBill"] == bss.ok("a", "GET", f"{BILLING}/customerBill/{bill_a}")

    # whatever an event holds, a hub's query may name (the check refuses only what never matches)
    for name, body in receiver.received:
        api = "TMF" + name.split("-")[1]
        check_query(api, "&".join(f"{path}=x" for path in _leaf_paths(body) if path != "eventType")
                    + f"&eventType={body['eventType']}", event_shape(api))

    # a second pass sends nothing again
    assert deliver_due(_uow(bss.engine)) == 0
    assert len(receiver.received) == attempted
    # the delivery log: the operator sees every delivery, a partner those to its own hubs
    everything = bss.deliveries("op", "delivered")
    assert len(everything) == attempted and bss.deliveries("op", "pending") == []
    assert all(set(d) == {"event", "hub", "callback", "status", "attempts", "nextAttempt", "delivered"}
               and (d["status"], d["attempts"]) == ("delivered", 1) for d in everything)
    for who in ("a", "b"):
        mine = bss.deliveries(who)
        assert sorted(d["callback"] for d in mine) == sorted(
            receiver.url(name) for name, events in expected.items() if name.startswith(f"{who}-") for _ in events)


# ----------------------------------------------------------------------------- retries


def _whole_second_after(moment: dt.datetime, seconds: int = 1) -> dt.datetime:
    return moment.replace(microsecond=0) + dt.timedelta(seconds=seconds)


def _delivery_of(bss: Bss, callback: str) -> dict[str, Any]:
    [found] = [d for d in bss.deliveries() if d["callback"] == callback]
    return found


def test_a_failing_receiver_is_retried_with_backoff_and_served_when_it_recovers(bss: Bss,
                                                                                  receiver: Receiver) -> None:
    bss.hub("op", "TMF622", receiver.url("flaky"))
    bss.hub("op", "TMF622", receiver.url("healthy"))
    receiver.fail("flaky")
    bss.customer("op", "olga", "ba-op")
    order = bss.order("op", "olga")
    t0 = _whole_second_after(dt.datetime.now(UTC))
    assert deliver_due(_uow(bss.engine), now=t0) == 2
    assert len(receiver.bodies("flaky")) == 1 and len(receiver.bodies("healthy")) == 1
    flaky = _delivery_of(bss, receiver.url("flaky"))
    assert {k: flaky[k] for k in ("status", "attempts", "lastError", "nextAttempt")} == {
        "status": "pending", "attempts": 1, "lastError": "RuntimeError: HTTP 500",
        "nextAttempt": _instant(t0 + dt.timedelta(seconds=2))}
    assert "delivered" not in flaky
    assert _delivery_of(bss, receiver.url("healthy"))["status"] == "delivered"
    # not due before its next attempt
    assert deliver_due(_uow(bss.engine), now=t0 + dt.timedelta(seconds=1.9)) == 0
    assert deliver_due(_uow(bss.engine), now=t0 + dt.timedelta(seconds=2)) == 1
    flaky = _delivery_of(bss, receiver.url("flaky"))
    assert (flaky["status"], flaky["attempts"], flaky["nextAttempt"]) == (
        "pending", 2, _instant(t0 + dt.timedelta(seconds=2 + 4)))
    # the receiver recovers; the delivery waits for its turn, then arrives
    receiver.fail("flaky", None)
    assert deliver_due(_uow(bss.engine), now=t0 + dt.timedelta(seconds=5)) == 0
    assert deliver_due(_uow(bss.engine), now=t0 + dt.timedelta(seconds=6)) == 1
    flaky = _delivery_of(bss, receiver.url("flaky"))
    assert flaky == {"event": flaky["event"], "hub": flaky["hub"], "callback": receiver.url("flaky"),
                     "status": "delivered", "attempts": 3, "nextAttempt": _instant(t0 + dt.timedelta(seconds=6)),
                     "delivered": _instant(t0 + dt.timedelta(seconds=6))}
    bodies = receiver.bodies("flaky")
    assert len(bodies) == 3 and bodies[0] == bodies[1] == bodies[2] == receiver.bodies("healthy")[0]
    assert _summary(bodies[:1]) == [("create", order, "acknowledged")]
    assert deliver_due(_uow(bss.engine), now=t0 + dt.timedelta(days=1)) == 0
    assert len(receiver.bodies("flaky")) == 3


def test_a_delivery_is_retried_for_the_retention_backing_off_to_5_minutes_then_failed_kept_and_listed(
        bss: Bss, receiver: Receiver, clock: Clock) -> None:
    policy = RetryPolicy(retention=dt.timedelta(hours=1), max_backoff=dt.timedelta(minutes=5))
    bss.hub("a", "TMF622", receiver.url("down"))
    receiver.fail("down", 503)
    bss.customer("a", "ana", "ba-a")
    made = clock.now
    bss.order("a", "ana")
    tried: list[dt.datetime] = []

    def send(url: str, document: dict[str, Any]) -> None:
        tried.append(clock.now)
        _post(url, document)

    assert _drive(bss.engine, clock, policy, send=send) == len(tried) == len(receiver.bodies("down"))
    # 2, 4 … 256 s apart, then every 5 minutes, the last attempt at the end of the hour
    gaps = [(later - earlier).total_seconds() for earlier, later in zip(tried, tried[1:])]
    assert tried[0] == made and tried[-1] == made + dt.timedelta(hours=1)
    assert gaps == [2, 4, 8, 16, 32, 64, 128, 256] + [300] * 10 + [90]
    # kept, listed as failed (to the operator and to the partner whose hub it is), never retried
    [failed] = bss.deliveries("op", "failed")
    assert {k: failed[k] for k in ("callback", "attempts", "status", "lastError")} == {
        "callback": receiver.url("down"), "attempts": 20, "status": "failed", "lastError": "RuntimeError: HTTP 503"}
    assert bss.deliveries("a", "failed") == [failed]
    assert bss.deliveries("b", "failed") == []
    assert bss.deliveries("op", "pending") == [] and bss.deliveries("op", "delivered") == []
    receiver.fail("down", None)
    assert deliver_due(_uow(bss.engine), now=clock.now + dt.timedelta(days=30), policy=policy) == 0
    assert len(receiver.bodies("down")) == 20
    bad = bss.call("op", "GET", DELIVERY, params={"status": "lost"})
    assert (bad.status_code, bad.json()["message"]) == (400, "status is pending, delivered or failed")


def test_a_hub_is_sent_its_events_in_order_a_later_one_waits_while_an_earlier_one_is_retried(
        bss: Bss, receiver: Receiver, clock: Clock) -> None:
    stuck = bss.hub("op", "TMF622", receiver.url("stuck"))
    bss.hub("op", "TMF622", receiver.url("healthy"))
    receiver.fail("stuck")
    bss.customer("op", "olga", "ba-op")
    order = bss.order("op", "olga")
    bss.move("op", order, "inProgress", "completed")
    events = [("create", order, "acknowledged"), ("state", order, "inProgress"), ("state", order, "completed")]
    t0 = clock.now + dt.timedelta(seconds=1)  # the events were made at clock.now (a microsecond apart)
    # the healthy hub gets all three in one pass; the stuck one only its first, again and again
    assert deliver_due(_uow(bss.engine), now=t0) == 4
    assert _summary(receiver.bodies("healthy")) == events
    assert _summary(receiver.bodies("stuck")) == events[:1]
    waiting = bss.ok("op", "GET", DELIVERY, params={"hub": stuck})
    assert [(d["status"], d["attempts"], d["nextAttempt"]) for d in waiting] == [
        ("pending", 1, _instant(t0 + dt.timedelta(seconds=2)))] * 1 + [
        ("pending", 0, _instant(t0 + dt.timedelta(seconds=2)))] * 2  # the later ones wait with it
    assert deliver_due(_uow(bss.engine), now=t0 + dt.timedelta(seconds=2)) == 1
    assert _summary(receiver.bodies("stuck")) == events[:1] * 2
    # back: the first, then the others, in the order they were made, each once
    receiver.fail("stuck", None)
    assert deliver_due(_uow(bss.engine), now=t0 + dt.timedelta(seconds=6)) == 3
    assert _summary(receiver.bodies("stuck")) == events[:1] * 3 + events[1:]
    assert [d["attempts"] for d in bss.ok("op", "GET", DELIVERY, params={"hub": stuck})] == [3, 1, 1]
    assert bss.ok("op", "GET", DELIVERY, params={"hub": "no-such-hub"}) == []


def test_a_receiver_down_for_a_day_gets_every_event_once_and_in_order_minutes_after_it_is_back(
        bss: Bss, receiver: Receiver, clock: Clock) -> None:
    """The default policy (72 h retention, at most 5 minutes between attempts); every 3 hours
    of a simulated day, partner A orders and its order moves, and the operator orders: the
    operator's hub hears of all of it, A's hub of A's orders; both receivers are down all day."""
    policy = RetryPolicy()
    assert (policy.retention, policy.max_backoff) == (dt.timedelta(hours=72), dt.timedelta(minutes=5))
    everything, mine = bss.hub("op", "TMF622", receiver.url("all")), bss.hub("a", "TMF622", receiver.url("mine"))
    for name in ("all", "mine"):
        receiver.fail(name)
    bss.customer("a", "ana", "ba-a")
    bss.customer("op", "olga", "ba-op")
    start = clock.now
    made = {"all": [], "mine": []}  # what each hub is to hear of, in the order it happened
    during = 0
    for hour in range(0, 24, 3):
        during += _drive(bss.engine, clock, policy, until=start + dt.timedelta(hours=hour))
        order_a = bss.order("a", "ana")
        bss.move("a", order_a, "inProgress")
        order_op = bss.order("op", "olga")
        ours = [("create", order_a, "acknowledged"), ("state", order_a, "inProgress")]
        made["mine"] += ours
        made["all"] += ours + [("create", order_op, "acknowledged")]
    during += _drive(bss.engine, clock, policy, until=start + dt.timedelta(days=1))
    assert clock.now == start + dt.timedelta(days=1)
    down = {name: receiver.bodies(name) for name in made}
    for name in made:
        receiver.fail(name, None)
    after = _drive(bss.engine, clock, policy)

    for name, events in made.items():
        # while down, only the first event was tried (the later ones waited behind it) ...
        assert set(_summary(down[name])) == {events[0]}, name
        # ... every 5 minutes once the backoff reached its cap: about 290 attempts in the day
        assert 24 * 12 <= len(down[name]) <= 24 * 12 + 10, (name, len(down[name]))
        # back: each event once, in the order they happened
        arrived = receiver.bodies(name)[len(down[name]):]
        assert _summary(arrived) == events, name
        assert len({body["eventId"] for body in arrived}) == len(events)
    assert len(made["all"]) == 24 and len(made["mine"]) == 16
    assert after == 40 and during + after == len(receiver.received)
    # all within 5 minutes of the receivers coming back
    assert clock.now <= start + dt.timedelta(days=1, minutes=5)
    for hub, name in ((everything, "all"), (mine, "mine")):
        listed = bss.ok("op", "GET", DELIVERY, params={"hub": hub, "limit": "100"})
        assert [d["status"] for d in listed] == ["delivered"] * len(made[name])
        assert sorted(d["attempts"] for d in listed) == [1] * (len(made[name]) - 1) + [len(down[name]) + 1]
    print(f"\n{len(made['all']) + len(made['mine'])} deliveries of {len(made['all'])} events to 2 hubs; "
          f"{during} attempts while the receivers were down for 24 h (simulated), {after} after; "
          f"the last delivered {(clock.now - start - dt.timedelta(days=1)).total_seconds():.0f} s after they came back")


def _redeliver(bss: Bss, who: str, hub: str, body: dict[str, Any], base: str = ORDERING) -> Any:
    return bss.call(who, "POST", f"{base}/hub/{hub}/redeliver", body)


def _error(response: Any) -> tuple[int, str]:
    assert response.json()["@type"] == "Error", response.text
    return response.status_code, response.json()["message"]


def test_failed_deliveries_are_redelivered_one_or_since_an_instant_by_api_and_all_by_the_cli(
        bss: Bss, receiver: Receiver, clock: Clock) -> None:
    policy = RetryPolicy(retention=dt.timedelta(minutes=10))
    hub = bss.hub("a", "TMF622", receiver.url("r"))
    receiver.fail("r")
    bss.customer("a", "ana", "ba-a")
    first = bss.order("a", "ana")
    bss.move("a", first, "cancelled")
    clock.now += dt.timedelta(hours=1)
    second_made = clock.now
    second = bss.order("a", "ana")
    bss.move("a", second, "cancelled")
    events = [("create", first, "acknowledged"), ("state", first, "cancelled"),
              ("create", second, "acknowledged"), ("state", second, "cancelled")]
    # down for good: the first of each pair retried 10 minutes; those behind it, past their
    # retention when their turn comes, tried once each
    _drive(bss.engine, clock, policy)
    failed = bss.ok("a", "GET", DELIVERY, params={"hub": hub, "status": "failed"})
    assert len(failed) == 4 and len(receiver.bodies("r")) == len(failed) + sum(d["attempts"] - 1 for d in failed)
    ids = [b["eventId"] for b in receiver.bodies("r")]
    ids = sorted(set(ids), key=ids.index)  # the events, in the order they were made (and tried)
    assert _summary([next(b for b in receiver.bodies("r") if b["eventId"] == i) for i in ids]) == events
    receiver.fail("r", None)
    tried = len(receiver.bodies("r"))

    # only the hub's partner, or the operator, and on the hub's own API
    for who, base in (("b", ORDERING), ("a", BILLING)):
        assert _error(_redeliver(bss, who, hub, {"event": ids[0]}, base)) == (
            404, f"no EventSubscription with id '{hub}'"), (who, base)
    refused = {
        "both": ({"event": ids[0], "since": "2026-01-01"},
                 (400, "name one event, or the instant since when to redeliver, not both")),
        "not an instant": ({"since": "yesterday"}, (400, "since: 'yesterday' is not a date (YYYY-MM-DD) or "
                                                         "date-time (YYYY-MM-DDThh:mm:ssZ)")),
        "not an id": ({"event": 7}, (400, "event is the id of an event")),
        "unknown field": ({"evnt": ids[0]}, (400, "unsupported field 'evnt': a redelivery takes event or since "
                                                  "(did you mean 'event'?)")),
        "never sent": ({"event": "no-such-event"}, (422, f"event 'no-such-event' was never to be sent to hub '{hub}'")),
    }
    for case, (body, wanted) in refused.items():
        assert _error(_redeliver(bss, "a", hub, body)) == wanted, case
    assert deliver_due(_uow(bss.engine), now=clock.now, policy=policy) == 0

    # one event, by the partner: queued at once, sent once
    answer = _redeliver(bss, "a", hub, {"event": ids[1]})
    assert (answer.status_code, answer.json()) == (202, {"hub": hub, "redelivered": 1, "event": [ids[1]]})
    assert _error(_redeliver(bss, "a", hub, {"event": ids[1]})) == (
        409, f"event '{ids[1]}' is still pending for hub '{hub}': it will be sent (its nextAttempt is in the "
             "delivery log)")
    assert deliver_due(_uow(bss.engine), now=clock.now, policy=policy) == 1
    assert _summary(receiver.bodies("r")[tried:]) == events[1:2]
    # the failed ones of the events made since an instant, by the operator, in their order
    answer = _redeliver(bss, "op", hub, {"since": _instant(second_made)})
    assert (answer.status_code, answer.json()) == (202, {"hub": hub, "redelivered": 2, "event": ids[2:]})
    assert deliver_due(_uow(bss.engine), now=clock.now, policy=policy) == 2
    assert _summary(receiver.bodies("r")[tried:]) == events[1:2] + events[2:]
    # every failed one left, by the command line
    url = bss.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli.app, ["redeliver", "--hub", hub, "--database-url", url])
    assert result.exit_code == 0, result.output
    assert result.output.split() == ["hub", hub + ":", "1", "delivery", "queued", "again", ids[0]]
    assert deliver_due(_uow(bss.engine), now=clock.now, policy=policy) == 1
    assert _summary(receiver.bodies("r")[tried:]) == events[1:2] + events[2:] + events[:1]
    # a delivered event may be sent again (the receiver lost it); nothing failed is left
    result = CliRunner().invoke(cli.app, ["redeliver", "--hub", hub, "--event", ids[3], "--database-url", url])
    assert (result.exit_code, result.output.split()[2]) == (0, "1"), result.output
    assert deliver_due(_uow(bss.engine), now=clock.now, policy=policy) == 1
    assert _summary(receiver.bodies("r")[tried:]) == events[1:2] + events[2:] + events[:1] + events[3:]
    assert [d["status"] for d in bss.deliveries("a")] == ["delivered"] * 4
    assert _redeliver(bss, "a", hub, {}).json() == {"hub": hub, "redelivered": 0, "event": []}
    result = CliRunner().invoke(cli.app, ["redeliver", "--hub", "no-such-hub", "--database-url", url])
    assert result.exit_code == 2 and "no EventSubscription with id 'no-such-hub'" in result.output


# ----------------------------------------------------------------------------- restart and background delivery


def _same_database(engine: Engine) -> Engine:
    return make_engine(engine.url.render_as_string(hide_password=False))


def test_a_restart_resumes_pending_deliveries(engine: Engine, receiver: Receiver,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    _load(engine, "roaming")
    admin = make_key()
    with Bss(engine, admin) as first:
        first.hub("op", "TMF622", receiver.url("r"))
        first.customer("op", "olga", "ba-op")
        order = first.order("op", "olga")
        receiver.fail("r")
        assert deliver_due(_uow(engine)) == 1  # fails once: pending, to be retried in 2 s
        first.move("op", order, "cancelled")  # a second event, never attempted before the restart
        assert sorted(d["attempts"] for d in first.deliveries("op", "pending")) == [0, 1]
    receiver.fail("r", None)
    # a new process: a new engine on the same database, and an app that delivers in the background
    monkeypatch.setenv("BSSRULES_DELIVERY", "on")
    restarted = _same_database(engine)
    try:
        with Bss(restarted, admin) as second:
            bodies = receiver.wait_for("r", 3)
            deadline = time.monotonic() + 15
            while second.deliveries("op", "pending") and time.monotonic() < deadline:
                time.sleep(0.05)
            delivered = second.deliveries("op", "delivered")
            time.sleep(0.3)  # the background pass has nothing more to send
    finally:
        restarted.dispose()
    assert _summary(bodies[:1]) == [("create", order, "acknowledged")]  # the attempt before the restart
    assert _summary(bodies[1:]) == [("create", order, "acknowledged"), ("state", order, "cancelled")]  # in order
    assert len(receiver.bodies("r")) == 3
    assert sorted(d["attempts"] for d in delivered) == [1, 2]


def test_the_dispatcher_thread_delivers_on_its_own_until_stopped(bss: Bss, receiver: Receiver) -> None:
    bss.hub("a", "TMF622", receiver.url("a"))
    bss.customer("a", "ana", "ba-a")
    dispatcher = Dispatcher(_uow(bss.engine), interval_s=0.05)
    dispatcher.start()
    try:
        order = bss.order("a", "ana")
        [created] = receiver.wait_for("a", 1)
        bss.move("a", order, "inProgress")
        bodies = receiver.wait_for("a", 2)
    finally:
        dispatcher.stop()
    assert not dispatcher._thread.is_alive()
    assert _summary(bodies) == [("create", order, "acknowledged"), ("state", order, "inProgress")]
    # stopped: a new event waits in the outbox
    bss.move("a", order, "cancelled")
    time.sleep(0.3)
    assert len(receiver.bodies("a")) == 2
    assert [d["status"] for d in bss.deliveries("a", "pending")] == ["pending"]


def test_a_slow_receiver_does_not_hold_up_the_writes_of_the_api(bss: Bss, receiver: Receiver,
                                                                 request: pytest.FixtureRequest) -> None:
    bss.hub("op", "TMF622", receiver.url("slow"))
    receiver.delays["slow"] = 1.5
    bss.customer("op", "olga", "ba-op")
    for _ in range(3):
        bss.order("op", "olga")
    passes: list[int] = []
    delivering = threading.Thread(target=lambda: passes.append(deliver_due(_uow(bss.engine))))
    delivering.start()
    try:
        receiver.wait_for("slow", 2)  # the first delivery is answered and recorded, the second is being sent
        began = time.monotonic()
        response = bss.call("op", "POST", f"{PARTY}/individual", {"id": "ivo", "givenName": "Ivo", "familyName": "X"})
        took = time.monotonic() - began
    finally:
        delivering.join(timeout=30)
    assert passes == [3]
    assert response.status_code == 201, response.text
    assert took < 1.0, f"a write waited {took:.1f} s for the delivery pass"


# ----------------------------------------------------------------------------- hubs


def test_deleting_a_hub_stops_its_deliveries(bss: Bss, receiver: Receiver) -> None:
    kept = bss.hub("a", "TMF622", receiver.url("kept"))
    gone = bss.hub("a", "TMF622", receiver.url("gone"))
    bss.customer("a", "ana", "ba-a")
    order = bss.order("a", "ana")
    assert deliver_due(_uow(bss.engine)) == 2
    # another partner, or another API's hub path, cannot delete it
    for who, path in (("b", f"{ORDERING}/hub/{gone}"), ("a", f"{USAGE_API}/hub/{gone}")):
        response = bss.call(who, "DELETE", path)
        assert (response.status_code, response.json()["message"]) == (
            404, f"no EventSubscription with id '{gone}'"), (who, path)
    assert bss.call("a", "DELETE", f"{ORDERING}/hub/{gone}").status_code == 204
    assert bss.call("a", "DELETE", f"{ORDERING}/hub/{gone}").status_code == 404
    bss.move("a", order, "inProgress")
    assert [d["callback"] for d in bss.deliveries("a", "pending")] == [receiver.url("kept")]
    assert deliver_due(_uow(bss.engine)) == 1
    assert _summary(receiver.bodies("gone")) == [("create", order, "acknowledged")]
    assert _summary(receiver.bodies("kept")) == [("create", order, "acknowledged"), ("state", order, "inProgress")]
    assert kept != gone


def test_deleting_a_hub_also_stops_the_deliveries_already_queued_for_it(bss: Bss, receiver: Receiver) -> None:
    gone = bss.hub("a", "TMF622", receiver.url("gone"))
    bss.customer("a", "ana", "ba-a")
    bss.order("a", "ana")
    assert [d["callback"] for d in bss.deliveries("op", "pending")] == [receiver.url("gone")]
    assert bss.call("a", "DELETE", f"{ORDERING}/hub/{gone}").status_code == 204
    deliver_due(_uow(bss.engine))
    assert receiver.bodies("gone") == []


BAD_QUERIES = {
    "a misspelt attribute": ("TMF622", "event.productOrder.stat=completed",
                             "query: 'event.productOrder.stat' is not an attribute of the events of TMF622 "
                             "(did you mean 'event.productOrder.state'?)"),
    "deep, misspelt": ("TMF622", "eventType=ProductOrderStateChangeEvent&event.productOrder.productOrderItem"
                                 ".productOffering.idd=x",
                       "query: 'event.productOrder.productOrderItem.productOffering.idd' is not an attribute of the "
                       "events of TMF622 (did you mean 'event.productOrder.productOrderItem.productOffering.id'?)"),
    "a misspelt header": ("TMF622", "eventTyp=ProductOrderCreateEvent",
                          "query: 'eventTyp' is not an attribute of the events of TMF622 (did you mean 'eventType'?)"),
    "another API's resource": ("TMF635", "event.productOrder.state=completed",
                               "query: 'event.productOrder.state' is not an attribute of the events of TMF635"),
    "below a value": ("TMF622", "event.productOrder.state.name=x",
                      "query: 'event.productOrder.state.name' is not an attribute of the events of TMF622"),
    "an unknown event type": ("TMF622", "eventType=ProductOrderStateChangedEvent",
                              "query: TMF622 sends no event of type 'ProductOrderStateChangedEvent' "
                              "(did you mean 'ProductOrderStateChangeEvent'?)"),
    "our own events": ("TMF623", "event.slaViolation.severty=critical",
                       "query: 'event.slaViolation.severty' is not an attribute of the events of TMF623 "
                       "(did you mean 'event.slaViolation.severity'?)"),
}
GOOD_QUERIES = {
    "TMF620": "eventType=ProductOfferingStateChangeEvent&event.productOffering.lifecycleStatus=Retired",
    "TMF621": "eventType=TroubleTicketResolvedEvent,TroubleTicketStatusChangeEvent&event.troubleTicket.status=resolved"
              "&event.troubleTicket.relatedParty.role=originator&event.troubleTicket.statusChange.status=resolved",
    "TMF622": "event.productOrder.productOrderItem.product.productCharacteristic.value=5&event.productOrder"
              ".productOrderItem.productOrderItem.productOffering.id=x&eventId=x&eventTime=x",
    "TMF623": "eventType=SlaViolationCreateEvent&event.slaViolation.severity=critical&event.slaViolation.sla.id=x"
              "&event.slaViolation.troubleTicket.id=t&event.slaViolation.relatedParty.role=consumer",
    "TMF635": "eventType=UsageThresholdReachedEvent&event.usageThreshold.action=block&event.usageThreshold.product.id=p",
    "TMF637": "eventType=ProductStateChangeEvent&event.product.status=active",
    "TMF678": "eventType=CustomerBillStateChangeEvent&event.customerBill.billingAccount.id=ba&event.customerBill"
              ".category=settlement&event.customerBill.amountDue.value=5",
}
API_BASES = {"TMF620": "/tmf-api/productCatalogManagement/v4", "TMF621": "/tmf-api/troubleTicket/v4",
             "TMF622": ORDERING, "TMF623": "/tmf-api/slaManagement/v4", "TMF635": USAGE_API,
             "TMF637": "/tmf-api/productInventory/v4", "TMF678": BILLING}


def test_a_hub_query_naming_what_the_events_do_not_hold_is_refused_with_a_suggestion(bss: Bss) -> None:
    for case, (api, query, message) in BAD_QUERIES.items():
        response = bss.call("op", "POST", f"{API_BASES[api]}/hub", {"callback": "http://127.0.0.1:9/x", "query": query})
        assert (response.status_code, response.json()) == (400, {
            "code": "invalidInput", "reason": "Bad Request", "message": message, "status": "400",
            "@type": "Error"}), case
    with bss.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM resource WHERE kind = 'hub'")).scalar_one() == 0
    # what the events hold, however deep (a characteristic's value is free-form), and every API's own
    for api, query in GOOD_QUERIES.items():
        response = bss.call("op", "POST", f"{API_BASES[api]}/hub", {"callback": "http://127.0.0.1:9/x", "query": query})
        assert response.status_code == 201, (api, response.text)


def test_every_attribute_of_the_events_the_other_apis_send_may_be_queried() -> None:
    """What tickets and SLA violations carry (their events are sent by the ticket and SLA suites)."""
    ticket = ("event.troubleTicket.", "id href @type description severity ticketType status creationDate "
              "lastUpdate statusChangeDate relatedParty.id relatedParty.role relatedParty.@referredType "
              "relatedEntity.id relatedEntity.role relatedEntity.@referredType statusChange.status "
              "statusChange.changeDate statusChange.changeReason note.text note.author note.date name")
    violation = ("event.slaViolation.", "id href @type sla.id sla.name rule ruleSet metric value severity window "
                 "observedAt relatedParty.id relatedParty.role relatedParty.@referredType troubleTicket.id")
    for api, (prefix, names) in (("TMF621", ticket), ("TMF623", violation)):
        check_query(api, "&".join(f"{prefix}{name}=x" for name in names.split()), event_shape(api))


BAD_HUBS = {
    "no callback": ({}, "callback must be an http(s) URL"),
    "not a URL": ({"callback": "receiver"}, "callback must be an http(s) URL"),
    "ftp": ({"callback": "ftp://127.0.0.1/x"}, "callback must be an http(s) URL"),
    "no host": ({"callback": "http:///x"}, "callback must be an http(s) URL"),
    "a number": ({"callback": 42}, "callback must be an http(s) URL"),
    "query not text": ({"callback": "http://127.0.0.1:9/x", "query": {"eventType": "x"}},
                       "query is a string like eventType=…&event.x.y=…"),
    "unknown field": ({"callback": "http://127.0.0.1:9/x", "secret": "s"},
                      "unsupported field 'secret': a hub takes callback and query"),
}


@pytest.mark.parametrize("case", list(BAD_HUBS))
def test_a_bad_hub_is_refused_with_400_and_nothing_is_registered(bss: Bss, case: str) -> None:
    body, message = BAD_HUBS[case]
    response = bss.call("a", "POST", f"{ORDERING}/hub", body)
    assert (response.status_code, response.json()) == (400, {
        "code": "invalidInput", "reason": "Bad Request", "message": message, "status": "400", "@type": "Error"})
    bss.customer("a", "ana", "ba-a")
    bss.order("a", "ana")
    assert bss.deliveries("op") == []
    with bss.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM resource WHERE kind = 'hub'")).scalar_one() == 0
        assert connection.execute(text("SELECT count(*) FROM delivery")).scalar_one() == 0


# ----------------------------------------------------------------------------- settings and migration


def test_the_retention_and_the_longest_backoff_are_set_by_environment_or_option(
        monkeypatch: pytest.MonkeyPatch, engine: Engine) -> None:
    assert [parse_duration(t) for t in ("90", "90s", "15m", "72h", "3d", "1.5h")] == [
        dt.timedelta(seconds=90), dt.timedelta(seconds=90), dt.timedelta(minutes=15), dt.timedelta(hours=72),
        dt.timedelta(days=3), dt.timedelta(minutes=90)]
    assert RetryPolicy.from_env() == RetryPolicy(dt.timedelta(hours=72), dt.timedelta(minutes=5))
    monkeypatch.setenv("BSSRULES_DELIVERY_RETENTION", "7d")
    monkeypatch.setenv("BSSRULES_DELIVERY_MAX_BACKOFF", "10m")
    assert RetryPolicy.from_env() == RetryPolicy(dt.timedelta(days=7), dt.timedelta(minutes=10))
    assert RetryPolicy.from_env("1h") == RetryPolicy(dt.timedelta(hours=1), dt.timedelta(minutes=10))
    assert Dispatcher(_uow(engine)).policy == RetryPolicy(dt.timedelta(days=7), dt.timedelta(minutes=10))
    # a setting that is no duration stops the worker at its start, and the command at once
    monkeypatch.setenv("BSSRULES_DELIVERY_RETENTION", "a week")
    with pytest.raises(ValueError, match="'a week' is not a duration such as 90s, 15m, 72h or 3d"):
        Dispatcher(_uow(engine))
    for bad in ("0", "-1h", "400d", "9" * 30 + "d"):
        with pytest.raises(ValueError):
            RetryPolicy.from_env(bad)
    url = engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli.app, ["deliver", "--once", "--database-url", url])
    assert result.exit_code == 2 and "'a week' is not a duration" in result.output, result.output
    result = CliRunner().invoke(cli.app, ["deliver", "--once", "--retention", "2h", "--database-url", url])
    assert (result.exit_code, result.output.strip()) == (0, "0 deliveries attempted"), result.output


def test_the_migration_gives_the_deliveries_already_stored_their_order_and_retention(engine: Engine) -> None:
    from sqlalchemy import insert

    from bssrules.store.tables import delivery, event

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0005")
    made = dt.datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    try:
        with engine.begin() as connection:  # rows as revision 0005 wrote them (its columns only)
            for n in range(2):
                connection.execute(insert(event).values(
                    id=f"e{n}", event_type="ProductOrderCreateEvent", api="TMF622", partner_id=None,
                    created=made + dt.timedelta(minutes=n), document="{}"))
                connection.execute(insert(delivery).values(
                    event_id=f"e{n}", hub_id="h", callback="http://127.0.0.1:9/x", status=["failed", "pending"][n],
                    attempts=[8, 0][n], next_attempt=made + dt.timedelta(minutes=n, hours=1)))
    finally:
        upgrade(engine)
    with UnitOfWork(engine) as uow:
        claimed = uow.outbox.claim_due(made + dt.timedelta(days=1), 10, dt.timedelta(seconds=60))
        # the failed one, made first, stays failed: it holds nothing back, and may be redelivered
        assert [(d.event_id, d.status, queued) for d, queued in claimed] == [
            ("e1", "pending", made + dt.timedelta(minutes=1))]
        assert uow.outbox.requeue("h", made + dt.timedelta(days=1)) == ["e0"]


# ----------------------------------------------------------------------------- PostgreSQL: concurrent passes


@pytest.mark.postgres
def test_concurrent_delivery_passes_never_send_one_delivery_twice_and_keep_the_order_on_postgresql(
        _postgres_engine: Engine, receiver: Receiver, app_for: AppFor) -> None:
    engine = _postgres_engine
    _empty(engine)
    _load(engine, "roaming")
    with keyed_app(app_for, engine) as app, Bss(engine, ADMIN_KEY, app) as bss:
        for name in ("one", "two", "three"):
            bss.hub("op", "TMF622", receiver.url(name))
        bss.customer("op", "olga", "ba-op")
        orders = [bss.order("op", "olga") for _ in range(12)]
        for order in orders[:6]:
            bss.move("op", order, "cancelled")
        total = 3 * (len(orders) + 6)
        assert len(bss.deliveries("op", "pending")) == total

        sent: list[tuple[str, str]] = []
        sent_lock = threading.Lock()

        def slow_send(url: str, document: dict[str, Any]) -> None:
            with sent_lock:
                sent.append((url, document["eventId"]))
            time.sleep(0.005)
            _post(url, document)

        barrier, attempted, errors = threading.Barrier(4), Counter(), []

        def outstanding() -> int:
            with engine.connect() as connection:
                return int(connection.execute(text(
                    "SELECT count(*) FROM delivery WHERE status = 'pending'")).scalar_one())

        def worker(index: int) -> None:
            """A dispatcher: a pass, and when it finds nothing due (a hub's next event waits
            for its earlier one, being sent by another), a short wait and another."""
            try:
                barrier.wait()
                while True:
                    done = deliver_due(_uow(engine), send=slow_send, limit=5)
                    attempted[index] += done
                    if not done:
                        if not outstanding():
                            return
                        time.sleep(0.002)
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors
        assert deliver_due(_uow(engine)) == 0
        duplicates = [k for k, n in Counter(sent).items() if n > 1]
        assert duplicates == [] and len(sent) == total == sum(attempted.values())
        received = Counter((name, body["eventId"]) for name, body in receiver.received)
        assert len(received) == total and set(received.values()) == {1}
        assert len(bss.deliveries("op", "delivered")) == total
        assert sum(1 for n in attempted.values() if n) >= 2, attempted  # the passes did share the work
        # and each hub heard of the events in the order they were made
        with engine.connect() as connection:
            order = list(connection.execute(text("SELECT id FROM event ORDER BY created")).scalars())
        for name in ("one", "two", "three"):
            assert [body["eventId"] for body in receiver.bodies(name)] == order, name
    _empty(engine)
