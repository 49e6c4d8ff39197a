"""A posted batch does not wait for the subscriptions another transaction holds (PostgreSQL,
migration 0014): it rates and commits the usages of the others first, then waits for the
rest — and a batch run again after its second transaction failed rates nothing twice, even
the usages whose id the service drew. Concurrent batches drawn from the same subscriptions
lose no update of a balance."""
from __future__ import annotations

import json
import random
import threading
import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from sqlalchemy import Engine, text

from bssrules.rules.project import load_project
from bssrules.services import buckets, resources, usage
from bssrules.services import catalog as catalog_service
from bssrules.services.rating_context import ContextCache
from bssrules.services.records import KeyTaken
from bssrules.services.runtime import RuntimeCache
from bssrules.store import UnitOfWork
from bssrules.store.online import OnlineRepository

ROOT = Path(__file__).resolve().parents[2]
KINDS = resources.KINDS
INITIAL = Decimal(1000)

pytestmark = pytest.mark.postgres


@pytest.fixture
def engine(_postgres_engine: Engine) -> Iterator[Engine]:
    """The pay-per-view example on PostgreSQL: subscriptions sub-0 … sub-4, each with a
    prepaid bucket of 1,000 EUR."""
    from tests.conftest import _empty

    _empty(_postgres_engine)
    with UnitOfWork(_postgres_engine) as uow:
        catalog_service.load_project(uow, load_project(ROOT / "examples" / "ppv"), "ppv")
    for i in range(5):
        with UnitOfWork(_postgres_engine) as uow:
            resources.create(uow, KINDS["individual"], {"id": f"party-{i}", "givenName": "P", "familyName": str(i)},
                             ["givenName", "familyName"])
            resources.create(uow, KINDS["billingAccount"], {"id": f"ba-{i}", "name": "P", "relatedParty": [
                {"id": f"party-{i}", "role": "owner"}]}, ["name", "relatedParty"])
            resources.create(uow, KINDS["product"], {
                "id": f"sub-{i}", "status": "active", "productOffering": {"id": "ppv-service"},
                "relatedParty": [{"id": f"party-{i}", "role": "owner"}], "billingAccount": {"id": f"ba-{i}"}},
                ["status", "productOffering", "relatedParty", "billingAccount"])
            buckets.create_bucket(uow, {"id": f"bucket-{i}", "usageType": "any", "product": [{"id": f"sub-{i}"}],
                                        "remainingValue": {"amount": int(INITIAL), "units": "EUR"}})
    try:
        yield _postgres_engine
    finally:
        _empty(_postgres_engine)


def _movie(subscription: str, hour: int = 20, id: str | None = None) -> dict[str, Any]:
    body = {"usageDate": f"2026-06-01T{hour:02d}:00:00Z", "usageType": "ppv-movie",
            "usageCharacteristic": [{"name": "productId", "value": subscription}]}
    return {**body, "id": id} if id else body


def _post(engine: Engine, bodies: list[dict[str, Any]], runtimes: RuntimeCache, contexts: ContextCache) -> list[Any]:
    """As the API runs a batch: in a unit of work, run again whole after a lost race for a key."""
    for _ in range(3):
        try:
            with UnitOfWork(engine) as uow:
                return usage.create_usage_texts(uow, runtimes, contexts, bodies)
        except KeyTaken:
            continue
    raise AssertionError("a race for a key lost three times")


def _stored(engine: Engine) -> dict[str, list[str]]:
    """Each subscription's stored usage ids."""
    with engine.connect() as connection:
        found: dict[str, list[str]] = {}
        for row in connection.execute(text("SELECT subscription, id FROM usage_record ORDER BY id")):
            found.setdefault(row.subscription, []).append(row.id)
    return found


