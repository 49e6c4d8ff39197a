"""The API fuzzed hard: ``make fuzz`` (not part of ``make test``, which runs a bounded sample).

Every operation of the app's own OpenAPI document is called, in process, on a database that
holds the connected-car and roaming examples and a small inventory (a party, an account, a
product with a recurring fee, a bucket, a usage, a ticket …), in two phases:

1. **schemathesis**: ``--max-examples`` generated requests per operation (default 100), half
   valid and half invalid (its positive and negative generation);
2. **hostile values**: requests built from valid ones (the seeds below and the requests of
   phase 1 the API accepted), with each string leaf, each number leaf, the ``id``, each path
   parameter and the query replaced in turn by a hostile value: NUL, lone surrogates, an emoji,
   10,000 characters, one character more than each column keeps, and numbers at and beyond
   every bound (paging, 32/64-bit, the float range, exponents beyond any decimal context).

It prints, per operation, the requests sent and the server errors; then the totals and the
duration, and each 5xx with the request that caused it and the server's traceback. Exits 1
on any 5xx (or any answer that is not a TMF Error body for a 4xx), else 0.

    python tools/fuzz.py [--max-examples N] [--workers N] [--only TEXT] [--seed N]
                         [--database-url URL]

The database is a SQLite file per worker unless ``--database-url`` (or
``BSSRULES_FUZZ_DATABASE_URL``) names a PostgreSQL server: each worker then makes a database of
its own there, dropped at the end.
"""
from __future__ import annotations

import argparse
import copy
import logging
import multiprocessing
import os
import re
import sys
import tempfile
import time
import traceback
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

os.environ.setdefault("BSSRULES_DELIVERY", "off")  # no delivery threads: the run calls no one

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import simplejson  # noqa: E402
from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

EXAMPLES = ("connected_car", "devices", "roaming")
PC = "/tmf-api/productCatalogManagement/v4"
TMF_ERROR = {"code", "reason", "message", "status", "@type"}

# ------------------------------------------------------------------------- hostile values

LONG = "x" * 10_000
HOSTILE_STRINGS: list[str] = [
    "\x00", "a\x00b", "\ud800", "x\udfffy", "\ud83d", "😀", "id-😀-ü", LONG, "x" * 129, "x" * 201, "x" * 401,
    "x" * 513, "", " ", "a/b", "../..", "%00", "%2F", "?x=1#f", "'; DROP TABLE resource; --", "\u202e\ufeff",
    "\\", "\"", "null", "0", "-1", "9999-12-31T23:59:59-23:59", "2026-13-45", "garbage",
]
HOSTILE_NUMBERS: list[Any] = [
    0, -1, 1, 2**31 - 1, 2**31, -2**31 - 1, 2**53 + 1, 2**63 - 1, 2**63, -2**63 - 1, 2**64, 10**40,
    Decimal("1e308"), Decimal("1.8e308"), Decimal("1e309"), Decimal("-1e309"), Decimal("1e-400"),
    Decimal("1e999999"), Decimal("-1e999999"), Decimal("1e-999999"), Decimal("100.00000000000000000001"),
    Decimal("0.000000000000000000001"), True, None, [], {},
]
HOSTILE_IDS = ["😀", "id-😀", "a\x00b", "\ud800", LONG, "x" * 129, "a b", "a/b", "?", "%", "..", "-1"]
HOSTILE_QUERIES: list[dict[str, str]] = [
    {"offset": "-1"}, {"offset": str(2**63 - 1)}, {"offset": str(2**63)}, {"offset": "1e999"},
    {"limit": "0"}, {"limit": "1000"}, {"limit": "1001"}, {"limit": str(2**64)}, {"limit": "NaN"},
    {"fields": "\x00"}, {"fields": "😀"}, {"fields": LONG}, {"id": "a\x00b"}, {"id": "😀"}, {"id": LONG},
    {"name": "a\x00b"}, {"name": "\ud800"}, {"status": "x" * 513}, {"\x00": "1"}, {"😀": "1"},
    {"product": "a\x00b"}, {"product": "😀"}, {"billingAccount": LONG}, {"start": "2026-13-45"},
    {"start": "9999-12-31T23:59:59-23:59"}, {"end": "\x00"}, {"groupBy": "😀"},
    {"price.value": "1e999999999"}, {"price.value": "NaN"}, {"isBundle": "maybe"},
]

