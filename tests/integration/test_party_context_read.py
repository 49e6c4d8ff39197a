"""The one read of a basket's parties (``ResourceRepository.party_context``, issue 13): the
party, its customer record, its products and the payers' first billing accounts in a single
statement, each part as ``get`` / ``find`` reads it, in the caller's scope; on SQLite and
PostgreSQL."""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterator

import pytest
from sqlalchemy import Engine, event

from bssrules.services.records import StoredResource
from bssrules.store import UnitOfWork
from bssrules.store.repository import RevisionSeen
from bssrules.store.resources import ResourceRepository

T0 = dt.datetime(2026, 5, 1, 8, tzinfo=dt.timezone.utc)


def _put(repository: ResourceRepository, kind: str, id: str, document: dict[str, Any],
         partner: str | None = None) -> None:
    repository.insert(StoredResource(kind, id, 1, T0, T0, document, partner_id=partner))


def _ref(party: str) -> list[dict[str, str]]:
    return [{"id": party, "role": "owner"}]


@pytest.fixture
def stored(engine: Engine) -> Engine:
    """ana (an individual, a customer, three products of which one names her among others),
    acme (an organization, no customer record), their accounts, and another partner's things."""
    with UnitOfWork(engine) as uow:
        r = uow.all_resources
        _put(r, "individual", "ana", {"givenName": "Ana", "partyCharacteristic": [
            {"name": "classification", "value": "gold"}]}, partner="p1")
        _put(r, "organization", "acme", {"tradingName": "Acme"}, partner="p1")
        _put(r, "individual", "zoe", {"givenName": "Zoe"}, partner="p2")
        _put(r, "customer", "c-ana", {"engagedParty": {"id": "ana"}}, partner="p1")
        for id in ("prod-b", "prod-a", "prod-c"):
            _put(r, "product", id, {"status": "active", "productOffering": {"id": f"o-{id}"},
                                    "relatedParty": _ref("ana") + ([{"id": "acme", "role": "user"}]
                                                                   if id == "prod-c" else [])}, partner="p1")
        _put(r, "product", "prod-zoe", {"relatedParty": _ref("zoe")}, partner="p2")
        _put(r, "product", "prod-ana-p2", {"relatedParty": _ref("ana")}, partner="p2")  # p2's, naming p1's ana
        for id, party in (("ba-2", "acme"), ("ba-1", "acme"), ("ba-ana", "ana"), ("ba-zoe", "zoe")):
            _put(r, "billingAccount", id, {"relatedParty": _ref(party)}, partner="p2" if party == "zoe" else "p1")
        uow.commit()
    return engine