def _charged_right(engine: Engine) -> None:
    """Each bucket lost exactly what its subscription's rated usages were charged."""
    with UnitOfWork(engine) as uow:
        stored, _ = uow.usages.usages({}, 0, 10_000)
        charged: dict[str, Decimal] = {}
        for u in stored:
            if u.status == "rated":
                charged[u.subscription] = charged.get(u.subscription, Decimal(0)) + \
                    Decimal(str(u.document["ratedBy"]["amount"]["value"]))
        for i in range(5):
            left = Decimal(str(buckets.get_bucket(uow, f"bucket-{i}")["remainingValue"]["amount"]))
            assert left == INITIAL - charged.get(f"sub-{i}", Decimal(0)), f"sub-{i}"


def _holding(engine: Engine, subscription: str) -> tuple[Any, Callable[[], None]]:
    """Another transaction holding ``subscription``'s lock (as a batch rating it would); its release."""
    connection = engine.connect()
    transaction = connection.begin()
    connection.execute(text("SELECT id FROM subscription WHERE id = :id FOR UPDATE"), {"id": subscription})

    def release() -> None:
        transaction.rollback()
        connection.close()
    return connection, release


def _second_save_fails(monkeypatch: pytest.MonkeyPatch, error: Exception) -> list[int]:
    """The second write of the test (its first batch's second transaction) raises ``error``;
    the calls made so far, counted."""
    save = OnlineRepository.save
    calls = [0]

    def failing(self: OnlineRepository, writes: Any, now: Any, *, commit: bool) -> None:
        calls[0] += 1
        if calls[0] == 2:
            raise error
        save(self, writes, now, commit=commit)

    monkeypatch.setattr(OnlineRepository, "save", failing)
    return calls


def _until(condition: Callable[[], bool], seconds: float = 20) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_a_batch_commits_the_usages_of_the_subscriptions_free_while_another_transaction_holds_one(
        engine: Engine) -> None:
    runtimes, contexts = RuntimeCache(), ContextCache()
    _post(engine, [_movie(f"sub-{i}", id=f"warm-{i}") for i in range(5)], runtimes, contexts)  # every row made
    _, release = _holding(engine, "sub-1")
    answers: list[Any] = []
    worker = threading.Thread(target=lambda: answers.extend(_post(
        engine, [_movie("sub-0", id="a"), _movie("sub-1", id="b"), _movie("sub-2", id="c")], runtimes, contexts)))
    try:
        worker.start()
        # sub-0's and sub-2's usages are stored while sub-1 is still held: they did not wait for it
        assert _until(lambda: {"a", "c"} <= {i for ids in _stored(engine).values() for i in ids}), _stored(engine)
        assert "b" not in _stored(engine).get("sub-1", [])
        assert worker.is_alive()  # sub-1's usage waits for its lock
    finally:
        release()
    worker.join(timeout=30)
    assert not worker.is_alive()
    assert [(json.loads(answer)["id"], created) for answer, created in answers] == [
        ("a", True), ("b", True), ("c", True)]  # answered in the order posted
    assert _stored(engine)["sub-1"] == ["b", "warm-1"]
    _charged_right(engine)


