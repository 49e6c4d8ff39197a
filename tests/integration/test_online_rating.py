"""Online rating on the hot tables, below the HTTP layer: the rating context a worker caches
is never used once the inventory, a party or an account changed (its revision moved on in
the same transaction); single usages posted at once are rated together and lose no update
of a balance or a running total, on PostgreSQL where they really run side by side."""
from __future__ import annotations

import threading
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from bssrules.rules.project import load_project
from bssrules.services import buckets, usage
from bssrules.services import catalog as catalog_service
from bssrules.services import resources
from bssrules.services.rating_context import ContextCache
from bssrules.services.runtime import RuntimeCache
from bssrules.services.usage_combiner import UsageCombiner
from bssrules.store import UnitOfWork

ROOT = Path(__file__).resolve().parents[2]
KINDS = resources.KINDS


def _ppv(engine: Engine, subscriptions: int = 1) -> None:
    with UnitOfWork(engine) as uow:
        catalog_service.load_project(uow, load_project(ROOT / "examples" / "ppv"), "ppv")
    for i in range(subscriptions):
        with UnitOfWork(engine) as uow:
            resources.create(uow, KINDS["individual"], {"id": f"party-{i}", "givenName": "P", "familyName": str(i)},
                             ["givenName", "familyName", "partyCharacteristic"])
            resources.create(uow, KINDS["billingAccount"], {"id": f"ba-{i}", "name": "P", "relatedParty": [
                {"id": f"party-{i}", "role": "owner"}]}, ["name", "relatedParty"])
            resources.create(uow, KINDS["product"], {
                "id": f"sub-{i}", "status": "active", "productOffering": {"id": "ppv-service"},
                "relatedParty": [{"id": f"party-{i}", "role": "owner"}], "billingAccount": {"id": f"ba-{i}"}},
                ["status", "productOffering", "relatedParty", "billingAccount"])


def _movie(subscription: str, hour: int = 20, id: str | None = None) -> dict[str, Any]:
    body = {"usageDate": f"2026-06-01T{hour:02d}:00:00Z", "usageType": "ppv-movie",
            "usageCharacteristic": [{"name": "productId", "value": subscription}]}
    return {**body, "id": id} if id else body


def test_a_cached_context_is_not_used_once_the_party_changed(engine: Engine) -> None:
    _ppv(engine)
    runtimes, contexts = RuntimeCache(), ContextCache()

    def post(body: dict[str, Any]) -> dict[str, Any]:
        with UnitOfWork(engine) as uow:
            return usage.create_usages(uow, runtimes, contexts, [body])[0][0]

    assert post(_movie("sub-0"))["ratedBy"]["amount"]["value"] == Decimal("4.00")
    assert post(_movie("sub-0"))["ratedBy"]["rule"] == "base-rate"
    assert contexts.loads == 1  # the second usage took the worker's copy
    with UnitOfWork(engine) as uow:  # the party becomes a VIP: its subscriptions' revisions move on
        resources.patch(uow, KINDS["individual"], "party-0",
                        {"partyCharacteristic": [{"name": "classification", "value": "VIP"}]},
                        ["givenName", "familyName", "partyCharacteristic"])
    vip = post(_movie("sub-0"))
    assert (vip["ratedBy"]["ruleSet"], vip["ratedBy"]["amount"]["value"]) == ("ppv-vip", Decimal("0"))
    assert contexts.loads == 2
    with UnitOfWork(engine) as uow:  # the product ends: the next usage is refused, not rated on the old context
        resources.patch(uow, KINDS["product"], "sub-0", {"status": "terminated",
                                                         "terminationDate": "2026-05-01T00:00:00Z"},
                        ["status", "terminationDate", "productOffering", "relatedParty", "billingAccount"])
    assert post(_movie("sub-0"))["rejectionReason"][0]["code"] == "subscriptionNotActive"


@pytest.mark.postgres
def test_single_usages_posted_at_once_on_one_subscription_are_rated_together_and_lose_nothing(
        _postgres_engine: Engine) -> None:
    from tests.conftest import _empty

    engine = _postgres_engine
    _empty(engine)
    try:
        _ppv(engine)
        with UnitOfWork(engine) as uow:
            buckets.create_bucket(uow, {"id": "prepaid", "usageType": "any", "product": [{"id": "sub-0"}],
                                        "remainingValue": {"amount": 1000, "units": "EUR"}})
        combiner = UsageCombiner(partial(UnitOfWork, engine), RuntimeCache(), ContextCache())
        threads, each = 16, 12
        failures: list[str] = []

        def client(n: int) -> None:
            try:
                for k in range(each):
                    answer, created = combiner.create(None, _movie("sub-0", hour=(n + k) % 24, id=f"u-{n}-{k}"))
                    assert created and answer["status"] == "rated"
                combiner.create(None, _movie("sub-0", id=f"u-{n}-0"))  # sent again: the stored usage
            except BaseException as exc:  # noqa: BLE001 - reported below
                failures.append(repr(exc))

        pool = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join(timeout=120)
        assert not failures, failures
        with UnitOfWork(engine) as uow:
            stored, total = uow.usages.usages({}, 0, 1000)
            charged = sum(Decimal(str(u.document["ratedBy"]["amount"]["value"])) for u in stored)
            left = buckets.get_bucket(uow, "prepaid")["remainingValue"]["amount"]
        assert total == threads * each
        assert left == 1000 - charged  # no lost update of the balance
        assert combiner.usages >= threads * each and combiner.batches < combiner.usages  # some rated together
    finally:
        _empty(engine)


