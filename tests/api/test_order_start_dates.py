"""Products start when the order says (issue 15, item 3), on both tiers: the order's or an
item's ``requestedStartDate``, or the ``startDate`` the operator gives on completion, within
the limits the operator sets (BSSRULES_ORDER_MAX_BACKDATE; a partner cannot backdate unless
BSSRULES_PARTNER_MAX_BACKDATE allows); a usage dated further ahead than the operator's
tolerance (BSSRULES_USAGE_FUTURE_TOLERANCE, 15 minutes by default) is rejected with its
reason, kept, and rates nothing."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bssrules.rules.project import load_project
from bssrules.services import catalog as services
from bssrules.store import UnitOfWork
from tests.api.session_app import ADMIN_KEY, AppFor, keyed_app_on_engine

ROOT = Path(__file__).resolve().parents[2]
ORDER = "/tmf-api/productOrderingManagement/v4/productOrder"
PARTY, ACCOUNT = "/tmf-api/party/v4", "/tmf-api/accountManagement/v4"
INVENTORY = "/tmf-api/productInventory/v4/product"
USAGE_API = "/tmf-api/usageManagement/v4"
USAGE = f"{USAGE_API}/usage"
BUCKETS = "/tmf-api/prepayBalanceManagement/v4/bucket"
PARTNER = "/tmf-api/partnerManagement/v4/partner"
MERGE = {"content-type": "application/merge-patch+json"}
UTC = dt.timezone.utc


def _instant(value: dt.datetime) -> str:
    return value.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _parsed(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _now() -> dt.datetime:
    return dt.datetime.now(UTC).replace(microsecond=0)


def _item(id: str, offering: str, characteristics: dict[str, Any] | None = None, resources: list[str] | None = None,
          **more: Any) -> dict[str, Any]:
    product: dict[str, Any] = {}
    if characteristics:
        product["productCharacteristic"] = [{"name": k, "value": v} for k, v in characteristics.items()]
    if resources:
        product["realizingResource"] = [{"id": r} for r in resources]
    return {"id": id, "action": "add", "quantity": 1, "productOffering": {"id": offering},
            **({"product": product} if product else {}), **more}


def _items(**plan: Any) -> list[dict[str, Any]]:
    return [_item("1", "mobile-telephony-plan", {"simFormFactor": "SMALL"}, ["sim-small"], **plan),
            _item("2", "smartphone", {"model": "smartphone"}, ["terminal-smartphone"])]


def _load(engine: Engine, *examples: str) -> None:
    for example in examples:
        with UnitOfWork(engine) as uow:
            services.load_project(uow, load_project(ROOT / "examples" / example), example)


@pytest.fixture
def http(engine: Engine, app_for: AppFor) -> Iterator[TestClient]:
    """The operator's client (authentication off: every caller is the operator)."""
    _load(engine, "devices", "roaming")
    with app_for(engine) as app, TestClient(app) as client:
        assert client.post(f"{PARTY}/individual", json={"id": "ana", "givenName": "Ana", "familyName": "S"}
                           ).status_code == 201
        assert client.post(f"{ACCOUNT}/billingAccount", json={"id": "ba-ana", "name": "Ana", "relatedParty": [
            {"id": "ana", "name": "Ana", "role": "owner", "@referredType": "Individual"}]}).status_code == 201
        yield client


CUSTOMER = [{"id": "ana", "role": "customer", "@referredType": "Individual"}]


def _place(client: TestClient, headers: dict[str, str] | None = None, **body: Any) -> Any:
    return client.post(ORDER, json={"relatedParty": CUSTOMER, "productOrderItem": _items(), **body},
                       headers=headers or {})


def _complete(client: TestClient, order_id: str, headers: dict[str, str] | None = None, **more: Any) -> Any:
    moved = client.patch(f"{ORDER}/{order_id}", json={"state": "inProgress"}, headers={**MERGE, **(headers or {})})
    assert moved.status_code == 200, moved.text
    return client.patch(f"{ORDER}/{order_id}", json={"state": "completed", **more}, headers={**MERGE, **(headers or {})})


def _starts(client: TestClient, order_id: str, headers: dict[str, str] | None = None) -> dict[str, str]:
    products = client.get(INVENTORY, headers=headers or {}).json()
    return {p["productOffering"]["id"]: p["startDate"] for p in products
            if p["productOrderItem"][0]["productOrderId"] == order_id}


def test_the_products_start_at_the_order_s_requested_start_date(http: TestClient) -> None:
    order = _place(http, requestedStartDate="2026-03-01").json()
    assert _complete(http, order["id"]).status_code == 200
    assert _starts(http, order["id"]) == {"mobile-telephony-plan": "2026-03-01T00:00:00Z",
                                          "smartphone": "2026-03-01T00:00:00Z"}