# --------------------------------------------------------------------------- the seeds
# Valid requests that reach deep code: each is sent as it is, then mutated leaf by leaf.


def _usage(usage_id: str, volume: Any = 3) -> dict[str, Any]:
    return {"id": usage_id, "usageDate": "2026-06-03T10:00:00Z", "usageType": "data", "usageCharacteristic": [
        {"name": "productId", "value": "fz-line"}, {"name": "service", "value": "data"},
        {"name": "volume", "value": volume}, {"name": "unit", "value": "MB"}]}


PARTY = [{"id": "fz-ana", "role": "customer", "@referredType": "Individual"},
         {"id": "fz-ana", "role": "car-maker", "@referredType": "Individual"}]
ITEM = {"id": "1", "action": "add", "quantity": 1, "productOffering": {"id": "mobile-data-plan"}}
PRODUCT = {"id": "fz-line", "name": "line", "status": "active", "startDate": "2026-01-01T00:00:00Z",
           "productOffering": {"id": "mobile-data-plan"}, "billingAccount": {"id": "fz-ba"}, "relatedParty": PARTY,
           "productPrice": [{"name": "fee", "priceType": "recurring", "recurringChargePeriod": "month",
                             "price": {"taxIncludedAmount": {"unit": "EUR", "value": 10}}}]}
