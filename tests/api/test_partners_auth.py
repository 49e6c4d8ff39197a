"""Partners, API keys and API bundles over HTTP, on both tiers, with authentication ON.

* Every route of the app's OpenAPI document under /tmf-api (read from ``app.openapi()``, so a
  new route is covered the day it is added) refuses a request without a key, with a wrong,
  malformed or revoked key (401, TMF Error body, ``WWW-Authenticate``), and a partner whose
  API bundle lacks the API or the operation (403); the administrator's key passes.
* Isolation: partner A's individual, billing account, inventory product, order, usage,
  bucket, bill (and bill items) are a 404 for partner B and absent from B's lists; the
  administrator sees everyone's. Usage, bill and bucket belong to the partner of the product
  (or of the paying account) even when the administrator posts them.
* One visibility rule (``bssrules/store/visibility.py``): what the operator sold — a line A's
  account pays for, a line of A's customer — is A's to read with its usage, running totals,
  bucket and charges (every product A's bill items name is readable), not to change (403),
  and B's to see not at all.
* Keys: rotation (the new key works, the revoked one is a 401), the secret shows only in the
  answer that creates it, and the database keeps only its SHA-256 hash.
* Partner management and bill runs are the administrator's: a partner gets 403.

Expected values (API names, operations, messages) are written here, not derived from the code
under test.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Any, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from bssrules.services import catalog as services
from bssrules.api import create_app
from bssrules.services.partners import make_key
from bssrules.rules.project import load_project
from bssrules.store import UnitOfWork
from tests.api.session_app import ADMIN_KEY, AppFor, keyed_app

ROOT = Path(__file__).resolve().parents[2]
PM = "/tmf-api/partnerManagement/v4"
PARTNER = f"{PM}/partner"
PARTY, ACCOUNT = "/tmf-api/party/v4", "/tmf-api/accountManagement/v4"
INVENTORY = "/tmf-api/productInventory/v4/product"
ORDER = "/tmf-api/productOrderingManagement/v4/productOrder"
USAGE_API = "/tmf-api/usageManagement/v4"
USAGE = f"{USAGE_API}/usage"
BUCKET = "/tmf-api/prepayBalanceManagement/v4/bucket"
BILLING = "/tmf-api/customerBillManagement/v4"
BILL_RUN, BILL, RATE = f"{BILLING}/billRun", f"{BILLING}/customerBill", f"{BILLING}/appliedCustomerBillingRate"
QUERY_CONSUMPTION = "/tmf-api/usageConsumption/v4/queryUsageConsumption"
MERGE = "application/merge-patch+json"
CHALLENGE = 'Bearer realm="bssrules"'
NO_KEY = "send your API key: Authorization: Bearer <key> (or X-API-Key: <key>)"
BAD_KEY = "this API key is unknown or revoked"
KEY_SHAPE = re.compile(r"^bss_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$")

# The API (as a bundle names it) of each /tmf-api path segment — written here, independently
# of bssrules.partners.APIS.
API_OF_SEGMENT = {
    "productCatalogManagement": "TMF620", "troubleTicket": "TMF621", "productOrderingManagement": "TMF622",
    "slaManagement": "TMF623", "customerManagement": "TMF629", "party": "TMF632", "usageManagement": "TMF635",
    "productInventory": "TMF637", "prepayBalanceManagement": "TMF654", "shoppingCart": "TMF663",
    "accountManagement": "TMF666", "usageConsumption": "TMF677", "customerBillManagement": "TMF678",
    "productOfferingQualification": "TMF679", "productConfigurationManagement": "TMF760",
    "partnerManagement": "partner",
}
ALL_OPERATIONS = ("list", "retrieve", "create", "patch", "delete", "subscribe")
EVERY_TMF_API = sorted(set(API_OF_SEGMENT.values()) - {"partner"})


def _routes() -> list[tuple[str, str]]:
    paths = create_app(auth=True).openapi()["paths"]
    return sorted((method.upper(), path) for path, operations in paths.items() if path.startswith("/tmf-api/")
                  for method in operations if method in ("get", "post", "put", "patch", "delete"))


ROUTES = _routes()


def _expected_api(path: str) -> str:
    segment = path.split("/")[2]
    assert segment in API_OF_SEGMENT, f"{path}: an API this test does not know — add it to API_OF_SEGMENT"
    return API_OF_SEGMENT[segment]


def _expected_operation(method: str, path: str) -> str:
    if re.search(r"/v\d+/hub(/|$)", path):  # registering or removing a hub is its own operation
        return "subscribe"
    if method == "GET":
        return "retrieve" if path.endswith("}") else "list"
    return {"POST": "create", "PATCH": "patch", "PUT": "patch", "DELETE": "delete"}[method]


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x-1", path)


def _error(status: int, code: str, reason: str, message: str) -> dict[str, Any]:
    return {"code": code, "reason": reason, "message": message, "status": str(status), "@type": "Error"}


def _unauthorized(message: str) -> dict[str, Any]:
    return _error(401, "unauthorized", "Unauthorized", message)


def _forbidden(message: str) -> dict[str, Any]:
    return _error(403, "forbidden", "Forbidden", message)


def _not_found(kind: str, id: str) -> dict[str, Any]:
    return _error(404, "notFound", "Not Found", f"no {kind} with id '{id}'")


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


class Api:
    """A TestClient on an app with authentication on, recording every response."""

    def __init__(self, engine: Engine, admin_key: str, app: Any = None):
        """On ``app`` when given (one of ``app_for``'s, with ``admin_key``), else on a new one."""
        self.admin_key = admin_key
        self.responses: list[Any] = []
        self.client = TestClient(app if app is not None else create_app(engine=engine, auth=True, admin_key=admin_key),
                                 raise_server_exceptions=False)
        self.client.event_hooks["response"] = [self._record]

    def _record(self, response: Any) -> None:
        response.read()
        self.responses.append(response)

    def __enter__(self) -> "Api":
        self.client.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.client.__exit__(*exc)

    def call(self, method: str, path: str, key: str | None = None, headers: dict[str, str] | None = None,
             json_body: Any = None, params: Any = None) -> Any:
        sent = dict(headers or {})
        if key is not None:
            sent.update(bearer(key))
        if method in ("POST", "PUT", "PATCH"):
            sent.setdefault("content-type", MERGE if method == "PATCH" else "application/json")
            return self.client.request(method, path, headers=sent, content=json.dumps(json_body or {}),
                                       params=params)
        return self.client.request(method, path, headers=sent, params=params)

    def ok(self, method: str, path: str, key: str, body: Any = None, status: int | None = None,
           params: Any = None) -> Any:
        response = self.call(method, path, key, json_body=body, params=params)
        wanted = status or {"POST": 201, "DELETE": 204}.get(method, 200)
        assert response.status_code == wanted, f"{method} {path} → {response.status_code}: {response.text}"
        return response.json() if response.content else None

    def partner(self, id: str, bundle: list[dict[str, Any]] | None, role: str = "partner") -> str:
        body: dict[str, Any] = {"id": id, "name": f"Partner {id}", "role": role}
        if bundle is not None:
            body["apiBundle"] = {"name": f"{id}-bundle", "api": bundle}
        created = self.ok("POST", PARTNER, self.admin_key, body)
        assert KEY_SHAPE.match(created["apiKey"]), created["apiKey"]
        return created["apiKey"]


def _load(engine: Engine, *examples: str) -> None:
    for example in examples:
        with UnitOfWork(engine) as uow:
            services.load_project(uow, load_project(ROOT / "examples" / example), example)


@pytest.fixture
def api(engine: Engine, app_for: AppFor) -> Iterator[Api]:
    """On the session's app (see tests/api/session_app.py)."""
    with keyed_app(app_for, engine) as app, Api(engine, ADMIN_KEY, app) as client:
        yield client


# ============================================================ every route: 401, 403, admin passes


def test_the_route_list_is_the_whole_tmf_api() -> None:
    """Sanity of the parametrisation: the document lists the APIs, each mapped to a bundle name."""
    assert len(ROUTES) >= 50
    apis = {_expected_api(path) for _, path in ROUTES}
    assert {"TMF620", "TMF622", "TMF632", "TMF635", "TMF637", "TMF654", "TMF666", "TMF677", "TMF678",
            "partner"} <= apis
    assert ("POST", BILL_RUN) in ROUTES and ("DELETE", f"{PARTNER}/{{id}}/key/{{key_id}}") in ROUTES


@pytest.mark.parametrize("method,path", ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_every_api_route_wants_a_valid_key_and_an_operation_of_the_bundle(api: Api, method: str,
                                                                          path: str) -> None:
    target, name, operation = _concrete(path), _expected_api(path), _expected_operation(method, path)

    def refused(headers: dict[str, str], status: int, body: dict[str, Any]) -> None:
        response = api.call(method, target, headers=headers)
        assert (response.status_code, response.json()) == (status, body), f"{method} {target} with {headers}"
        assert response.headers["content-type"].split(";")[0] == "application/json"
        if status == 401:
            assert response.headers["www-authenticate"] == CHALLENGE
        else:
            assert "www-authenticate" not in response.headers

    # keys: a valid one, one revoked, and forgeries of every kind
    other_api = "TMF632" if name == "TMF620" else "TMF620"
    valid = api.partner("valid", [{"name": name}])
    revoked = api.partner("revoked", [{"name": name}])
    revoked_id = KEY_SHAPE.match(revoked)[1]  # type: ignore[index]
    api.ok("POST", f"{PARTNER}/revoked/key", api.admin_key)  # the partner keeps another key
    api.ok("DELETE", f"{PARTNER}/revoked/key/{revoked_id}", api.admin_key)
    valid_id, valid_secret = KEY_SHAPE.match(valid).groups()  # type: ignore[union-attr]
    other_secret = make_key().split("_", 2)[2]

    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer "},
                    {"X-API-Key": ""}):
        refused(headers, 401, _unauthorized(NO_KEY))
    for forged in (make_key(),  # well formed, unknown
                   f"bss_{valid_id}_{other_secret}",  # a real key id with another secret
                   valid[:-1],  # one character short
                   valid + "A",  # one character more
                   valid.replace("bss_", "bsx_", 1),
                   "not-a-key", valid_secret, revoked):
        refused(bearer(forged), 401, _unauthorized(BAD_KEY))
    refused({"X-API-Key": revoked}, 401, _unauthorized(BAD_KEY))

    # a partner whose bundle lacks the API, or has the API but not this operation
    outsider = api.partner("outsider", [{"name": other_api}])
    narrow = api.partner("narrow", [{"name": name, "operations": [o for o in ALL_OPERATIONS if o != operation]}])
    refused(bearer(outsider), 403, _forbidden(
        f"the API bundle of partner 'outsider' does not include {operation} on {name}"))
    refused({"X-API-Key": narrow}, 403, _forbidden(
        f"the API bundle of partner 'narrow' does not include {operation} on {name}"))

    # the administrator's key (either header) gets past authentication and the bundle check
    for headers in (bearer(api.admin_key), {"X-API-Key": api.admin_key}, {"authorization": f"bearer {api.admin_key}"}):
        response = api.call(method, target, headers=headers)
        assert response.status_code not in (401, 403), f"{method} {target}: {response.status_code} {response.text}"
        assert response.status_code < 500, f"{method} {target}: {response.status_code} {response.text}"
    # so does the partner whose bundle has the operation (except where only the admin may go)
    response = api.call(method, target, key=valid)
    if name == "partner" and not path.endswith("/delivery"):
        assert (response.status_code, response.json()) == (403, _forbidden("only an administrator manages partners"))
    elif (method, path) == ("POST", BILL_RUN):
        assert (response.status_code, response.json()) == (403, _forbidden(
            "bill runs are the operator's: only an administrator starts one"))
    elif response.status_code == 403:  # another operation reserved to the operator (e.g. a settlement run)
        body = response.json()
        assert (body["code"], body["status"]) == ("forbidden", "403") and "only an administrator" in body["message"] \
            and "API bundle" not in body["message"], f"{method} {target}: {response.text}"
    else:
        assert response.status_code not in (401, 403), f"{method} {target}: {response.status_code} {response.text}"
        assert response.status_code < 500, f"{method} {target}: {response.status_code} {response.text}"


def test_the_openapi_document_and_the_docs_stay_open(api: Api) -> None:
    assert api.client.get("/openapi.json").status_code == 200
    assert api.client.get("/docs").status_code == 200


def test_a_partner_bundle_names_known_apis_and_operations(api: Api) -> None:
    bad_api = api.call("POST", PARTNER, api.admin_key, json_body={
        "id": "p", "name": "P", "apiBundle": {"api": [{"name": "TMF999"}]}})
    assert bad_api.status_code == 400 and bad_api.json()["message"].startswith(
        "apiBundle.api[0].name: unknown API 'TMF999'")
    bad_operation = api.call("POST", PARTNER, api.admin_key, json_body={
        "id": "p", "name": "P", "apiBundle": {"api": [{"name": "TMF632", "operations": ["read"]}]}})
    assert bad_operation.status_code == 400 and bad_operation.json()["message"].startswith(
        "apiBundle.api[0].operations: unknown operation 'read'")
    assert api.ok("GET", PARTNER, api.admin_key) == [api.ok("GET", f"{PARTNER}/admin", api.admin_key)]
    api.partner("p", [{"name": "TMF632"}])
    duplicate = api.call("POST", PARTNER, api.admin_key, json_body={
        "id": "p", "name": "P", "apiBundle": {"api": [{"name": "TMF632"}]}})
    assert (duplicate.status_code, duplicate.json()) == (409, _error(
        409, "conflict", "Conflict", "a partner with id 'p' already exists"))


# ============================================================ isolation between partners


PLAN_SMALL = {"id": "1", "action": "add", "quantity": 1, "productOffering": {"id": "mobile-telephony-plan"},
              "product": {"productCharacteristic": [{"name": "simFormFactor", "value": "SMALL",
                                                     "@type": "Characteristic"}],
                          "realizingResource": [{"id": "sim-small"}]}}
SMARTPHONE = {"id": "2", "action": "add", "quantity": 1, "productOffering": {"id": "smartphone"},
              "product": {"productCharacteristic": [{"name": "model", "value": "smartphone",
                                                     "@type": "Characteristic"}],
                          "realizingResource": [{"id": "terminal-smartphone"}]}}


def _instant(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _roaming_usage(id: str, product: str, megabytes: int, at: dt.datetime) -> dict[str, Any]:
    return {"id": id, "usageDate": _instant(at), "usageType": "data", "usageCharacteristic": [
        {"name": "productId", "value": product}, {"name": "service", "value": "data"},
        {"name": "volume", "value": megabytes}, {"name": "unit", "value": "MB"}, {"name": "roaming", "value": True}]}


def _customer(api: Api, key: str, party: str, account: str) -> None:
    api.ok("POST", f"{PARTY}/individual", key, {"id": party, "givenName": party.title(), "familyName": "X"})
    api.ok("POST", f"{ACCOUNT}/billingAccount", key, {"id": account, "name": party, "relatedParty": [
        {"id": party, "name": party, "role": "owner", "@referredType": "Individual"}]})


def _line(api: Api, key: str, line: str, party: str, account: str, start: str) -> None:
    api.ok("POST", INVENTORY, key, {
        "id": line, "status": "active", "startDate": start, "productOffering": {"id": "mobile-data-plan"},
        "billingAccount": {"id": account},
        "productPrice": [{"name": "mobile-data-monthly", "priceType": "recurring", "recurringChargePeriod": "month",
                          "productOfferingPrice": {"id": "mobile-data-monthly"}, "billingAccount": {"id": account},
                          "price": {"taxIncludedAmount": {"unit": "EUR", "value": 20}}}],
        "relatedParty": [{"id": party, "role": "customer", "@referredType": "Individual"}]})


OPERATOR_LINES = ("line-op-paid-by-a", "line-op-of-cust-a")


class World:
    """Partners A and B, each with its customer, account, line, order, usage and bucket; the
    administrator posts usage and a bucket on A's line, sells two lines of its own (one paid
    by A's account, one for A's customer), posts their usage and a bucket, and runs the
    month's bills."""

    def __init__(self, api: Api):
        self.api = api
        every = [{"name": n} for n in EVERY_TMF_API]
        self.a = api.partner("partner-a", every)
        self.b = api.partner("partner-b", every)
        self.admin = api.admin_key
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        start = now.replace(day=1, hour=0, minute=0, second=0)
        self.period = start.strftime("%Y-%m")
        used = min(start + dt.timedelta(hours=1), now)  # never ahead of now (usageInFuture)
        for key, who in ((self.a, "a"), (self.b, "b")):
            _customer(api, key, f"cust-{who}", f"ba-{who}")
            _line(api, key, f"line-{who}", f"cust-{who}", f"ba-{who}", _instant(start))
            order = api.ok("POST", ORDER, key, {
                "relatedParty": [{"id": f"cust-{who}", "role": "customer", "@referredType": "Individual"}],
                "productOrderItem": [PLAN_SMALL, SMARTPHONE]})
            setattr(self, f"order_{who}", order["id"])
            # the partner cannot fulfil its own order: the operator does
            refused = api.call("PATCH", f"{ORDER}/{order['id']}", key, json_body={"state": "inProgress"})
            assert refused.status_code == 403 and "only the operator" in refused.json()["message"]
            for state in ("inProgress", "completed"):
                assert api.ok("PATCH", f"{ORDER}/{order['id']}", api.admin_key, {"state": state})["state"] == state
            usage = api.ok("POST", USAGE, key, _roaming_usage(f"usage-{who}", f"line-{who}", 100, used))
            assert usage["status"] == "rated", usage
            api.ok("POST", BUCKET, key, {"id": f"bucket-{who}", "product": [{"id": f"line-{who}"}],
                                         "usageType": "sms", "remainingValue": {"amount": 10, "units": "message"}})
        # the administrator acts on A's line: its usage, bucket and bill are A's
        usage = api.ok("POST", USAGE, self.admin, _roaming_usage("usage-admin-a", "line-a", 50, used))
        assert usage["status"] == "rated", usage
        api.ok("POST", BUCKET, self.admin, {"id": "bucket-admin-a", "product": [{"id": "line-a"}],
                                            "usageType": "data", "remainingValue": {"amount": 5, "units": "GB"}})
        # the operator sells too: a line of its own customer paid by A's account, and a line of
        # A's customer paid by the operator's account; it posts their usage and a bucket
        _customer(api, self.admin, "cust-op", "ba-op")
        _line(api, self.admin, "line-op-paid-by-a", "cust-op", "ba-a", _instant(start))
        _line(api, self.admin, "line-op-of-cust-a", "cust-a", "ba-op", _instant(start))
        for line in OPERATOR_LINES:
            usage = api.ok("POST", USAGE, self.admin, _roaming_usage(f"usage-{line}", line, 20, used))
            assert usage["status"] == "rated", usage
        api.ok("POST", BUCKET, self.admin, {"id": "bucket-op", "product": [{"id": "line-op-paid-by-a"}],
                                            "usageType": "sms", "remainingValue": {"amount": 3, "units": "message"}})
        run = api.ok("POST", BILL_RUN, self.admin, {"period": self.period})
        self.bill_a, self.bill_b = f"ba-a-{self.period}-EUR", f"ba-b-{self.period}-EUR"
        self.bill_op = f"ba-op-{self.period}-EUR"
        assert sorted(run["billsMade"]) == [self.bill_a, self.bill_b, self.bill_op], run
        products_a = api.ok("GET", INVENTORY, self.a)
        self.order_products_a = sorted(p["id"] for p in products_a if p["id"] not in ("line-a", *OPERATOR_LINES))
        assert len(self.order_products_a) == 2
        self.rates_a = sorted(r["id"] for r in api.ok("GET", RATE, self.a))
        assert self.rates_a and all(r.startswith(self.bill_a) for r in self.rates_a)

    def a_resources(self) -> list[tuple[str, str, str]]:
        """(collection path, id, TMF kind named in a 404) of everything A owns."""
        return [(f"{PARTY}/individual", "cust-a", "Individual"),
                (f"{ACCOUNT}/billingAccount", "ba-a", "BillingAccount"),
                (INVENTORY, "line-a", "Product"),
                *[(INVENTORY, p, "Product") for p in self.order_products_a],
                (ORDER, self.order_a, "ProductOrder"),
                (USAGE, "usage-a", "Usage"), (USAGE, "usage-admin-a", "Usage"),
                (BUCKET, "bucket-a", "Bucket"), (BUCKET, "bucket-admin-a", "Bucket"),
                (BILL, self.bill_a, "CustomerBill"),
                *[(RATE, r, "AppliedCustomerBillingRate") for r in self.rates_a]]

    def a_sees(self) -> list[tuple[str, str, str]]:
        """(collection path, id, TMF kind) of what A sees but the operator owns: the products
        it pays for or that are its customer's, their usage and their bucket."""
        return [*[(INVENTORY, line, "Product") for line in OPERATOR_LINES],
                *[(USAGE, f"usage-{line}", "Usage") for line in OPERATOR_LINES],
                (BUCKET, "bucket-op", "Bucket")]

    def operators_own(self) -> list[tuple[str, str, str]]:
        """What only the operator sees: its customer, her account and its bill."""
        return [(f"{PARTY}/individual", "cust-op", "Individual"), (f"{ACCOUNT}/billingAccount", "ba-op", "BillingAccount"),
                (BILL, self.bill_op, "CustomerBill")]


@pytest.fixture
def world(engine: Engine, api: Api) -> World:
    _load(engine, "devices", "roaming")
    return World(api)


COLLECTIONS = (f"{PARTY}/individual", f"{ACCOUNT}/billingAccount", INVENTORY, ORDER, USAGE, BUCKET, BILL, RATE)


def _ids(api: Api, key: str, collection: str, **params: Any) -> list[str]:
    return sorted(item["id"] for item in api.ok("GET", collection, key, params=params or None))


def test_a_partner_gets_404_on_every_resource_of_another_partner(world: World) -> None:
    api = world.api
    for collection, id, kind in world.a_resources() + world.a_sees():
        assert api.ok("GET", f"{collection}/{id}", world.a)["id"] == id
        response = api.call("GET", f"{collection}/{id}", world.b)
        assert (response.status_code, response.json()) == (404, _not_found(kind, id)), f"{collection}/{id}"


def test_a_partner_does_not_see_another_partners_resources_in_lists(world: World) -> None:
    api = world.api
    owned_by_a = {(c, i) for c, i, _ in world.a_resources() + world.a_sees()}
    for collection in COLLECTIONS:
        seen_by_b = _ids(api, world.b, collection)
        seen_by_a = _ids(api, world.a, collection)
        assert seen_by_b, f"B sees nothing of its own in {collection}"
        assert not {(collection, i) for i in seen_by_b} & owned_by_a, collection
        assert not set(seen_by_a) & set(seen_by_b), collection
        # a filter naming A's id finds nothing for B either
        assert _ids(api, world.b, collection, id=seen_by_a[0]) == [], collection
    for line in ("line-a", *OPERATOR_LINES):
        assert _ids(api, world.b, USAGE, **{"ratedProductUsage.productRef.id": line}) == []
        assert api.ok("GET", f"{USAGE_API}/accumulator", world.b, params={"product": line}) == []
        assert len(api.ok("GET", f"{USAGE_API}/accumulator", world.a, params={"product": line})) == 1


def test_the_administrator_sees_every_partners_resources(world: World) -> None:
    api = world.api
    operators = {(c, i) for c, i, _ in world.operators_own()}
    operators |= {(RATE, r) for r in _ids(api, world.admin, RATE, **{"bill.id": world.bill_op})}
    for collection in COLLECTIONS:
        only_the_operator = sorted(i for c, i in operators if c == collection)
        assert _ids(api, world.admin, collection) == sorted(
            set(_ids(api, world.a, collection)) | set(_ids(api, world.b, collection)) | set(only_the_operator)), \
            collection
    for collection, id, _ in world.a_resources() + world.a_sees() + world.operators_own():
        assert api.ok("GET", f"{collection}/{id}", world.admin)["id"] == id


def test_a_partner_sees_a_product_whose_price_its_account_shares_with_another_payer(world: World) -> None:
    """A price a split billing rule shares between payers keeps each one's account in
    ``payerShares`` (services.orders): the partner paying a share of it pays for the product
    (its bill carries that share) and reads it, as when it pays the whole; another does not."""
    api = world.api
    api.ok("POST", INVENTORY, world.admin, {
        "id": "line-op-shared-with-a", "status": "active", "startDate": "2026-06-01T00:00:00Z",
        "productOffering": {"id": "mobile-data-plan"}, "billingAccount": {"id": "ba-op"},
        "productPrice": [{"name": "mobile-data-monthly", "priceType": "recurring", "recurringChargePeriod": "month",
                          "productOfferingPrice": {"id": "mobile-data-monthly"}, "billingAccount": {"id": "ba-op"},
                          "payerShares": [{"role": "customer", "weight": 70, "billingAccount": {"id": "ba-op"}},
                                          {"role": "employer", "weight": 30, "billingAccount": {"id": "ba-a"}}],
                          "price": {"taxIncludedAmount": {"unit": "EUR", "value": 20}}}],
        "relatedParty": [{"id": "cust-op", "role": "customer", "@referredType": "Individual"}]})
    assert api.ok("GET", f"{INVENTORY}/line-op-shared-with-a", world.a)["id"] == "line-op-shared-with-a"
    assert "line-op-shared-with-a" in _ids(api, world.a, INVENTORY)
    assert api.call("GET", f"{INVENTORY}/line-op-shared-with-a", world.b).status_code == 404
    assert "line-op-shared-with-a" not in _ids(api, world.b, INVENTORY)


def test_a_partner_sees_the_products_it_pays_for_or_of_its_customers_their_usage_and_charges(world: World
                                                                                              ) -> None:
    """One rule (bssrules/store/visibility.py), whoever placed the order: A reads the lines the
    operator sold that A's account pays for or that are A's customer's, their usage, running
    totals, bucket, consumption and aggregated usage, and every product its bill items name;
    it does not read the operator's customer, her account or her bill, and it changes
    nothing it only sees (403)."""
    api, a = world.api, world.a
    for collection, id, _ in world.a_sees():
        assert api.ok("GET", f"{collection}/{id}", a)["id"] == id
    for collection in (INVENTORY, USAGE, BUCKET):
        assert {i for c, i, _ in world.a_sees() if c == collection} <= set(_ids(api, a, collection)), collection
    items = api.ok("GET", RATE, a, params={"bill.id": world.bill_a})
    named = {i["product"]["id"] for i in items if "product" in i}
    assert "line-op-paid-by-a" in named, items  # its fees (its usage is its customer's account's)
    for product in named:
        assert api.ok("GET", f"{INVENTORY}/{product}", a)["id"] == product
    for line in OPERATOR_LINES:
        assert _ids(api, a, USAGE, **{"ratedProductUsage.productRef.id": line}) == [f"usage-{line}"]
        consumption = api.ok("POST", QUERY_CONSUMPTION, a, {"searchCriteria": {"product": [{"id": line}]}})
        assert consumption["@type"] == "QueryUsageConsumption"
        aggregated = api.ok("GET", f"{USAGE_API}/aggregatedUsage", a, params={"product": line})
        assert [t["count"] for t in aggregated["total"]] == [1], aggregated
    for collection, id, kind in world.operators_own():
        response = api.call("GET", f"{collection}/{id}", a)
        assert (response.status_code, response.json()) == (404, _not_found(kind, id)), f"{collection}/{id}"
    for method, path, body in (("PATCH", f"{INVENTORY}/line-op-paid-by-a", {"status": "terminated"}),
                               ("PATCH", f"{INVENTORY}/line-op-of-cust-a", {"status": "terminated"}),
                               ("DELETE", f"{INVENTORY}/line-op-of-cust-a", None),
                               ("DELETE", f"{BUCKET}/bucket-op", None)):
        response = api.call(method, path, a, json_body=body)
        assert response.status_code == 403 and response.json()["code"] == "forbidden", (method, path, response.text)
    assert [api.ok("GET", f"{INVENTORY}/{line}", world.admin)["status"] for line in OPERATOR_LINES] == \
        ["active", "active"]
    assert api.ok("GET", f"{BUCKET}/bucket-op", world.admin)["id"] == "bucket-op"


def test_a_partner_cannot_change_delete_or_use_another_partners_resources(world: World) -> None:
    api = world.api
    for path, body, kind, id in ((f"{PARTY}/individual/cust-a", {"givenName": "Mallory"}, "Individual", "cust-a"),
                                 (f"{ACCOUNT}/billingAccount/ba-a", {"name": "mine"}, "BillingAccount", "ba-a"),
                                 (f"{INVENTORY}/line-a", {"status": "terminated"}, "Product", "line-a"),
                                 (f"{ORDER}/{world.order_a}", {"state": "cancelled"}, "ProductOrder", world.order_a)):
        response = api.call("PATCH", path, world.b, json_body=body)
        assert (response.status_code, response.json()) == (404, _not_found(kind, id)), path
    for path, kind, id in ((f"{PARTY}/individual/cust-a", "Individual", "cust-a"),
                           (f"{ACCOUNT}/billingAccount/ba-a", "BillingAccount", "ba-a"),
                           (f"{INVENTORY}/line-a", "Product", "line-a"), (f"{BUCKET}/bucket-a", "Bucket", "bucket-a")):
        response = api.call("DELETE", path, world.b)
        assert (response.status_code, response.json()) == (404, _not_found(kind, id)), path
    # nothing of A's changed
    assert api.ok("GET", f"{PARTY}/individual/cust-a", world.a)["givenName"] == "Cust-A"
    assert api.ok("GET", f"{INVENTORY}/line-a", world.a)["status"] == "active"
    assert api.ok("GET", f"{ORDER}/{world.order_a}", world.a)["state"] == "completed"
    assert api.ok("GET", f"{BUCKET}/bucket-a", world.a)["id"] == "bucket-a"
    # A's resources cannot be referred to by B: they are not there
    account = api.call("POST", f"{ACCOUNT}/billingAccount", world.b, json_body={
        "id": "ba-steal", "name": "x", "relatedParty": [{"id": "cust-a", "name": "x", "role": "owner",
                                                         "@referredType": "Individual"}]})
    assert (account.status_code, account.json()["code"]) == (422, "unknownReference")
    # (the suggestion is B's own party: nothing of A's is named)
    assert account.json()["message"] == \
        "relatedParty.id: no individual or organization 'cust-a' (did you mean 'cust-b'?)"
    bucket = api.call("POST", BUCKET, world.b, json_body={"product": [{"id": "line-a"}], "usageType": "sms",
                                                          "remainingValue": {"amount": 1, "units": "message"}})
    assert (bucket.status_code, bucket.json()) == (404, _not_found("Product", "line-a"))
    consumption = api.call("POST", QUERY_CONSUMPTION, world.b,
                           json_body={"searchCriteria": {"product": [{"id": "line-a"}]}})
    assert (consumption.status_code, consumption.json()) == (404, _not_found("Product", "line-a"))
    # A's query (a TMF677 resource) is A's: B neither lists, reads nor deletes it
    asked = api.ok("POST", QUERY_CONSUMPTION, world.a, {"searchCriteria": {"product": [{"id": "line-a"}]}})
    assert api.ok("GET", asked["href"], world.a)["id"] == asked["id"]
    assert asked["id"] not in [q["id"] for q in api.ok("GET", QUERY_CONSUMPTION, world.b)]
    for method in ("GET", "DELETE"):
        response = api.call(method, asked["href"], world.b)
        assert (response.status_code, response.json()) == (404, _not_found("QueryUsageConsumption", asked["id"]))
    assert asked["id"] in [q["id"] for q in api.ok("GET", QUERY_CONSUMPTION, world.a)]
    aggregated = api.call("GET", f"{USAGE_API}/aggregatedUsage", world.b, params={"product": "line-a"})
    assert (aggregated.status_code, aggregated.json()) == (404, _not_found("Product", "line-a"))
    aggregated = api.call("GET", f"{USAGE_API}/aggregatedUsage", world.b, params={"billingAccount": "ba-a"})
    assert (aggregated.status_code, aggregated.json()) == (404, _not_found("BillingAccount", "ba-a"))
    order = api.call("POST", ORDER, world.b, json_body={
        "relatedParty": [{"id": "cust-a", "role": "customer", "@referredType": "Individual"}],
        "productOrderItem": [PLAN_SMALL]})
    assert (order.status_code, order.json()) == (422, _error(
        422, "unknownReference", "Unprocessable Entity",
        # the suggestion is among B's own parties: nothing of A's shows
        "relatedParty.id: no individual or organization 'cust-a' is found or visible to you (did you mean 'cust-b'?)"))
    usage = api.ok("POST", USAGE, world.b, _roaming_usage("usage-b-on-a", "line-a", 10,
                                                          dt.datetime.now(dt.timezone.utc)))
    assert (usage["status"], usage["rejectionReason"]) == ("rejected", [
        {"code": "unknownSubscriber", "label": "no product 'line-a' in the inventory"}])
    # A's running totals did not move
    [accumulator] = api.ok("GET", f"{USAGE_API}/accumulator", world.a, params={"product": "line-a"})
    assert accumulator["volume"] == 150


def _owners(engine: Engine) -> dict[tuple[str, str], str | None]:
    """(kind, id) -> owning partner, of the documents and of the hot tables (usages, buckets
    and accumulators have tables of their own, migration 0007)."""
    with engine.connect() as connection:
        return {(r.kind, r.id): r.partner_id for r in connection.execute(text(
            "SELECT kind, id, partner_id FROM resource WHERE kind <> 'partner' "
            "UNION ALL SELECT 'usage', id, partner_id FROM usage_record "
            "UNION ALL SELECT 'bucket', id, partner_id FROM bucket "
            "UNION ALL SELECT 'accumulator', accumulator || '|' || subscription || '|' || period, partner_id "
            "FROM accumulator"))}


def test_usage_bucket_and_bill_belong_to_the_partner_of_the_product_even_when_the_admin_posts_them(
        engine: Engine, world: World) -> None:
    owners = _owners(engine)
    for collection, id, _ in world.a_resources():
        kind = collection.rsplit("/", 1)[1]
        assert owners[(kind, id)] == "partner-a", (kind, id)
    assert owners[("usage", "usage-b")] == owners[("bucket", "bucket-b")] == owners[("customerBill", world.bill_b)] \
        == "partner-b"
    accumulators = {k[1].split("|")[1]: v for k, v in owners.items() if k[0] == "accumulator"}
    assert accumulators == {"line-a": "partner-a", "line-b": "partner-b",  # (the operator's lines: its own)
                            **{line: None for line in OPERATOR_LINES}}
    # the admin's usage on A's line is rated, billed on A's bill, and shown to A as billed
    usage = world.api.ok("GET", f"{USAGE}/usage-admin-a", world.a)
    assert [r["billingAccount"]["id"] for r in usage["ratedProductUsage"]] == ["ba-a"]
    assert all(r["isBilled"] for r in usage["ratedProductUsage"])


def test_a_partner_reusing_an_id_another_partner_uses_gets_a_client_error_not_a_500(world: World) -> None:
    api = world.api
    response = api.call("POST", f"{PARTY}/individual", world.b, json_body={"id": "cust-a", "givenName": "B",
                                                                            "familyName": "B"})
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "conflict"
    assert api.ok("GET", f"{PARTY}/individual/cust-a", world.a)["givenName"] == "Cust-A"


def test_a_usage_id_another_partner_used_is_not_a_500(world: World) -> None:
    response = world.api.call("POST", USAGE, world.b, json_body=_roaming_usage(
        "usage-a", "line-b", 10, dt.datetime.now(dt.timezone.utc)))
    assert response.status_code == 409, response.text
    assert "not available" in response.json()["message"] and "usage-a" in response.json()["message"]


# ============================================================ keys


def test_a_key_is_rotated_the_new_one_works_and_the_revoked_one_is_refused(api: Api) -> None:
    old = api.partner("rotating", [{"name": "TMF632"}])
    old_id = KEY_SHAPE.match(old)[1]  # type: ignore[index]
    assert api.ok("GET", f"{PARTY}/individual", old) == []
    issued = api.ok("POST", f"{PARTNER}/rotating/key", api.admin_key)
    new = issued["apiKey"]
    assert set(issued) == {"partner", "apiKey"} and issued["partner"] == "rotating"
    assert KEY_SHAPE.match(new) and new != old
    new_id = KEY_SHAPE.match(new)[1]  # type: ignore[index]
    # both work until the old one is revoked
    assert api.ok("GET", f"{PARTY}/individual", old) == api.ok("GET", f"{PARTY}/individual", new) == []
    partner = api.ok("GET", f"{PARTNER}/rotating", api.admin_key)
    assert [k["id"] for k in partner["key"]] == [old_id, new_id]
    assert all(set(k) == {"id", "created"} for k in partner["key"])
    assert api.call("DELETE", f"{PARTNER}/rotating/key/{old_id}", api.admin_key).status_code == 204
    for headers in (bearer(old), {"X-API-Key": old}):
        response = api.call("GET", f"{PARTY}/individual", headers=headers)
        assert (response.status_code, response.json()) == (401, _unauthorized(BAD_KEY))
        assert response.headers["www-authenticate"] == CHALLENGE
    assert api.ok("GET", f"{PARTY}/individual", new) == []
    assert [k["id"] for k in api.ok("GET", f"{PARTNER}/rotating", api.admin_key)["key"]] == [new_id]
    # revoking it again, or for another partner, or an unknown partner: 404
    assert api.call("DELETE", f"{PARTNER}/rotating/key/{old_id}", api.admin_key).json() == _not_found("API key", old_id)
    assert api.call("DELETE", f"{PARTNER}/admin/key/{new_id}", api.admin_key).json() == _not_found("API key", new_id)
    assert api.call("POST", f"{PARTNER}/nobody/key", api.admin_key).json() == _not_found("Partner", "nobody")
    # the new key keeps working after the revocation of another
    assert api.ok("GET", f"{PARTY}/individual", new) == []


def test_a_secret_shows_only_in_the_answer_that_creates_it_and_only_its_hash_is_stored(engine: Engine,
                                                                                       api: Api) -> None:
    first = api.partner("keeper", [{"name": "TMF632"}, {"name": "partner"}])
    creation_answers = [api.responses[-1]]
    second = api.ok("POST", f"{PARTNER}/keeper/key", api.admin_key)["apiKey"]
    creation_answers.append(api.responses[-1])
    keys = {first, second, api.admin_key}
    secrets = {KEY_SHAPE.match(k)[2] for k in keys}  # type: ignore[index]
    # use the keys everywhere an answer could echo them
    api.ok("GET", PARTNER, api.admin_key)
    api.ok("GET", f"{PARTNER}/keeper", api.admin_key)
    api.ok("GET", f"{PARTNER}/admin", api.admin_key)
    api.ok("GET", f"{PM}/delivery", first)
    api.ok("POST", f"{PARTY}/individual", second, {"id": "p1", "givenName": "P", "familyName": "Q"})
    api.call("GET", PARTNER, first)
    api.call("GET", f"{PARTY}/individual/nobody", second)
    api.call("GET", f"{PARTY}/individual", headers=bearer(first + "x"))
    api.call("DELETE", f"{PARTNER}/keeper/key/{KEY_SHAPE.match(first)[1]}", api.admin_key)  # type: ignore[index]
    api.call("GET", f"{PARTY}/individual", first)
    assert len(api.responses) == 12
    for response in api.responses:
        shown = response.text + json.dumps(dict(response.headers))
        found = [s for s in secrets if s in shown]
        if response in creation_answers:
            assert len(found) == 1, "the creation answer holds its key"
        else:
            assert not found, f"{response.request.method} {response.request.url.path} shows a secret"
        assert '"hash"' not in response.text and not any(
            hashlib.sha256(s.encode()).hexdigest() in shown for s in secrets)
    # the database: the partner's document keeps the hash of each live key, never a secret
    with engine.connect() as connection:
        [document] = connection.execute(text("SELECT document FROM resource WHERE kind = 'partner' AND id = 'keeper'")
                                        ).scalars()
        attributes = list(connection.execute(text("SELECT value FROM resource_attribute WHERE kind = 'partner'"))
                          .scalars())
        everything = json.dumps([list(r) for r in connection.execute(text("SELECT * FROM resource"))], default=str)
    stored = json.loads(document)
    second_id, second_secret = KEY_SHAPE.match(second).groups()  # type: ignore[union-attr]
    assert [(k["id"], k["hash"]) for k in stored["key"]] == [
        (second_id, hashlib.sha256(second_secret.encode()).hexdigest())]
    for secret in secrets:
        assert secret not in document and secret not in everything
        assert not any(secret in value for value in attributes)


# ============================================================ the administrator's operations


def test_partners_get_403_on_partner_management_and_bill_runs(api: Api) -> None:
    everything = [{"name": n} for n in EVERY_TMF_API] + [{"name": "partner"}]
    key = api.partner("greedy", everything)
    admin_only = _forbidden("only an administrator manages partners")
    key_id = KEY_SHAPE.match(key)[1]  # type: ignore[index]
    for method, path, body in (("POST", PARTNER, {"id": "mine", "name": "Mine", "apiBundle": {
                                    "api": [{"name": "TMF632"}]}}),
                               ("GET", PARTNER, None), ("GET", f"{PARTNER}/greedy", None),
                               ("GET", f"{PARTNER}/admin", None), ("POST", f"{PARTNER}/greedy/key", None),
                               ("POST", f"{PARTNER}/admin/key", None),
                               ("DELETE", f"{PARTNER}/greedy/key/{key_id}", None)):
        response = api.call(method, path, key, json_body=body)
        assert (response.status_code, response.json()) == (403, admin_only), f"{method} {path}"
    response = api.call("POST", BILL_RUN, key, json_body={"period": "2026-06"})
    assert (response.status_code, response.json()) == (403, _forbidden(
        "bill runs are the operator's: only an administrator starts one"))
    # nothing happened: no partner 'mine', the key still works, no bill
    assert [p["id"] for p in api.ok("GET", PARTNER, api.admin_key)] == ["admin", "greedy"]
    assert len(api.ok("GET", f"{PARTNER}/greedy", api.admin_key)["key"]) == 1
    assert api.ok("GET", BILL, key) == [] and api.ok("GET", BILL, api.admin_key) == []
    # the administrator does all of it
    assert api.ok("POST", BILL_RUN, api.admin_key, {"period": "2026-06"})["billsMade"] == []


def test_a_partner_made_administrator_manages_partners(api: Api) -> None:
    deputy = api.partner("deputy", None, role="admin")
    created = api.ok("POST", PARTNER, deputy, {"id": "p2", "name": "P2", "apiBundle": {"api": [{"name": "TMF632"}]}})
    assert created["role"] == "partner" and KEY_SHAPE.match(created["apiKey"])
    assert sorted(p["id"] for p in api.ok("GET", PARTNER, deputy)) == ["admin", "deputy", "p2"]