def test_an_item_s_requested_start_date_is_its_own_and_without_any_the_products_start_on_completion(
        http: TestClient) -> None:
    order = http.post(ORDER, json={"relatedParty": CUSTOMER, "requestedStartDate": "2026-03-01T00:00:00Z",
                                   "productOrderItem": _items(requestedStartDate="2026-04-15T08:30:00Z")}).json()
    assert _complete(http, order["id"]).status_code == 200
    assert _starts(http, order["id"]) == {"mobile-telephony-plan": "2026-04-15T08:30:00Z",
                                          "smartphone": "2026-03-01T00:00:00Z"}
    before = _now()
    plain = _place(http).json()
    completed = _complete(http, plain["id"]).json()
    starts = _starts(http, plain["id"])
    assert set(starts.values()) == {completed["completionDate"]} and _parsed(completed["completionDate"]) >= before


def test_the_operator_gives_a_product_its_start_date_on_completion(http: TestClient) -> None:
    order = _place(http, requestedStartDate="2026-03-01").json()
    completed = _complete(http, order["id"], productOrderItem=[
        {"id": "2", "action": "add", "product": {"startDate": "2026-02-14T09:00:00+01:00"}}])
    assert completed.status_code == 200, completed.text
    assert _starts(http, order["id"]) == {"mobile-telephony-plan": "2026-03-01T00:00:00Z",
                                          "smartphone": "2026-02-14T08:00:00Z"}


@pytest.mark.parametrize(("items", "path", "message"), [
    ([{"id": "9", "action": "add", "product": {"startDate": "2026-02-14"}}], "productOrderItem[0].id",
     "the order has no item '9' that adds a product; its items: 1, 2"),
    ([{"id": "1", "action": "add", "product": {"startDate": "soon"}}], "productOrderItem[0].product.startDate", "'soon' is not a date"),
    ([{"id": "1", "action": "add", "product": {"startDate": "2026-02-14", "status": "active"}}], "productOrderItem[0]",
     "on completion an item gives only its id and its product's startDate"),
    ([{"id": "1", "action": "add", "product": {}}], "productOrderItem[0].product.startDate is required", ""),
    ({"id": "1"}, "the body does not conform to ProductOrder_Update: productOrderItem", "expected array"),
    ([{"id": "1", "action": "modify", "product": {"startDate": "2026-02-14"}}], "productOrderItem[0]",
     "on completion an item gives only its id and its product's startDate"),
])
def test_a_wrong_start_date_on_completion_is_refused_and_changes_nothing(http: TestClient, items: Any, path: str,
                                                                         message: str) -> None:
    order = _place(http, requestedStartDate="2026-03-01").json()
    refused = _complete(http, order["id"], productOrderItem=items)
    assert refused.status_code == 400, refused.text
    assert refused.json()["message"].startswith(path)
    assert message in refused.json()["message"]
    assert http.get(f"{ORDER}/{order['id']}").json()["state"] == "inProgress"
    assert _starts(http, order["id"]) == {}


def test_start_dates_are_given_only_when_completing(http: TestClient) -> None:
    order = _place(http).json()
    refused = http.patch(f"{ORDER}/{order['id']}", headers=MERGE, json={
        "state": "inProgress", "productOrderItem": [{"id": "1", "action": "add", "product": {"startDate": "2026-02-14"}}]})
    assert refused.status_code == 400 and "only when completing" in refused.json()["message"]
    assert http.get(f"{ORDER}/{order['id']}").json()["state"] == "acknowledged"