BUNDLE = {"name": "tickets", "api": [{"name": "TMF621", "operations": ["list", "retrieve", "create"]}]}
SETUP: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/tmf-api/party/v4/individual", {"id": "fz-ana", "givenName": "Ana", "familyName": "S"}),
    ("POST", "/tmf-api/party/v4/organization", {"id": "fz-org", "tradingName": "Org"}),
    ("POST", "/tmf-api/customerManagement/v4/customer", {
        "id": "fz-cust", "name": "Ana", "engagedParty": {"id": "fz-ana", "@referredType": "Individual"}}),
    ("POST", "/tmf-api/accountManagement/v4/billingAccount", {"id": "fz-ba", "name": "Ana", "relatedParty": [
        {"id": "fz-ana", "name": "Ana", "role": "owner", "@referredType": "Individual"}]}),
    ("POST", "/tmf-api/productInventory/v4/product", PRODUCT),
    ("POST", "/tmf-api/prepayBalanceManagement/v4/bucket", {"id": "fz-bucket", "usageType": "data",
                                                           "remainingValue": {"amount": 100, "units": "EUR"},
                                                           "product": [{"id": "fz-line"}]}),
    ("POST", "/tmf-api/usageManagement/v4/usage", _usage("fz-usage")),
    ("POST", "/tmf-api/shoppingCart/v4/shoppingCart", {"id": "fz-cart", "relatedParty": PARTY, "cartItem": [ITEM]}),
    ("POST", "/tmf-api/troubleTicket/v4/troubleTicket", {
        "id": "fz-ticket", "description": "d", "severity": "minor", "ticketType": "complaint",
        "relatedParty": [{"id": "fz-org", "role": "assignee", "@referredType": "Organization"}]}),
    ("POST", "/tmf-api/slaManagement/v4/sla", {"id": "fz-sla", "name": "S", "ruleSet": {"id": "call-center-sla"},
                                               "relatedParty": [{"id": "csp", "role": "provider"},
                                                                {"id": "car-maker", "role": "consumer"}]}),
    ("POST", "/tmf-api/partnerManagement/v4/partner", {"id": "fz-partner", "name": "P", "apiBundle": BUNDLE}),
    ("POST", f"{PC}/category", {"id": "fz-category", "name": "C"}),
    ("POST", "/tmf-api/usageManagement/v4/hub", {"callback": "http://127.0.0.1:9/cb"}),
]
SEEDS: dict[tuple[str, str], list[Any]] = {
    ("POST", "/tmf-api/usageManagement/v4/usage"): [_usage("fz-u1"), [_usage("fz-u2"), _usage("fz-u3", 1)]],
    ("POST", "/tmf-api/productInventory/v4/product"): [{**PRODUCT, "id": "fz-line-2"}],
    ("PATCH", "/tmf-api/productInventory/v4/product/{id}"): [{"startDate": "2026-02-01T00:00:00Z",
                                                              "name": "renamed", "status": "active"}],
    ("POST", "/tmf-api/prepayBalanceManagement/v4/bucket"): [{
        "id": "fz-b2", "usageType": "data", "remainingValue": {"amount": 5, "units": "EUR"},
        "product": [{"id": "fz-line"}], "precedence": 1, "floor": -10,
        "validFor": {"startDateTime": "2026-01-01T00:00:00Z", "endDateTime": "2027-01-01T00:00:00Z"}}],
    ("POST", "/tmf-api/productOfferingQualification/v4/productOfferingQualification"): [{
        "id": "fz-q1", "relatedParty": PARTY, "channel": {"id": "web"},
        "productOfferingQualificationItem": [{"id": "1", "productOffering": {"id": "mobile-data-plan"}}]}],
    ("POST", "/tmf-api/productOrderingManagement/v4/productOrder"): [{
        "id": "fz-o1", "externalId": "fz-ext-1", "relatedParty": PARTY,
        "requestedStartDate": "2026-09-01", "productOrderItem": [ITEM]}],
    ("POST", "/tmf-api/productConfigurationManagement/v5/checkProductConfiguration"): [
        {"relatedParty": PARTY, "requestedDate": "2026-09-01", "channel": {"id": "shop"}, "cartItem": [
            ITEM, {"id": "2", "action": "add", "quantity": 1, "productOffering": {"id": "smartphone"}, "product": {
                "productCharacteristic": [{"name": "model", "value": "smartphone", "@type": "Characteristic"}],
                "realizingResource": [{"id": "terminal-smartphone"}]}}]},
        {"shoppingCart": {"id": "fz-cart"}, "requestedDate": "2026-09-01"}],
    ("POST", "/tmf-api/productConfigurationManagement/v5/queryProductConfiguration"): [
        {"shoppingCart": {"id": "fz-cart"}, "requestedDate": "2026-09-01"},
        {"relatedParty": PARTY, "cartItem": [ITEM], "requestedDate": "2026-09-01"}],
    ("POST", "/tmf-api/customerManagement/v4/customer"): [{"id": "fz-cust-2", "name": "Bob", "engagedParty": {
        "id": "fz-org", "@referredType": "Organization"}}],
    ("PATCH", "/tmf-api/customerManagement/v4/customer/{id}"): [{"name": "Ana B", "status": "approved"}],
    ("PATCH", "/tmf-api/shoppingCart/v4/shoppingCart/{id}"): [{"cartItem": [ITEM]}],
    ("PATCH", "/tmf-api/accountManagement/v4/billingAccount/{id}"): [{"name": "Ana B", "state": "active"}],
    ("PATCH", "/tmf-api/party/v4/individual/{id}"): [{"givenName": "Anna", "partyCharacteristic": [
        {"name": "classification", "value": "gold"}]}],
    ("POST", f"{PC}/productSpecification"): [{
        "id": "fz-spec", "name": "IoT SIM", "brand": "Acme",
        "productSpecCharacteristic": [{"name": "apn", "valueType": "string", "productSpecCharacteristicValue": [
            {"value": "iot.example", "isDefault": True}, {"value": "m2m.example"}]}]}],
    ("POST", f"{PC}/productOffering"): [{
        "id": "fz-offer", "name": "IoT connectivity", "partnerEligible": True,
        "productSpecification": {"id": "car-connectivity"}, "category": [{"id": "connectivity"}],
        "productOfferingPrice": [{"id": "car-connectivity-monthly"}]}],
    ("POST", f"{PC}/productOfferingPrice"): [{
        "id": "fz-price", "name": "IoT per month", "priceType": "recurring", "recurringChargePeriodType": "month",
        "price": {"unit": "EUR", "value": 1.25}}],
    ("PATCH", f"{PC}/productOfferingPrice/{{id}}"): [{"price": {"value": 1.5}, "name": "p"}],
    ("PATCH", f"{PC}/category/{{id}}"): [{"name": "C3", "description": "d"}],
    ("PATCH", "/tmf-api/partnerManagement/v4/partner/{id}"): [{"name": "P3", "description": "d",
                                                               "apiBundle": BUNDLE}],
    ("PATCH", "/tmf-api/productOrderingManagement/v4/productOrder/{id}"): [{"state": "inProgress"}],
    ("POST", "/tmf-api/troubleTicket/v4/troubleTicket"): [{
        "id": "fz-t2", "description": "d", "severity": "minor", "ticketType": "complaint",
        "relatedParty": [{"id": "fz-org", "role": "assignee", "@referredType": "Organization"}]}],
    ("PATCH", "/tmf-api/troubleTicket/v4/troubleTicket/{id}"): [{"status": "inProgress",
                                                                 "note": [{"text": "looking"}]}],
    ("POST", "/tmf-api/customerBillManagement/v4/billRun"): [{"period": "2026-06"},
                                                            {"period": "2026-06", "billingAccount": [{"id": "fz-ba"}]}],
    ("POST", "/tmf-api/customerBillManagement/v4/settlementRun"): [{"period": "2026-06"}],
    ("POST", "/tmf-api/slaManagement/v4/slaMeasurement"): [{"sla": {"id": "fz-sla"}, "metric": "availability",
                                                            "value": 99.5, "observedAt": "2026-06-01T00:00:00Z"}],
    ("POST", "/tmf-api/slaManagement/v4/sla"): [{"id": "fz-sla-2", "name": "S", "ruleSet": {"id": "call-center-sla"},
                                                 "relatedParty": [{"id": "csp", "role": "provider"},
                                                                  {"id": "car-maker", "role": "consumer"}]}],
    ("POST", "/tmf-api/usageConsumption/v4/queryUsageConsumption"): [
        {"searchCriteria": {"product": [{"id": "fz-line"}]}}],
    ("POST", "/tmf-api/party/v4/individual"): [{"id": "fz-bob", "givenName": "Bob", "familyName": "T"}],
    ("POST", "/tmf-api/accountManagement/v4/billingAccount"): [{"id": "fz-ba-2", "name": "x", "relatedParty": [
        {"id": "fz-ana", "name": "Ana", "role": "owner", "@referredType": "Individual"}]}],
    ("POST", f"{PC}/category"): [{"id": "fz-cat-2", "name": "C2", "parentId": "fz-category"}],
    ("POST", f"{PC}/catalog"): [{"id": "fz-catalog", "name": "K"}],
    ("PATCH", f"{PC}/productOffering/{{id}}"): [{"description": "d", "name": "n"}],
    ("POST", "/tmf-api/partnerManagement/v4/partner"): [{"id": "fz-p2", "name": "P2", "apiBundle": BUNDLE}],
    ("POST", "/tmf-api/productOrderingManagement/v4/hub"): [{"callback": "http://127.0.0.1:9/cb",
                                                             "query": "eventType=ProductOrderCreateEvent"}],
}
# Ids the path parameters take besides the hostile ones: what the setup made, by collection.
KNOWN_IDS = {"individual": "fz-ana", "organization": "fz-org", "customer": "fz-cust", "billingAccount": "fz-ba",
             "product": "fz-line", "bucket": "fz-bucket", "usage": "fz-usage", "shoppingCart": "fz-cart",
             "troubleTicket": "fz-ticket", "sla": "fz-sla", "partner": "fz-partner", "category": "fz-category",
             "productOffering": "mobile-data-plan", "productOrder": "fz-o1", "productOfferingPrice": "fz-price",
             "productSpecification": "fz-spec", "catalog": "fz-catalog",
             "productOfferingQualification": "fz-q1", "customerBill": "fz-ba-2026-06-EUR"}


