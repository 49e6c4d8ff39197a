"""Migration 0007 on both databases: buckets, accumulators and usages written in the old
format (documents of the generic resource table, with their attribute rows) move to the hot
tables exactly — balances and totals as scaled integers, money to the minor unit — every
product gets its subscription row, charges keep their rows under the new key; the
downgrade writes the same documents back."""
from __future__ import annotations

import datetime as dt
import os
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import pytest
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url

from bssrules import jsontext
from bssrules.services.records import document_attributes
from bssrules.store.db import database_url, downgrade, make_engine, upgrade
from bssrules.store.uow import UnitOfWork

NOW = dt.datetime(2026, 6, 3, 10, 0, tzinfo=dt.timezone.utc)
BUCKET = {"usageType": "sms", "product": [{"id": "line-1"}], "status": "active", "precedence": 5,
          "remainingValue": {"amount": Decimal("7.5"), "units": "message"},
          "initialValue": {"amount": 10, "units": "message"}, "name": "SMS pack"}
MONEY = {"usageType": "any", "product": [{"id": "line-1"}], "status": "active", "floor": -5,
         "remainingValue": {"amount": Decimal("12.34"), "units": "EUR"}, "initialValue": {"amount": 20, "units": "EUR"},
         "validFor": {"startDateTime": "2026-06-01T00:00:00Z", "endDateTime": "2026-07-01T00:00:00Z"}}
ACCUMULATOR = {"accumulator": "mobile-usage/roaming-budget", "subscriber": "line-1", "period": "2026-06",
               "volume": Decimal("1024.5"), "amount": Decimal("51.20"), "reached": ["budget-warning", "budget-block"]}
USAGE = {"usageDate": "2026-06-03T10:00:00Z", "usageType": "data", "status": "rated",
         "usageCharacteristic": [{"name": "productId", "value": "line-1"}],
         "ratedBy": {"ruleSet": "mobile-usage", "rule": "roaming-data", "amount": {"unit": "EUR", "value": Decimal("15.00")}}}
REJECTED = {"usageDate": "yesterday", "status": "rejected", "rejectionReason": [{"code": "malformed", "label": "x"}]}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def old_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An empty database migrated to 0006 (before the hot tables)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}", migrate=False)
        upgrade(engine, "0006")
        yield engine
        engine.dispose()
        return
    server = os.environ.get("BSSRULES_TEST_POSTGRES_URL")
    if not server:
        pytest.skip("PostgreSQL tier skipped: BSSRULES_TEST_POSTGRES_URL is not set")
    admin_url = make_url(database_url(server))
    name = f"bssrules_migration_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(admin_url.set(database=name).render_as_string(hide_password=False), migrate=False)
    try:
        upgrade(engine, "0006")
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def _resource(connection: Any, kind: str, id: str, document: dict[str, Any], *, state: str | None = None,
              party: str | None = None, partner: str | None = None) -> None:
    connection.execute(text("INSERT INTO resource (kind, id, version, created, last_update, state, party_id, "
                            "partner_id, external_id, document) VALUES (:kind, :id, 3, :now, :now, :state, :party, "
                            ":partner, NULL, :document)"),
                       {"kind": kind, "id": id, "now": NOW, "state": state, "party": party, "partner": partner,
                        "document": jsontext.dumps(document, sort_keys=True)})
    rows = [{"kind": kind, "id": id, "path": p, "value": v} for p, v in sorted(set(document_attributes(document)))]
    if rows:
        connection.execute(text("INSERT INTO resource_attribute (kind, resource_id, path, value) "
                                "VALUES (:kind, :id, :path, :value)"), rows)


def _old_data(engine: Engine) -> None:
    with engine.begin() as connection:
        _resource(connection, "product", "line-1", {"status": "active", "relatedParty": [{"id": "ana"}]},
                  state="active", party="ana", partner="car-maker")
        _resource(connection, "bucket", "sms-pack", BUCKET, state="active", party="line-1", partner="car-maker")
        _resource(connection, "bucket", "money", MONEY, state="active", party="line-1", partner="car-maker")
        _resource(connection, "accumulator", "mobile-usage/roaming-budget|line-1|2026-06", ACCUMULATOR,
                  party="line-1", partner="car-maker")
        _resource(connection, "usage", "u-1", USAGE, state="rated", party="line-1", partner="car-maker")
        _resource(connection, "usage", "u-2", REJECTED, state="rejected")
        connection.execute(text("INSERT INTO rated_charge (usage_id, part, subscriber, billing_account, payer_role, "
                                "service, offering, start, amount_minor, currency, bill_id) VALUES ('u-1', 0, "
                                "'line-1', 'ba-ana', 'payer', 'data', 'plan', :now, 1500, 'EUR', NULL)"), {"now": NOW})


def _documents(engine: Engine, kind: str) -> dict[str, Any]:
    with engine.connect() as connection:
        return {r.id: jsontext.loads(r.document) for r in connection.execute(
            text("SELECT id, document FROM resource WHERE kind = :kind"), {"kind": kind})}