@pytest.fixture
def statements(stored: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(stored, "before_cursor_execute", note)
    yield seen
    event.remove(stored, "before_cursor_execute", note)


def _as_get_and_find(r: ResourceRepository, party: str, payers: list[str]) -> tuple[Any, ...]:
    """What the separate reads the one read replaces give."""
    found = r.get("individual", party) or r.get("organization", party)
    products = r.find("product", {"relatedParty.id": [party]}, 1000)
    accounts = {p: a[0].id for p in payers if (a := r.find("billingAccount", {"relatedParty.id": [p]}, 1))}
    return (found.kind if found else None, found.document if found else None,
            bool(r.find("customer", {"engagedParty.id": [party]}, 1)), [(p.id, p.document) for p in products],
            accounts)


@pytest.mark.parametrize("scope", [None, "p1", "p2"])
@pytest.mark.parametrize("party", ["ana", "acme", "zoe", "nobody"])
def test_the_one_read_gives_what_get_and_find_give_in_every_scope(stored: Engine, scope: str | None,
                                                                  party: str) -> None:
    payers = ["acme", "ana", "zoe", "nobody"]
    with UnitOfWork(stored) as uow:
        r = ResourceRepository(uow.connection, scope)
        rows = r.party_context(party, payers)
        assert (rows.party_kind, rows.party_document, rows.is_customer, rows.products, rows.accounts) == \
            _as_get_and_find(r, party, payers)


def test_it_is_one_statement_and_brings_the_catalog_revision(stored: Engine, statements: list[str]) -> None:
    with UnitOfWork(stored) as uow:
        seen = RevisionSeen()
        rows = ResourceRepository(uow.connection, None, seen).party_context("ana", ["acme", "ana"])
        assert len(statements) == 1, statements
        assert seen.value == 0  # read along (nothing loaded: 0)
    assert rows.party_kind == "individual" and rows.party_document["givenName"] == "Ana"
    assert rows.is_customer
    assert [id for id, _ in rows.products] == ["prod-a", "prod-ana-p2", "prod-b", "prod-c"]  # in id order
    assert rows.accounts == {"acme": "ba-1", "ana": "ba-ana"}  # acme's first account by id


def test_an_organization_without_customer_record(stored: Engine) -> None:
    with UnitOfWork(stored) as uow:
        rows = uow.resources.party_context("acme", [])
    assert (rows.party_kind, rows.is_customer, [id for id, _ in rows.products], rows.accounts) == \
        ("organization", False, ["prod-c"], {})


def test_the_products_are_bounded_in_id_order(stored: Engine) -> None:
    with UnitOfWork(stored) as uow:
        rows = uow.resources.party_context("ana", [], products=2)
    assert [id for id, _ in rows.products] == ["prod-a", "prod-ana-p2"]


def test_ids_that_cannot_be_stored_name_nothing_and_nothing_to_read_is_no_statement(
        stored: Engine, statements: list[str]) -> None:
    with UnitOfWork(stored) as uow:
        rows = uow.resources.party_context(None, [5, {"id": "ana"}, "x" * 129])  # type: ignore[list-item]
        assert statements == []
        assert (rows.party_document, rows.products, rows.accounts) == (None, [], {})
        rows = uow.resources.party_context("x" * 129, ["ana"])
    assert rows.party_document is None and rows.accounts == {"ana": "ba-ana"}


def test_a_partner_does_not_see_another_partners_party_nor_account(stored: Engine) -> None:
    with UnitOfWork(stored) as uow:
        rows = ResourceRepository(uow.connection, "p1").party_context("zoe", ["zoe", "ana"])
    assert rows.party_document is None and rows.accounts == {"ana": "ba-ana"}


def test_many_payers_are_read_in_the_same_one_statement(stored: Engine, statements: list[str]) -> None:
    payers = ["acme", "ana", "zoe"] + [f"nobody-{i}" for i in range(10)]  # more than a kept statement holds
    with UnitOfWork(stored) as uow:
        rows = uow.resources.party_context("ana", payers)
        assert len(statements) == 1
        assert rows.accounts == _as_get_and_find(uow.resources, "ana", payers)[4] == \
            {"acme": "ba-1", "ana": "ba-ana", "zoe": "ba-zoe"}


def test_thousands_of_payers_are_read_in_batches(stored: Engine, statements: list[str]) -> None:
    """A body may name tens of thousands of related parties (4 MiB of them): read a few
    hundred per statement (one statement of them all passes PostgreSQL's 65,535 bound
    parameters, and SQLite's bound where it is built lower)."""
    payers = [f"nobody-{i:05d}" for i in range(70_000)] + ["acme", "zoe"]
    with UnitOfWork(stored) as uow:
        rows = uow.resources.party_context("ana", payers)
    assert rows.accounts == {"acme": "ba-1", "zoe": "ba-zoe"} and rows.is_customer
    assert len(statements) == 141


@pytest.mark.parametrize("scope", [None, "p1", "p2"])
def test_the_read_sent_straight_to_the_driver_gives_what_sqlalchemy_gives(stored: Engine, scope: str | None,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The kept statement goes to the driver's cursor when nothing listens to the statements;
    what it reads is what the same statement executed by SQLAlchemy reads."""
    from bssrules.store import resources

    real = resources._driver_rows
    sent: list[bool] = []

    def spied(*args: Any) -> Any:
        rows = real(*args)
        sent.append(rows is not None)
        return rows

    def read(party: str, payers: list[str]) -> tuple[Any, ...]:
        with UnitOfWork(stored) as uow:
            seen = RevisionSeen()
            rows = ResourceRepository(uow.connection, scope, seen).party_context(party, payers)
            return rows.party_kind, rows.party_document, rows.is_customer, rows.products, rows.accounts, seen.value

    for party in ("ana", "acme", "zoe", "nobody"):
        payers = ["acme", "ana", "zoe", "nobody"][: len(party)]
        monkeypatch.setattr(resources, "_driver_rows", spied)
        straight = read(party, payers)
        monkeypatch.setattr(resources, "_driver_rows", lambda *_: None)
        assert straight == read(party, payers)
    assert sent and all(sent)