# ------------------------------------------------------------------------- the database


def _engine(url: str | None, worker: int, folder: Path) -> tuple[Any, Any]:
    """(engine, cleanup) of a fresh migrated database for one worker."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from bssrules.store.db import database_url, make_engine

    if not url or url.startswith("sqlite"):
        engine = make_engine(f"sqlite:///{folder / f'fuzz-{worker}.db'}")
        return engine, engine.dispose
    admin_url = make_url(database_url(url))
    name = f"bssrules_fuzz_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(admin_url.set(database=name).render_as_string(hide_password=False))

    def cleanup() -> None:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()

    return engine, cleanup


def _load_examples(engine: Any) -> None:
    from bssrules.rules.project import load_project
    from bssrules.services import catalog as services
    from bssrules.store import UnitOfWork

    for example in EXAMPLES:
        with UnitOfWork(engine) as uow:
            services.load_project(uow, load_project(ROOT / "examples" / example), example)


# ----------------------------------------------------------------------------- a run


class Tally:
    """Requests, answers by class (2xx, 4xx …) and problems of one operation."""

    def __init__(self) -> None:
        self.requests = 0
        self.classes: dict[str, int] = {}
        self.problems: list[str] = []


class Recorder(logging.Handler):
    """Keeps the tracebacks the app logs for its 500s, to print with the request."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append("".join(traceback.format_exception(*record.exc_info))[-1500:])

    def take(self) -> str:
        taken, self.records = "\n".join(self.records), []
        return taken


