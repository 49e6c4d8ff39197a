"""A partner subscribing for the first time, from the docs alone (review 15): a callback no
delivery could reach, a hub subscribed twice, a query naming an object, and a dispatcher
that must not send a claimed delivery once its lease may have run out."""
from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from sqlalchemy import select, text

from bssrules.services import notifications
from bssrules.services.notifications import RetryPolicy, deliver_due
from bssrules.store import UnitOfWork
from bssrules.store.tables import delivery
from tests.api.session_app import keyed_app_on_engine  # noqa: F401 - a fixture of bss
from tests.api.test_notifications import BILLING, ORDERING, Bss, _uow, bss  # noqa: F401 - the fixture

UTC = dt.timezone.utc


def _error(response: Any) -> tuple[int, str]:
    return response.status_code, response.json().get("message", "")


def _hubs(bss: Bss) -> int:
    with bss.engine.connect() as connection:
        return connection.execute(text("SELECT count(*) FROM resource WHERE kind = 'hub'")).scalar_one()


UNREACHABLE = {
    "a space in the host": "http://exa mple.com/events",
    "no host, a port": "http://:8080/events",
    "a port out of range": "https://example.com:99999/events",
    "a port that is no number": "https://example.com:https/events",
    "port 0": "https://example.com:0/events",
    "a leading space": " https://example.com/events",
    "a newline in the host": "https://exa\nmple.com/events",
    "a tab in the path": "https://example.com/ev\tents",
}


@pytest.mark.parametrize("case", list(UNREACHABLE))
def test_a_callback_no_delivery_could_reach_is_a_400_and_registers_nothing(bss: Bss, case: str) -> None:
    status, message = _error(bss.call("a", "POST", f"{ORDERING}/hub", {"callback": UNREACHABLE[case]}))
    assert status == 400
    assert message.startswith("callback must be an http(s) URL: "), message  # and says what is wrong
    assert _hubs(bss) == 0


def test_a_callback_that_is_a_url_is_taken_as_given(bss: Bss) -> None:
    for callback in ("https://example.com:8443/events?partner=a", "http://[::1]:9000/x", "https://u:p@example.com/e",
                     "https://example.com/a%20b"):
        assert bss.ok("a", "POST", f"{ORDERING}/hub", {"callback": callback})["callback"] == callback


def test_the_same_hub_twice_is_a_409_naming_the_first_and_nothing_is_sent_twice(bss: Bss) -> None:
    body = {"callback": "https://a.example/events", "query": "eventType=ProductOrderCreateEvent"}
    first = bss.ok("a", "POST", f"{ORDERING}/hub", body)["id"]
    status, message = _error(bss.call("a", "POST", f"{ORDERING}/hub", body))
    assert status == 409 and f"hub '{first}' already sends the events of TMF622 to this callback" in message
    assert _hubs(bss) == 1
    # another query, another API or another partner: another hub
    bss.ok("a", "POST", f"{ORDERING}/hub", {"callback": body["callback"]})
    bss.ok("a", "POST", f"{BILLING}/hub", {"callback": body["callback"]})
    bss.ok("b", "POST", f"{ORDERING}/hub", body)
    bss.customer("a", "ana", "ba-a")
    bss.order("a", "ana")
    sent = [(d["hub"], d["event"]) for d in bss.deliveries("a")]
    assert len(sent) == len(set(sent)) == 2  # the first hub, and the one without a query
    # unsubscribed, it may subscribe again
    bss.ok("a", "DELETE", f"{ORDERING}/hub/{first}")
    bss.ok("a", "POST", f"{ORDERING}/hub", body)


@pytest.mark.parametrize("name, example", [
    ("event", "event.cancelProductOrder"),  # (the first of its attributes, having no id)
    ("event.productOrder", "event.productOrder.id"),
    ("event.productOrder.relatedParty", "event.productOrder.relatedParty.id"),
])
def test_a_query_naming_an_object_which_no_value_matches_is_refused(bss: Bss, name: str, example: str) -> None:
    status, message = _error(bss.call("a", "POST", f"{ORDERING}/hub",
                                      {"callback": "https://a.example/e", "query": f"{name}=x"}))
    assert (status, message) == (400, f"query: '{name}' is an object in the events of TMF622, which no value "
                                      f"matches: name one of its attributes, e.g. '{example}'")
    assert _hubs(bss) == 0