def test_contexts_read_together_are_those_read_one_by_one(engine: Engine) -> None:
    """A batch reads the contexts it lacks in a few statements (load_contexts): each is the
    one load_context reads — parties individual or organization, their other products (only
    the effective ones count), the first account of each payer role, a product without party,
    one not in the inventory."""
    from bssrules.services.rating_context import load_context, load_contexts

    _ppv(engine, 3)
    with UnitOfWork(engine) as uow:
        resources.create(uow, KINDS["organization"], {"id": "org", "name": "Org",
                                                      "partyCharacteristic": [{"name": "classification",
                                                                               "value": "VIP"}]},
                         ["name", "partyCharacteristic"])
        for n, (owner, status, offering) in enumerate([("party-0", "active", "tv"), ("party-0", "suspended", "radio"),
                                                       ("org", "pendingTerminate", "ppv-service"),
                                                       ("org", "active", "data")]):
            resources.create(uow, KINDS["product"], {
                "id": f"extra-{n}", "status": status, "productOffering": {"id": offering},
                "relatedParty": [{"id": owner, "role": "owner"}, {"id": "party-1", "role": "payer"}]},
                ["status", "productOffering", "relatedParty"])
        resources.create(uow, KINDS["billingAccount"], {"id": "ba-0b", "name": "second", "relatedParty": [
            {"id": "party-0", "role": "owner"}]}, ["name", "relatedParty"])
        resources.create(uow, KINDS["product"], {"id": "lonely", "status": "active",
                                                 "productOffering": {"id": "ppv-service"}},
                         ["status", "productOffering"])
        uow.commit()
    ids = ["sub-0", "sub-1", "sub-2", "extra-0", "extra-1", "extra-2", "extra-3", "lonely", "nowhere"]
    with UnitOfWork(engine) as uow:
        together = load_contexts(uow, ids)
        alone = {i: load_context(uow, i) for i in ids}
    assert together == alone
    assert together["extra-2"].subscriber is not None
    assert together["extra-2"].subscriber.classification == "VIP"
    assert together["extra-2"].subscriber.active_offerings == ("data", "ppv-service")
    assert together["extra-0"].subscriber is not None and together["extra-0"].subscriber.payers == {
        "owner": "ba-0", "payer": "ba-1"}
    assert together["nowhere"].product is None


@pytest.mark.postgres
def test_usages_awaited_on_an_event_loop_are_rated_together_and_lose_nothing(_postgres_engine: Engine) -> None:
    """The HTTP layer's way: requests await their usage on the event loop (create_async),
    only the leaders take threads; every caller gets its own usage (a resend: the stored
    one), and the bucket lost exactly what the usages were charged."""
    import asyncio

    from tests.conftest import _empty

    engine = _postgres_engine
    _empty(engine)
    try:
        _ppv(engine, 2)
        with UnitOfWork(engine) as uow:
            for i in range(2):
                buckets.create_bucket(uow, {"id": f"prepaid-{i}", "usageType": "any", "product": [{"id": f"sub-{i}"}],
                                            "remainingValue": {"amount": 1000, "units": "EUR"}})
        combiner = UsageCombiner(partial(UnitOfWork, engine), RuntimeCache(), ContextCache())

        async def post_all() -> list[tuple[dict[str, Any], bool]]:
            bodies = [_movie(f"sub-{n % 2}", hour=n % 24, id=f"a-{n}") for n in range(120)]
            bodies += [_movie("sub-0", id="a-0"), _movie("sub-1", id="a-1")]  # sent again
            return await asyncio.gather(*(combiner.create_async(None, b) for b in bodies))

        answers = asyncio.run(post_all())
        assert [a["id"] for a, _ in answers] == [f"a-{n}" for n in range(120)] + ["a-0", "a-1"]
        assert all(created for _, created in answers[:120]) and not any(created for _, created in answers[120:])
        assert answers[120][0]["ratedBy"] == answers[0][0]["ratedBy"]
        with UnitOfWork(engine) as uow:
            stored, total = uow.usages.usages({}, 0, 1000)
            for i in range(2):
                charged = sum(Decimal(str(u.document["ratedBy"]["amount"]["value"])) for u in stored
                              if u.subscription == f"sub-{i}")
                assert buckets.get_bucket(uow, f"prepaid-{i}")["remainingValue"]["amount"] == 1000 - charged
        assert total == 120
        assert combiner.batches < combiner.usages  # some rated together
    finally:
        _empty(engine)