def test_the_operator_s_limit_on_backdating_refuses_an_order_or_a_start_date_further_back(
        http: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BSSRULES_ORDER_MAX_BACKDATE", "30d")
    now = _now()
    refused = _place(http, requestedStartDate=_instant(now - dt.timedelta(days=45)))
    assert refused.status_code == 400, refused.text
    assert refused.json()["message"].startswith("requestedStartDate: 20")
    assert "is more than 30d before now" in refused.json()["message"]
    assert "BSSRULES_ORDER_MAX_BACKDATE" in refused.json()["message"]
    item_refused = http.post(ORDER, json={"relatedParty": CUSTOMER, "productOrderItem": _items(
        requestedStartDate=_instant(now - dt.timedelta(days=31)))})
    assert item_refused.status_code == 400
    assert item_refused.json()["message"].startswith("productOrderItem[0].requestedStartDate: 20")
    assert http.get(ORDER).json() == []
    within = _place(http, requestedStartDate=_instant(now - dt.timedelta(days=20))).json()
    too_far = _complete(http, within["id"], productOrderItem=[
        {"id": "1", "action": "add", "product": {"startDate": _instant(now - dt.timedelta(days=40))}}])
    assert too_far.status_code == 400 and "is more than 30d before now" in too_far.json()["message"]
    assert _complete_again(http, within["id"]).status_code == 200
    assert set(_starts(http, within["id"]).values()) == {_instant(now - dt.timedelta(days=20))}


def _complete_again(client: TestClient, order_id: str) -> Any:
    return client.patch(f"{ORDER}/{order_id}", json={"state": "completed"}, headers=MERGE)


def test_a_limit_that_is_no_duration_is_said_with_its_name(http: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from bssrules.services.dating import DatingPolicy

    monkeypatch.setenv("BSSRULES_USAGE_FUTURE_TOLERANCE", "a while")
    with pytest.raises(ValueError, match="BSSRULES_USAGE_FUTURE_TOLERANCE: 'a while' is not a duration"):
        DatingPolicy.from_env()
    monkeypatch.setenv("BSSRULES_USAGE_FUTURE_TOLERANCE", "none")
    assert DatingPolicy.from_env().usage_future is None


# ------------------------------------------------------------------ a partner cannot backdate


class Keyed:
    """A client of an app with authentication on, and the operator's key."""

    def __init__(self, app: Any):
        self.admin = ADMIN_KEY
        self.client = TestClient(app)

    def call(self, method: str, path: str, key: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {key}"}
        if method == "PATCH":
            headers.update(MERGE)
        elif method == "POST":
            headers["content-type"] = "application/json"
        return self.client.request(method, path, headers=headers, content=None if body is None else json.dumps(body))

    def ok(self, method: str, path: str, key: str, body: Any = None) -> Any:
        response = self.call(method, path, key, body)
        assert response.status_code in (200, 201), f"{method} {path}: {response.status_code} {response.text}"
        return response.json()


@pytest.fixture
def keyed(engine: Engine, keyed_app_on_engine: Any) -> Iterator[tuple[Keyed, str]]:
    _load(engine, "devices")
    api = Keyed(keyed_app_on_engine)
    with api.client:
        created = api.ok("POST", PARTNER, api.admin, {"id": "shop", "name": "Shop", "role": "partner", "apiBundle": {
            "name": "shop", "api": [{"name": n} for n in ("TMF632", "TMF666", "TMF622", "TMF637")]}})
        key = created["apiKey"]
        api.ok("POST", f"{PARTY}/individual", key, {"id": "pat", "givenName": "Pat", "familyName": "P"})
        api.ok("POST", f"{ACCOUNT}/billingAccount", key, {"id": "ba-pat", "name": "Pat", "relatedParty": [
            {"id": "pat", "name": "Pat", "role": "owner", "@referredType": "Individual"}]})
        yield api, key


def _partner_order(api: Keyed, key: str, start: dt.datetime) -> str:
    order = api.ok("POST", ORDER, key, {"relatedParty": [{"id": "pat", "role": "customer",
                                                          "@referredType": "Individual"}],
                                        "requestedStartDate": _instant(start), "productOrderItem": _items()})
    for state in ("inProgress", "completed"):
        api.ok("PATCH", f"{ORDER}/{order['id']}", api.admin, {"state": state})
    return str(order["id"])


def _partner_starts(api: Keyed, key: str, order_id: str) -> set[str]:
    return {p["startDate"] for p in api.ok("GET", INVENTORY, key)
            if p["productOrderItem"][0]["productOrderId"] == order_id}


def test_a_partner_s_products_never_start_before_its_order_completes(keyed: tuple[Keyed, str]) -> None:
    api, key = keyed
    before = _now()
    order_id = _partner_order(api, key, before - dt.timedelta(days=60))
    (start,) = _partner_starts(api, key, order_id)
    completed = api.ok("GET", f"{ORDER}/{order_id}", api.admin)["completionDate"]
    assert start == completed and _parsed(start) >= before
    later = before + dt.timedelta(days=10)  # a start ahead is the partner's to ask
    assert _partner_starts(api, key, _partner_order(api, key, later)) == {_instant(later)}


def test_the_operator_may_let_partners_backdate_a_little(keyed: tuple[Keyed, str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    api, key = keyed
    monkeypatch.setenv("BSSRULES_PARTNER_MAX_BACKDATE", "7d")
    before = _now()
    assert _partner_starts(api, key, _partner_order(api, key, before - dt.timedelta(days=3))) == {
        _instant(before - dt.timedelta(days=3))}
    (start,) = _partner_starts(api, key, _partner_order(api, key, before - dt.timedelta(days=30)))
    assert before - dt.timedelta(days=7) <= _parsed(start) <= _now() - dt.timedelta(days=7)


def test_the_operator_sets_a_partner_s_product_start_on_completion(keyed: tuple[Keyed, str]) -> None:
    api, key = keyed
    order = api.ok("POST", ORDER, key, {"relatedParty": [{"id": "pat", "role": "customer",
                                                          "@referredType": "Individual"}],
                                        "productOrderItem": _items()})
    api.ok("PATCH", f"{ORDER}/{order['id']}", api.admin, {"state": "inProgress"})
    api.ok("PATCH", f"{ORDER}/{order['id']}", api.admin, {"state": "completed", "productOrderItem": [
        {"id": "1", "action": "add", "product": {"startDate": "2026-01-05"}},
        {"id": "2", "action": "add", "product": {"startDate": "2026-01-05"}}]})
    assert _partner_starts(api, key, order["id"]) == {"2026-01-05T00:00:00Z"}


# ------------------------------------------------------------------ usage far in the future


def _usage(id: str, at: dt.datetime) -> dict[str, Any]:
    return {"id": id, "usageDate": _instant(at), "usageType": "data", "usageCharacteristic": [
        {"name": "productId", "value": "line-1"}, {"name": "service", "value": "data"},
        {"name": "volume", "value": 10}, {"name": "unit", "value": "MB"}]}


def _rating_state(client: TestClient) -> Any:
    """What rating has counted for line-1: its accumulators, its usage so far, its buckets."""
    return (client.get(f"{USAGE_API}/accumulator", params={"product": "line-1"}).json(),
            client.get(f"{USAGE_API}/aggregatedUsage", params={"product": "line-1"}).json(),
            client.get(BUCKETS, params={"product.id": "line-1"}).json())


def test_usage_dated_further_ahead_than_the_operator_s_tolerance_is_rejected_with_why(
        http: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    assert http.post(INVENTORY, json={
        "id": "line-1", "status": "active", "startDate": "2026-01-01T00:00:00Z",
        "productOffering": {"id": "mobile-data-plan"}, "billingAccount": {"id": "ba-ana"},
        "relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}]}).status_code == 201
    now = _now()
    assert http.post(USAGE, json=_usage("before", now - dt.timedelta(hours=1))).json()["status"] == "rated"
    counted = _rating_state(http)
    # the default tolerance, 15 minutes: a clock a little fast passes, a time-zone error does not
    late = http.post(USAGE, json=_usage("late", now + dt.timedelta(minutes=20))).json()
    assert late["status"] == "rejected"
    (reason,) = late["rejectionReason"]
    assert reason["code"] == "usageInFuture" and "more than 15m after it arrived" in reason["label"], reason
    assert "BSSRULES_USAGE_FUTURE_TOLERANCE" in reason["label"]
    assert _rating_state(http) == counted  # refused: nothing rated, nothing counted
    kept = http.get(f"{USAGE}/late").json()
    assert kept["status"] == "rejected" and "usageInFuture" in json.dumps(kept)
    assert http.post(USAGE, json=_usage("an-hour-off", now + dt.timedelta(hours=1))).json()["status"] == "rejected"
    skewed = http.post(USAGE, json=_usage("skewed", now + dt.timedelta(minutes=10))).json()
    assert skewed["status"] == "rated", skewed
    assert _rating_state(http) != counted
    monkeypatch.setenv("BSSRULES_USAGE_FUTURE_TOLERANCE", "2h")
    assert http.post(USAGE, json=_usage("soon", now + dt.timedelta(minutes=90))).json()["status"] == "rated"
    assert "more than 2h after it arrived" in json.dumps(http.post(USAGE, json=_usage(
        "later", now + dt.timedelta(hours=3))).json())


def test_the_default_tolerance_is_fifteen_minutes(monkeypatch: pytest.MonkeyPatch) -> None:
    from bssrules.services.dating import DatingPolicy

    monkeypatch.delenv("BSSRULES_USAGE_FUTURE_TOLERANCE", raising=False)
    assert DatingPolicy.from_env().usage_future == DatingPolicy().usage_future == dt.timedelta(minutes=15)


def test_a_server_with_a_limit_that_is_no_duration_does_not_start(engine: Engine, app_for: AppFor,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BSSRULES_PARTNER_MAX_BACKDATE", "-3d")
    with pytest.raises(ValueError, match="BSSRULES_PARTNER_MAX_BACKDATE: '-3d' is not a duration"):
        with app_for(engine) as app, TestClient(app):
            pass