def _shown(value: Any, limit: int = 300) -> str:
    text = simplejson.dumps(value, use_decimal=True, ensure_ascii=True, default=repr) if not isinstance(value, bytes) \
        else repr(value)
    return text if len(text) <= limit else text[:limit] + f"... ({len(text)} characters)"


def _check(tally: Tally, recorder: Recorder, status: int, body: bytes, content_type: str, request: str) -> None:
    tally.requests += 1
    tally.classes[f"{status // 100}xx"] = tally.classes.get(f"{status // 100}xx", 0) + 1
    if status >= 500:
        tally.problems.append(f"{status} for {request}\n{recorder.take() or '(no traceback logged)'}")
    elif status >= 400:
        try:
            error = simplejson.loads(body)
        except ValueError:
            error = None
        if not content_type.startswith("application/json") or not isinstance(error, dict) \
                or not TMF_ERROR <= error.keys() or error.get("status") != str(status):
            tally.problems.append(f"{status} without a TMF Error body for {request}: {body[:200]!r}")
    recorder.take()


def _served(app: Any) -> Any:
    """The app as a server runs it: an exception after the 500 was sent is logged, not raised."""
    async def server(scope: dict[str, Any], receive: Any, send: Any) -> None:
        try:
            await app(scope, receive, send)
        except Exception:
            if scope["type"] != "http":
                raise

    return server