def test_the_migration_moves_buckets_accumulators_and_usages_to_the_hot_tables_and_back(old_engine: Engine) -> None:
    _old_data(old_engine)
    before = {kind: _documents(old_engine, kind) for kind in ("bucket", "accumulator", "usage")}
    upgrade(old_engine)

    with old_engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM resource WHERE kind IN ('bucket', 'accumulator', "
                                       "'usage')")).scalar_one() == 0
        assert connection.execute(text("SELECT count(*) FROM resource_attribute WHERE kind IN ('bucket', "
                                       "'accumulator', 'usage')")).scalar_one() == 0
        buckets = {r.id: r for r in connection.execute(text("SELECT * FROM bucket"))}
        assert (buckets["sms-pack"].remaining, buckets["sms-pack"].scale) == (75, 1)
        assert (buckets["money"].remaining, buckets["money"].scale) == (1234, 2)
        assert (buckets["money"].floor, buckets["money"].floor_scale, buckets["money"].usage_type) == (-5, 0, None)
        assert (buckets["sms-pack"].usage_type, buckets["sms-pack"].precedence) == ("sms", 5)
        assert {b.subscription for b in buckets.values()} == {"line-1"}
        [total] = connection.execute(text("SELECT * FROM accumulator")).fetchall()
        assert (total.subscription, total.accumulator, total.period) == ("line-1", "mobile-usage/roaming-budget",
                                                                         "2026-06")
        assert (total.volume, total.volume_scale, total.amount, total.amount_scale) == (10245, 1, 5120, 2)
        usages = {r.id: r for r in connection.execute(text("SELECT * FROM usage_record"))}
        assert {(u.id, u.subscription, u.status) for u in usages.values()} == {("u-1", "line-1", "rated"),
                                                                               ("u-2", "", "rejected")}
        assert connection.execute(text("SELECT id, revision FROM subscription")).fetchall() == [("line-1", 1)]
        [charge] = connection.execute(text("SELECT subscriber, usage_id, part, amount_minor FROM rated_charge"))
        assert tuple(charge) == ("line-1", "u-1", 0, 1500)

    # the use cases read them as before
    from bssrules.services import buckets as bucket_service
    from bssrules.services import usage as usage_service

    with UnitOfWork(old_engine) as uow:
        sms = bucket_service.get_bucket(uow, "sms-pack")
        assert sms["remainingValue"] == {"amount": Decimal("7.5"), "units": "message"} and sms["name"] == "SMS pack"
        assert bucket_service.get_bucket(uow, "money")["validFor"] == MONEY["validFor"]
        assert usage_service.get_usage(uow, "u-1")["ratedBy"] == USAGE["ratedBy"]
        [shown] = usage_service.list_accumulators(uow, "line-1")
        assert (shown["volume"], shown["amount"], shown["reached"]) == (Decimal("1024.5"), Decimal("51.20"),
                                                                       ACCUMULATOR["reached"])
        assert [u["id"] for u in usage_service.list_usage(uow, {"ratedBy.rule": ["roaming-data"]}, 0, 10)[0]] == \
            ["u-1"]

    downgrade(old_engine, "0006")
    after = {kind: _documents(old_engine, kind) for kind in ("bucket", "accumulator", "usage")}
    assert after == before
    with old_engine.connect() as connection:
        indexed = connection.execute(text("SELECT count(*) FROM resource_attribute WHERE kind = 'bucket' AND "
                                          "path = 'product.id' AND value = 'line-1'")).scalar_one()
        assert indexed == 2
        assert connection.execute(text("SELECT usage_id, part, subscriber FROM rated_charge")).fetchall() == [
            ("u-1", 0, "line-1")]
    upgrade(old_engine)  # and up again


def _resource_indexes(engine: Engine) -> dict[str, tuple[str, ...]]:
    with engine.connect() as connection:
        return {i["name"]: tuple(i["column_names"]) for i in inspect(connection).get_indexes("resource")}


def test_migration_0012_indexes_the_resources_by_partner_and_the_downgrade_drops_it(old_engine: Engine) -> None:
    """Every partner-scoped list filters the generic resource table on (kind, partner_id)."""
    upgrade(old_engine, "0011")
    with old_engine.begin() as connection:
        _resource(connection, "individual", "ana", {"givenName": "Ana"}, partner="p1")
    assert "ix_resource_partner" not in _resource_indexes(old_engine)
    upgrade(old_engine)
    assert _resource_indexes(old_engine)["ix_resource_partner"] == ("kind", "partner_id")
    downgrade(old_engine, "0011")
    assert "ix_resource_partner" not in _resource_indexes(old_engine)
    upgrade(old_engine)  # and up again, the row kept
    assert _resource_indexes(old_engine)["ix_resource_partner"] == ("kind", "partner_id")
    with old_engine.connect() as connection:
        assert connection.execute(text("SELECT partner_id FROM resource WHERE id = 'ana'")).scalar_one() == "p1"