def test_a_claimed_delivery_is_never_sent_once_its_lease_may_run_out_before_the_receiver_answers(
        bss: Bss, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sends are made one after the other: a batch of slow receivers must not keep the
    rest of the batch past its lease, when another dispatcher may claim and send them too."""
    lease, answer = 1.0, 0.4
    monkeypatch.setattr(notifications, "LEASE", dt.timedelta(seconds=lease))
    monkeypatch.setattr(notifications, "SEND_TIMEOUT_S", answer, raising=False)
    callbacks = [f"https://slow{n}.example/events" for n in range(4)]
    for callback in callbacks:
        bss.ok("a", "POST", f"{ORDERING}/hub", {"callback": callback})
    bss.customer("a", "ana", "ba-a")
    bss.order("a", "ana")
    left: dict[str, float] = {}
    received: list[str] = []

    def slow(url: str, document: dict[str, Any]) -> None:
        with bss.engine.connect() as connection:
            until = connection.execute(select(delivery.c.next_attempt).where(
                delivery.c.callback == url, delivery.c.event_id == document["eventId"])).scalar_one()
        until = until.replace(tzinfo=UTC) if until.tzinfo is None else until
        left[url] = (until - dt.datetime.now(UTC)).total_seconds()
        time.sleep(answer)  # the slowest answer a receiver may give
        received.append(url)

    assert deliver_due(_uow(bss.engine), send=slow, policy=RetryPolicy()) == 4
    assert sorted(received) == callbacks  # each once
    # each sent with time for its answer (less a little: the database read above takes some)
    assert all(seconds >= answer - 0.1 for seconds in left.values()), left
    assert {d["status"] for d in bss.deliveries("a")} == {"delivered"}
    assert {d["attempts"] for d in bss.deliveries("a")} == {1}  # a delivery given back is not an attempt


def test_a_hub_querying_a_field_path_gets_the_changes_of_that_attribute_among_others(bss: Bss) -> None:
    """docs/api.md: "a hub's query fieldPath=description gets only those changes" — also when
    the change is about description and something else (fieldPath 'description,note')."""
    base = "/tmf-api/productOfferingQualification/v4"
    hubs = {query: bss.ok("op", "POST", f"{base}/hub", {"callback": f"https://op.example/{n}", "query": query})["id"]
            for n, query in enumerate(("fieldPath=description", "fieldPath=note,state", "fieldPath=category"))}
    with UnitOfWork(bss.engine) as uow:
        for paths in ("description", "description,note", "category,description"):
            notifications.publish(uow, "TMF679", "ProductOfferingQualificationAttributeValueChangeEvent",
                                  "productOfferingQualification", {"id": "q-1"}, None, field_path=paths)
        uow.commit()
    sent = [d["hub"] for d in bss.deliveries("op")]
    assert [sent.count(hubs[query]) for query in hubs] == [3, 1, 1]


def test_a_partner_whose_bundle_no_longer_subscribes_to_an_api_is_sent_none_of_its_events(bss: Bss) -> None:
    """Registering a hub needs subscribe on its API; the CSP taking it away (or the API) must
    stop the events too, not only new hubs: they carry the data the partner may no longer read."""
    mine = bss.ok("a", "POST", f"{ORDERING}/hub", {"callback": "https://a.example/orders"})["id"]
    operators = bss.ok("op", "POST", f"{ORDERING}/hub", {"callback": "https://op.example/orders"})["id"]
    bss.customer("a", "ana", "ba-a")

    def bundle(ordering: list[str]) -> None:
        api = [{"name": n} for n in ("TMF632", "TMF635", "TMF637", "TMF666", "TMF678", "partner")]
        bss.ok("op", "PATCH", "/tmf-api/partnerManagement/v4/partner/partner-a",
               {"apiBundle": {"api": [*api, {"name": "TMF622", "operations": ordering}]}})

    def sent_to(hub: str) -> int:
        return sum(d["hub"] == hub for d in bss.deliveries("op"))

    bundle(["list", "retrieve", "create", "patch"])  # no subscribe
    bss.order("a", "ana")
    assert (sent_to(mine), sent_to(operators)) == (0, 1)
    bundle(["list", "retrieve", "create", "patch", "subscribe"])  # given back
    bss.order("a", "ana")
    assert (sent_to(mine), sent_to(operators)) == (1, 2)



def test_a_pass_whose_send_overran_the_lease_gives_back_nothing_another_dispatcher_claimed_since(
        bss: Bss, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first send of a batch outlasts the lease (a receiver slower than it may be); in
    the meantime another dispatcher claims the rest. This pass must neither send them nor
    make them due again: the other dispatcher is sending them."""
    monkeypatch.setattr(notifications, "LEASE", dt.timedelta(seconds=1.0))
    monkeypatch.setattr(notifications, "SEND_TIMEOUT_S", 0.3, raising=False)
    for n in range(3):
        bss.ok("a", "POST", f"{ORDERING}/hub", {"callback": f"https://r{n}.example/events"})
    bss.customer("a", "ana", "ba-a")
    bss.order("a", "ana")
    received: list[str] = []
    taken: list[Any] = []

    def overrunning(url: str, document: dict[str, Any]) -> None:
        received.append(url)
        if len(received) == 1:
            time.sleep(1.2)  # past the lease: the rest of the batch is free to claim
            with UnitOfWork(bss.engine) as uow:  # another dispatcher claims it, and is sending it
                taken.extend(item for item, _ in uow.outbox.claim_due(dt.datetime.now(UTC), 100,
                                                                      dt.timedelta(seconds=60)))
                uow.commit()

    assert deliver_due(_uow(bss.engine), send=overrunning, policy=RetryPolicy()) == 1
    assert len(received) == 1 and len(taken) == 3  # (the one being sent too: its send overran)
    with bss.engine.connect() as connection:
        due = connection.execute(select(delivery.c.next_attempt).where(delivery.c.status == "pending")).scalars()
        soonest = min(d.replace(tzinfo=UTC) if d.tzinfo is None else d for d in due)
    assert soonest > dt.datetime.now(UTC) + dt.timedelta(seconds=30)  # still the other dispatcher's


@pytest.mark.parametrize("query, sent", [
    ("event.usageThreshold.value=152.5", True), ("event.usageThreshold.value=152.50", True),
    ("event.usageThreshold.value=152.500,7", True), ("event.usageThreshold.value=152", False),
    ("event.usageThreshold.value=abc", False),
])
def test_a_query_on_a_number_matches_its_value_however_it_is_written(bss: Bss, query: str, sent: bool) -> None:
    """An amount is exact (152.50, a Decimal): a query of 152.5 names the same number."""
    from decimal import Decimal

    hub = bss.ok("op", "POST", "/tmf-api/usageManagement/v4/hub", {"callback": "https://op.example/u",
                                                                     "query": query})["id"]
    with UnitOfWork(bss.engine) as uow:
        notifications.publish(uow, "TMF635", "UsageThresholdReachedEvent", "usageThreshold",
                              {"accumulator": "budget", "value": Decimal("152.50")}, None)
        uow.commit()
    assert [d["hub"] for d in bss.deliveries("op")] == ([hub] if sent else [])