def _schemathesis_phase(openapi: dict[str, Any], app: Any, operations: list[tuple[str, str]], examples: int,
                        run_seed: int, tallies: dict[tuple[str, str], Tally], recorder: Recorder,
                        accepted: dict[tuple[str, str], list[Any]]) -> None:
    import schemathesis
    from schemathesis import GenerationMode

    config = schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": False},
                                                       "examples": {"enabled": False}}})
    schema = schemathesis.openapi.from_dict(openapi, config=config)
    wanted = set(operations)
    for result in schema.get_all_operations():
        operation = result.ok()
        key = (operation.method.upper(), operation.path)
        if key not in wanted:
            continue
        tally = tallies[key]
        strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(GenerationMode.NEGATIVE)

        @seed(run_seed)
        @settings(max_examples=examples, deadline=None, database=None, phases=[Phase.generate],
                  suppress_health_check=list(HealthCheck))
        @given(case=strategy)
        def call(case: Any) -> None:
            response = case.call(app=app)
            content_type = (response.headers.get("content-type") or [""])[0]
            _check(tally, recorder, response.status_code, response.content or b"", content_type,
                   f"{case.method} {case.formatted_path} query={_shown(case.query)} body={_shown(case.body)}")
            if 200 <= response.status_code < 300 and isinstance(case.body, (dict, list)):
                kept = accepted.setdefault(key, [])
                if len(kept) < 3:
                    kept.append(copy.deepcopy(case.body))

        try:
            call()
        except Exception as exc:  # noqa: BLE001 - a failure of the generator, reported, never hidden
            tally.problems.append(f"the generator failed: {exc!r}")


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _leaves(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _leaves(child, (*path, index))
    else:
        yield path, value


def _replaced(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    copied = copy.deepcopy(value)
    if not path:
        return new
    node = copied
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = new
    return copied


def _mutations(body: Any) -> Iterator[Any]:
    """The body with each leaf replaced in turn by hostile values (strings for strings,
    numbers for numbers, a few of each for the rest), the id by hostile ids, and an attribute
    of a hostile name added."""
    leaves = list(_leaves(body))
    for index, (path, leaf) in enumerate(leaves):
        if isinstance(leaf, str):
            values: list[Any] = HOSTILE_STRINGS if len(leaves) <= 12 else HOSTILE_STRINGS[index % 3::3]
        elif isinstance(leaf, (int, float, Decimal)) and not isinstance(leaf, bool):
            values = HOSTILE_NUMBERS
        else:
            values = ["\x00", 5, None]
        for value in values:
            yield _replaced(body, path, value)
    objects = [body] if isinstance(body, dict) else [b for b in body if isinstance(b, dict)] if isinstance(body, list) \
        else []
    for target in objects[:1]:
        for value in [*HOSTILE_IDS, 5, 5.5, True, [], {}]:
            yield _replaced(body, (() if target is body else (0,)) + ("id",), value)
        for name in ("\x00", "\ud800", "😀", "x" * 300):
            yield _replaced(body, (() if target is body else (0,)) + (name,), "v")


def _path_ids(path: str) -> list[str]:
    names = re.findall(r"\{([^}]+)\}", path)
    if not names:
        return [path]
    collection = path.split("/{")[0].rsplit("/", 1)[-1]
    known = KNOWN_IDS.get(collection, "fz-none")
    urls = []
    for value in [known, *HOSTILE_IDS]:
        url = path
        for name in names:
            url = url.replace("{" + name + "}", quote(value, safe="", errors="surrogatepass"), 1)
        urls.append(url)
    return urls


def _send(client: Any, method: str, url: str, body: Any = None, params: dict[str, str] | None = None) -> Any:
    content = None
    headers = {}
    if body is not None:
        content = simplejson.dumps(body, use_decimal=True, ensure_ascii=True).encode("ascii")
        headers["content-type"] = "application/merge-patch+json" if method == "PATCH" else "application/json"
    if params:  # encoded by hand: a lone surrogate has no UTF-8, so it goes as its escaped bytes
        url += "?" + "&".join(f"{quote(k, safe='', errors='surrogatepass')}={quote(v, safe='', errors='surrogatepass')}"
                              for k, v in params.items())
    return client.request(method, url, content=content, headers=headers)


def _hostile_phase(client: Any, operations: list[tuple[str, str]],
                   tallies: dict[tuple[str, str], Tally], recorder: Recorder,
                   accepted: dict[tuple[str, str], list[Any]]) -> None:
    rank = {"POST": 0, "PUT": 1, "PATCH": 1, "GET": 2, "DELETE": 3}  # what the seeds made is deleted last
    for method, path in sorted(operations, key=lambda op: (rank.get(op[0], 2), op[1])):
        tally = tallies[(method, path)]
        reads_body = method in ("POST", "PATCH", "PUT") and not path.endswith("/key")
        bodies = list(SEEDS.get((method, path), [])) + accepted.get((method, path), [])
        if reads_body and not bodies:
            bodies = [{}]
        for url in _path_ids(path):
            if not reads_body:
                response = _send(client, method, url)
                _check(tally, recorder, response.status_code, response.content,
                       response.headers.get("content-type", ""), f"{method} {url}")
                if method == "GET" and "{" not in path:
                    for params in HOSTILE_QUERIES:
                        response = _send(client, method, url, params=params)
                        _check(tally, recorder, response.status_code, response.content,
                               response.headers.get("content-type", ""), f"{method} {url} query={_shown(params)}")
                continue
            for body in bodies[:1] if url != _path_ids(path)[0] else bodies:
                # every seed at the known id; only the first one at the hostile ids
                response = _send(client, method, url, body)
                _check(tally, recorder, response.status_code, response.content,
                       response.headers.get("content-type", ""), f"{method} {url} body={_shown(body)}")
                if url != _path_ids(path)[0]:
                    continue
                for mutated in _mutations(body):
                    response = _send(client, method, url, mutated)
                    _check(tally, recorder, response.status_code, response.content,
                           response.headers.get("content-type", ""), f"{method} {url} body={_shown(mutated)}")


Outcome = tuple[int, dict[str, int], list[str]]


def _worker(args: tuple[int, list[tuple[str, str]], int, int, str | None]) -> dict[tuple[str, str], Outcome]:
    index, operations, examples, run_seed, url = args
    from fastapi.testclient import TestClient

    from bssrules.api import create_app

    recorder = Recorder()
    log = logging.getLogger("bssrules.api")
    log.addHandler(recorder)
    log.propagate = False  # the tracebacks are printed with their requests, not as they come
    tallies = {op: Tally() for op in operations}
    accepted: dict[tuple[str, str], list[Any]] = {}
    with tempfile.TemporaryDirectory() as folder:
        engine, cleanup = _engine(url, index, Path(folder))
        try:
            _load_examples(engine)
            openapi = create_app(auth=False).openapi()
            with TestClient(create_app(engine=engine, auth=False), raise_server_exceptions=False) as client:
                for method, path, body in SETUP:
                    response = _send(client, method, path, body)
                    if response.status_code >= 300:
                        raise RuntimeError(f"setup failed: {method} {path}: {response.status_code} "
                                           f"{response.text[:300]}")
                recorder.take()
                app = _served(create_app(engine=engine, auth=False))
                _schemathesis_phase(openapi, app, operations, examples, run_seed, tallies, recorder, accepted)
                _hostile_phase(client, operations, tallies, recorder, accepted)
        finally:
            cleanup()
    return {op: (t.requests, t.classes, t.problems) for op, t in tallies.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python tools/fuzz.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=100, help="schemathesis examples per operation (100)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes (one per core)")
    parser.add_argument("--only", help="only the operations whose 'METHOD /path' contains this text")
    parser.add_argument("--seed", type=int, default=20260601, help="the seed of the generated requests")
    parser.add_argument("--database-url", default=os.environ.get("BSSRULES_FUZZ_DATABASE_URL"),
                        help="a PostgreSQL server to fuzz on (a database per worker is made there); default SQLite")
    options = parser.parse_args(argv)

    from bssrules.api import create_app

    openapi = create_app(auth=False).openapi()
    operations = sorted((m.upper(), p) for p, ops in openapi["paths"].items() for m in ops
                        if m in ("get", "post", "put", "patch", "delete"))
    if options.only:
        operations = [op for op in operations if options.only in f"{op[0]} {op[1]}"]
    workers = max(1, min(options.workers, len(operations)))
    shares = [operations[i::workers] for i in range(workers)]
    database = "PostgreSQL" if options.database_url and not options.database_url.startswith("sqlite") else "SQLite"
    print(f"fuzzing {len(operations)} operations on {database}: {options.max_examples} schemathesis examples each, "
          f"then hostile values; {workers} worker(s), seed {options.seed}", flush=True)
    started = time.perf_counter()
    jobs = [(i, share, options.max_examples, options.seed, options.database_url) for i, share in enumerate(shares)]
    if workers == 1:
        results = [_worker(jobs[0])]
    else:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            results = pool.map(_worker, jobs)
    elapsed = time.perf_counter() - started
    merged = {op: outcome for result in results for op, outcome in result.items()}
    total = sum(requests for requests, _, _ in merged.values())
    server_errors = sum(1 for _, _, problems in merged.values() for p in problems if p[:1] == "5")
    others = sum(1 for _, _, problems in merged.values() for p in problems if p[:1] != "5")
    width = max(len(f"{m} {p}") for m, p in operations)
    print(f"\n{'operation':<{width}}  requests     2xx     4xx  server errors")
    for method, path in operations:
        requests, classes, problems = merged[(method, path)]
        errors = sum(1 for p in problems if p[:1] == "5")
        print(f"{method + ' ' + path:<{width}}  {requests:>8}  {classes.get('2xx', 0):>6}  {classes.get('4xx', 0):>6}"
              f"  {errors:>13}" + (f"  (+{len(problems) - errors} other problems)" if len(problems) > errors else ""))
    for (method, path), (_, _, problems) in merged.items():
        for problem in problems[:5]:
            print(f"\n--- {method} {path}: {problem}")
    print(f"\n{len(operations)} operations, {total} requests, {server_errors} server errors (5xx), "
          f"{others} other problems, in {elapsed:.0f} s ({database}, {workers} worker(s))")
    return 1 if server_errors or others else 0


if __name__ == "__main__":
    sys.exit(main())
