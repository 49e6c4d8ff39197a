"""Online rating reads only the buckets that can serve the usages it rates (issue 12, item 3):
not the allowance buckets of past months (twelve a year per allowance), except each
allowance's newest, which a month's new bucket carries over from. On SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bssrules.store.online import OnlineRepository
from tests.integration.test_allowance_round_trips import USAGE, _data, http  # noqa: F401 - the fixture

BUCKETS = "/tmf-api/prepayBalanceManagement/v4/bucket"


def _post(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    answer = client.post(USAGE, json=body)
    assert answer.status_code == 201, answer.text
    usage: dict[str, Any] = json.loads(answer.text, parse_float=Decimal)
    assert usage["status"] == "rated", usage
    return usage


def _read_ids(engine: Engine, since: dt.datetime | None) -> list[str]:
    with engine.connect() as connection:
        state = OnlineRepository(connection).read([], ["with-plan"], [], None,
                                                  None if since is None else {"with-plan": since})
        connection.rollback()
    return sorted(b.id for b in state.buckets)


def test_past_months_buckets_are_not_read_but_the_newest_is(http: TestClient, engine: Engine) -> None:  # noqa: F811
    for month in range(1, 7):
        _post(http, _data(f"u-{month}", "with-plan", f"2026-{month:02d}-03T10:00:00Z"))
    every = _read_ids(engine, None)
    assert [i[-7:] for i in every] == [f"2026-{m:02d}" for m in range(1, 7)]
    # a usage of July: June's bucket (ended before; the newest) and nothing older
    assert [i[-7:] for i in _read_ids(engine, dt.datetime(2026, 7, 3, tzinfo=dt.timezone.utc))] == ["2026-06"]
    # a usage of June: June's serves, May's is the newest ended before
    assert [i[-7:] for i in _read_ids(engine, dt.datetime(2026, 6, 30, tzinfo=dt.timezone.utc))] == [
        "2026-05", "2026-06"]
    # a late usage of March: March's on (each can serve from then), February's the newest ended before
    assert [i[-7:] for i in _read_ids(engine, dt.datetime(2026, 3, 31, 23, tzinfo=dt.timezone.utc))] == [
        "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]


def test_a_new_months_bucket_carries_over_from_the_previous_bucket_not_read_as_serving(
        http: TestClient) -> None:  # noqa: F811
    _post(http, _data("jan", "with-plan", "2026-01-02T10:00:00Z") | {"usageCharacteristic": [
        {"name": "productId", "value": "with-plan"}, {"name": "service", "value": "data"},
        {"name": "volume", "value": 2800}, {"name": "unit", "value": "MB"}]})
    _post(http, _data("feb", "with-plan", "2026-02-03T10:00:00Z"))
    buckets = {b["allowance"]["period"]: b for b in http.get(BUCKETS, params={"product.id": "with-plan"}).json()}
    # January left 0.2 GB (3 GB, 2.8 used): February carries it over (a quiet January would give 1 GB)
    assert Decimal(str(buckets["2026-02"]["allowance"]["carriedOver"]["amount"])) == Decimal("0.2")