def test_a_batch_run_again_after_its_second_transaction_failed_rates_nothing_twice(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    runtimes, contexts = RuntimeCache(), ContextCache()
    _post(engine, [_movie(f"sub-{i}", id=f"warm-{i}") for i in range(5)], runtimes, contexts)
    # the second transaction of the first run: a race for a usage id lost
    calls = _second_save_fails(monkeypatch, KeyTaken("a usage with this id was stored meanwhile"))
    _, release = _holding(engine, "sub-1")
    answers: list[Any] = []
    # sub-0's usage has no id: the service draws one, in the first transaction
    worker = threading.Thread(target=lambda: answers.extend(_post(
        engine, [_movie("sub-0"), _movie("sub-1", id="b")], runtimes, contexts)))
    try:
        worker.start()
        assert _until(lambda: len(_stored(engine).get("sub-0", [])) == 2), _stored(engine)
    finally:
        release()
    worker.join(timeout=30)
    assert not worker.is_alive() and calls[0] >= 3 and len(answers) == 2
    stored = _stored(engine)
    assert len(stored["sub-0"]) == 2 and stored["sub-1"] == ["b", "warm-1"]  # one usage each, not two
    _charged_right(engine)


def test_concurrent_batches_drawn_from_the_same_subscriptions_lose_no_update(engine: Engine) -> None:
    runtimes, contexts = RuntimeCache(), ContextCache()
    threads, batches, size = 6, 8, 12
    failures: list[str] = []

    def client(n: int) -> None:
        rng = random.Random(n)
        try:
            for b in range(batches):
                bodies = [_movie(f"sub-{rng.randrange(5)}", hour=rng.randrange(24)) for _ in range(size)]
                answered = _post(engine, bodies, runtimes, contexts)
                assert len(answered) == size and all(created for _, created in answered)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(repr(exc))

    pool = [threading.Thread(target=client, args=(n,)) for n in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join(timeout=120)
    assert not failures, failures
    assert sum(len(ids) for ids in _stored(engine).values()) == threads * batches * size
    _charged_right(engine)


def test_a_worker_of_the_previous_version_still_reads_with_the_function_it_knows(engine: Engine) -> None:
    """During a rolling restart the workers not yet restarted call the read without ``skip``
    (migration 0014 keeps it): it still locks, and answers the six parts they unpack."""
    call = ("SELECT bssrules_online_read(ARRAY['sub-0', 'sub-1'], ARRAY[]::text[], ARRAY[]::text[], "
            "ARRAY[]::text[], ARRAY[]::text[], NULL::text, ARRAY[NULL, NULL]::timestamptz[]{})")
    with engine.begin() as connection:
        old = json.loads(connection.execute(text(call.format(""))).scalar_one())
        new = json.loads(connection.execute(text(call.format(", true"))).scalar_one())
    assert len(old) == 6 and [s for s, _ in old[0]] == ["sub-0", "sub-1"]
    # (the buckets' documents aside: since migration 0016 the read answers one only when rating reads it)
    assert len(new) == 7 and new[:2] == old[:2] and new[3] == old[3] and new[6] == []
    assert [b[:16] for b in new[2]] == [b[:16] for b in old[2]] and all(b[16] == {} for b in new[2])


def test_a_failure_of_the_second_transaction_says_what_the_first_stored_and_a_resend_rates_nothing_twice(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    from bssrules.services.records import PartlyStored

    runtimes, contexts = RuntimeCache(), ContextCache()
    _post(engine, [_movie(f"sub-{i}", id=f"warm-{i}") for i in range(5)], runtimes, contexts)
    # the second transaction: the database gone
    _second_save_fails(monkeypatch, RuntimeError("server closed the connection unexpectedly\nThis probably means …"))
    _, release = _holding(engine, "sub-1")
    bodies = [_movie("sub-0"), _movie("sub-1", id="b")]
    failures: list[PartlyStored] = []

    def post() -> None:
        try:
            _post(engine, bodies, runtimes, contexts)
        except PartlyStored as exc:
            failures.append(exc)

    worker = threading.Thread(target=post)
    try:
        worker.start()
        assert _until(lambda: len(_stored(engine).get("sub-0", [])) == 2), _stored(engine)
    finally:
        release()
    worker.join(timeout=30)
    [failure] = failures
    [(index, drawn)] = failure.stored
    assert index == 0 and drawn in _stored(engine)["sub-0"]
    assert "server closed the connection unexpectedly" in str(failure) and "This probably" not in str(failure)
    assert "b" not in _stored(engine).get("sub-1", [])
    # sent again with the id drawn: the first usage answered as stored, the second rated
    answers = _post(engine, [{**bodies[0], "id": drawn}, bodies[1]], runtimes, contexts)
    assert [created for _, created in answers] == [False, True]
    assert len(_stored(engine)["sub-0"]) == 2 and _stored(engine)["sub-1"] == ["b", "warm-1"]
    _charged_right(engine)
