"""What a partner sees when the operator placed the order: the one visibility rule
(``bssrules/store/visibility.py``) in every API that lists or reads products, usage, buckets,
running totals, bills and bill items — over HTTP, authentication on, both tiers.

The connected car, sold by the operator: the CSP (administrator) registers the driver Ana
(an individual of its own, with her own billing account), orders the car's connectivity for
the car manufacturer and the infotainment package for Ana (the car manufacturer a payer of
it), posts the car's usage and runs the month's bills. Nothing of it was made by the car
manufacturer but its organization and its billing account; yet

* every product its bill items name is its to read (it pays for it, or its party is a
  related party), in the inventory's list and one by one, with the usages behind them (list,
  retrieve, filter by product), their running totals, their buckets and their aggregated
  usage, the consumption query, and its bills and bill items;
* what it only sees is not its to change: a patch or a delete is a 403 and changes nothing;
* another partner sees none of it (404, empty lists), before and after;
* Ana, registered as a partner acting for herself (``party``), reads her own bill and its
  items, and nothing of the car manufacturer's.

Expected values are written here, not derived from the code under test.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import Engine, text

from tests.api.test_partners_auth import (
    ACCOUNT, BILL, BILL_RUN, BUCKET, EVERY_TMF_API, INVENTORY, ORDER, PARTNER, PARTY, QUERY_CONSUMPTION, RATE, USAGE, USAGE_API,
    Api, _error, _load, _not_found, api,
)



def _instant(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _usage(id: str, product: str, service: str, gigabytes: str, at: dt.datetime) -> dict[str, Any]:
    return {"id": id, "usageDate": _instant(at), "usageType": "data", "usageCharacteristic": [
        {"name": "productId", "value": product}, {"name": "service", "value": service},
        {"name": "volume", "value": float(gigabytes)}, {"name": "unit", "value": "GB"},
        {"name": "roaming", "value": False}]}


class SoldByTheOperator:
    def __init__(self, api: Api):
        self.api = api
        admin = self.admin = api.admin_key
        every = [{"name": n} for n in EVERY_TMF_API]
        self.maker, self.other = api.partner("car-maker", every), api.partner("other", every)
        # the car manufacturer: its organization and its account, nothing else of its own
        api.ok("POST", f"{PARTY}/organization", self.maker, {"id": "car-maker", "name": "Car manufacturer",
                                                             "tradingName": "Car manufacturer"})
        api.ok("POST", f"{ACCOUNT}/billingAccount", self.maker, {"id": "ba-car-maker", "name": "Car manufacturer",
                                                                 "relatedParty": [{"id": "car-maker", "role": "owner",
                                                                                   "name": "Car manufacturer",
                                                                                   "@referredType": "Organization"}]})
        # another partner's customer, its own line: none of the above sees it, it sees none of them
        api.ok("POST", f"{PARTY}/individual", self.other, {"id": "other-cust", "givenName": "O", "familyName": "C"})
        # the operator's customer, Ana, with her own account
        api.ok("POST", f"{PARTY}/individual", admin, {"id": "driver-1", "givenName": "Ana", "familyName": "Silva"})
        api.ok("POST", f"{ACCOUNT}/billingAccount", admin, {"id": "ba-driver", "name": "Ana Silva", "relatedParty": [
            {"id": "driver-1", "name": "Ana Silva", "role": "owner", "@referredType": "Individual"}]})
        now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        self.start = now.replace(day=1, hour=0, minute=0, second=0)
        self.period = self.start.strftime("%Y-%m")
        connectivity = self._order({
            "relatedParty": [{"id": "car-maker", "role": "customer", "@referredType": "Organization"},
                             {"id": "car-maker", "role": "car-maker", "@referredType": "Organization"}],
            "channel": [{"id": "csp-b2b-portal", "role": "sales channel"}],
            "productOrderItem": [{"id": "1", "action": "add", "quantity": 1,
                                  "productOffering": {"id": "car-connectivity-b2b"},
                                  "product": {"productCharacteristic": [{"name": "vin", "value": "VIN0001"}]}}]})
        [self.car] = connectivity
        self.api.ok("PATCH", f"{INVENTORY}/{self.car}", admin, {"relatedParty": [
            {"id": "car-maker", "role": "customer", "@referredType": "Organization"},
            {"id": "car-maker", "role": "car-maker", "@referredType": "Organization"},
            {"id": "driver-1", "role": "user", "@referredType": "Individual"}]})
        [self.package] = self._order({
            "relatedParty": [{"id": "driver-1", "role": "customer", "@referredType": "Individual"},
                             {"id": "driver-1", "role": "driver", "@referredType": "Individual"},
                             {"id": "car-maker", "role": "car-maker", "@referredType": "Organization"}],
            "channel": [{"id": "car-maker-portal", "role": "sales channel"}],
            "productOrderItem": [{"id": "1", "action": "add", "quantity": 1,
                                  "productOffering": {"id": "infotainment-connectivity"},
                                  "product": {"productCharacteristic": [{"name": "monthlyVolume", "value": 5}]}}]})
        package = api.ok("GET", f"{INVENTORY}/{self.package}", admin)
        assert package["billingAccount"] == {"id": "ba-driver"}, package  # Ana pays the package
        used = min(self.start + dt.timedelta(hours=2), now)  # never ahead of now (usageInFuture)
        answers = api.ok("POST", USAGE, admin, [_usage("info-1", self.package, "infotainment", "0.5", used),
                                                _usage("tele-1", self.package, "telematics", "0.2", used)])
        payers = {u["id"]: [r["billingAccount"]["id"] for r in u["ratedProductUsage"]] for u in answers}
        assert payers == {"info-1": ["ba-driver"], "tele-1": ["ba-car-maker"]}, answers
        api.ok("POST", BUCKET, admin, {"id": "bucket-package", "product": [{"id": self.package}], "usageType": "data",
                                       "remainingValue": {"amount": 1, "units": "GB"}})
        run = api.ok("POST", BILL_RUN, admin, {"period": self.period})
        self.maker_bill, self.driver_bill = f"ba-car-maker-{self.period}-EUR", f"ba-driver-{self.period}-EUR"
        assert sorted(run["billsMade"]) == sorted([self.maker_bill, self.driver_bill]), run

    def _order(self, body: dict[str, Any]) -> list[str]:
        """Place, fulfil and backdate (to the month's start) an order of the operator's: its products."""
        order = self.api.ok("POST", ORDER, self.admin, body)
        for state in ("inProgress", "completed"):
            self.api.ok("PATCH", f"{ORDER}/{order['id']}", self.admin, {"state": state})
        made = [p["id"] for p in self.api.ok("GET", INVENTORY, self.admin, params={"productOrderItem.productOrderId":
                                                                                       order["id"]})]
        for product in made:
            self.api.ok("PATCH", f"{INVENTORY}/{product}", self.admin, {"startDate": _instant(self.start)})
        return made


@pytest.fixture
def sold(engine: Engine, api: Api) -> SoldByTheOperator:
    _load(engine, "connected_car")
    return SoldByTheOperator(api)


def _ids(api: Api, key: str, path: str, **params: Any) -> list[str]:
    return sorted(item["id"] for item in api.ok("GET", path, key, params=params or None))


def test_every_product_of_a_partners_bill_items_is_its_to_read_though_the_operator_ordered_it(
        sold: SoldByTheOperator) -> None:
    api, maker = sold.api, sold.maker
    items = api.ok("GET", RATE, maker, params={"bill.id": sold.maker_bill})
    named = sorted({i["product"]["id"] for i in items if "product" in i})
    # the connectivity's fees and the package's telematics usage
    assert named == sorted([sold.car, sold.package]), items
    for product in named:
        assert api.ok("GET", f"{INVENTORY}/{product}", maker)["id"] == product
    assert _ids(api, maker, INVENTORY) == named
    # its bill, and its items, one by one
    assert api.ok("GET", f"{BILL}/{sold.maker_bill}", maker)["id"] == sold.maker_bill
    for item in items:
        assert api.ok("GET", f"{RATE}/{item['id']}", maker)["id"] == item["id"]


def test_a_partner_lists_and_reads_the_usage_and_totals_of_the_products_it_pays_for(sold: SoldByTheOperator) -> None:
    api, maker = sold.api, sold.maker
    # every usage of the package (infotainment is Ana's to pay, but the package is paid by it too)
    assert _ids(api, maker, USAGE) == ["info-1", "tele-1"]
    assert _ids(api, maker, USAGE, **{"ratedProductUsage.productRef.id": sold.package}) == ["info-1", "tele-1"]
    for usage in ("info-1", "tele-1"):
        assert api.ok("GET", f"{USAGE}/{usage}", maker)["id"] == usage
    # (the connected car counts no running totals: the isolation matrix of test_partners_auth reads them)
    assert api.ok("GET", f"{USAGE_API}/accumulator", maker, params={"product": sold.package}) == \
        api.ok("GET", f"{USAGE_API}/accumulator", sold.admin, params={"product": sold.package})
    aggregated = api.ok("GET", f"{USAGE_API}/aggregatedUsage", maker, params={
        "product": sold.package, "groupBy": "billingAccount", "start": _instant(sold.start),
        "end": _instant(sold.start + dt.timedelta(days=40))})
    assert sorted(t["billingAccount"] for t in aggregated["total"]) == ["ba-car-maker", "ba-driver"]
    assert _ids(api, maker, BUCKET) == ["bucket-package"]
    assert api.ok("GET", f"{BUCKET}/bucket-package", maker)["id"] == "bucket-package"
    consumption = api.ok("POST", QUERY_CONSUMPTION, maker, {"searchCriteria": {"product": [{"id": sold.package}]}},
                         status=201)
    assert consumption["@type"] == "QueryUsageConsumption"


def test_what_a_partner_only_pays_for_is_not_its_to_change(sold: SoldByTheOperator) -> None:
    api, maker = sold.api, sold.maker
    for method, path, body in (("PATCH", f"{INVENTORY}/{sold.package}", {"status": "terminated"}),
                               ("DELETE", f"{INVENTORY}/{sold.package}", None),
                               ("PATCH", f"{INVENTORY}/{sold.car}", {"status": "suspended"}),
                               ("DELETE", f"{BUCKET}/bucket-package", None)):
        response = api.call(method, path, maker, json_body=body)
        assert response.status_code == 403, (method, path, response.text)
        assert response.json()["code"] == "forbidden" and "yours to read, not to change" in \
            response.json()["message"], response.json()
    assert api.ok("GET", f"{INVENTORY}/{sold.package}", sold.admin)["status"] == "active"
    assert api.ok("GET", f"{INVENTORY}/{sold.car}", sold.admin)["status"] == "active"
    # Ana's account, and so her bill, are not the car manufacturer's: it names none of its parties
    for path, kind, id in ((f"{ACCOUNT}/billingAccount/ba-driver", "BillingAccount", "ba-driver"),
                           (f"{BILL}/{sold.driver_bill}", "CustomerBill", sold.driver_bill)):
        response = api.call("GET", path, maker)
        assert (response.status_code, response.json()) == (404, _not_found(kind, id)), path
    assert api.ok("GET", f"{BUCKET}/bucket-package", sold.admin)["id"] == "bucket-package"


def test_another_partner_sees_none_of_it(sold: SoldByTheOperator) -> None:
    api, other = sold.api, sold.other
    for path, kind in ((f"{INVENTORY}/{sold.package}", "Product"), (f"{INVENTORY}/{sold.car}", "Product"),
                       (f"{USAGE}/tele-1", "Usage"), (f"{BUCKET}/bucket-package", "Bucket"),
                       (f"{BILL}/{sold.maker_bill}", "CustomerBill"), (f"{BILL}/{sold.driver_bill}", "CustomerBill"),
                       (f"{RATE}/{sold.maker_bill}-0001", "AppliedCustomerBillingRate"),
                       (f"{ACCOUNT}/billingAccount/ba-driver", "BillingAccount"),
                       (f"{PARTY}/individual/driver-1", "Individual")):
        response = api.call("GET", path, other)
        assert (response.status_code, response.json()) == (404, _not_found(kind, path.rsplit("/", 1)[1])), path
    for path in (INVENTORY, USAGE, BUCKET, BILL, RATE, f"{ACCOUNT}/billingAccount"):
        assert _ids(api, other, path) == [], path
    assert api.ok("GET", f"{USAGE_API}/accumulator", other, params={"product": sold.package}) == []


def test_a_party_id_is_one_space_for_individuals_and_organizations(sold: SoldByTheOperator) -> None:
    """Whose party a product names decides who sees it: another partner cannot make an
    organization with the id of an individual (and so see its products)."""
    response = sold.api.call("POST", f"{PARTY}/organization", sold.other, json_body={
        "id": "driver-1", "name": "Not Ana", "tradingName": "x"})
    assert (response.status_code, response.json()["code"]) == (409, "conflict"), response.text
    assert _ids(sold.api, sold.other, INVENTORY) == []


def test_an_individual_payer_reads_her_own_bill_with_a_key_of_her_own(sold: SoldByTheOperator) -> None:
    api = sold.api
    created = api.ok("POST", PARTNER, sold.admin, {
        "id": "ana", "name": "Ana Silva", "party": {"id": "driver-1"},
        "apiBundle": {"name": "payer", "api": [{"name": "TMF678", "operations": ["list", "retrieve"]}]}})
    assert created["party"] == {"id": "driver-1", "@referredType": "Individual"}
    ana = created["apiKey"]
    assert _ids(api, ana, BILL) == [sold.driver_bill]
    bill = api.ok("GET", f"{BILL}/{sold.driver_bill}", ana)
    assert bill["billingAccount"]["id"] == "ba-driver"
    items = api.ok("GET", RATE, ana, params={"bill.id": sold.driver_bill})
    assert items and all(i["bill"]["id"] == sold.driver_bill for i in items)
    assert _ids(api, ana, RATE) == sorted(i["id"] for i in items)
    response = api.call("GET", f"{BILL}/{sold.maker_bill}", ana)
    assert (response.status_code, response.json()) == (404, _not_found("CustomerBill", sold.maker_bill))
    # her bundle reads bills only
    response = api.call("GET", INVENTORY, ana)
    assert response.status_code == 403
    # a party that does not exist, or of another shape, is refused and nothing is stored
    for party, status, code in (({"id": "nobody"}, 422, "unknownReference"),
                                ({"id": "driver-1", "@referredType": "Organization"}, 400, "invalidInput"),
                                ({"name": "x"}, 400, "invalidInput")):
        response = api.call("POST", PARTNER, sold.admin, json_body={
            "id": "ana-2", "name": "x", "party": party, "apiBundle": {"api": [{"name": "TMF678"}]}})
        assert (response.status_code, response.json()["code"]) == (status, code), response.text
        assert api.call("GET", f"{PARTNER}/ana-2", sold.admin).status_code == 404
    # acting for no party any more: she sees nothing
    assert "party" not in api.ok("PATCH", f"{PARTNER}/ana", sold.admin, {"party": None})
    assert _ids(api, ana, BILL) == []
    assert _error(404, "notFound", "Not Found", f"no CustomerBill with id '{sold.driver_bill}'") == \
        api.call("GET", f"{BILL}/{sold.driver_bill}", ana).json()


def test_a_product_whose_usage_was_charged_to_a_partner_stays_its_to_read(sold: SoldByTheOperator) -> None:
    """The package no longer names the car manufacturer (the operator took it off), but its
    telematics usage was charged to the car manufacturer's account: its bill item names the
    package, so the package and its usage stay readable."""
    api, maker = sold.api, sold.maker
    api.ok("PATCH", f"{INVENTORY}/{sold.package}", sold.admin, {"relatedParty": [
        {"id": "driver-1", "role": "customer", "@referredType": "Individual"},
        {"id": "driver-1", "role": "driver", "@referredType": "Individual"}]})
    assert api.ok("GET", f"{INVENTORY}/{sold.package}", maker)["id"] == sold.package
    assert _ids(api, maker, USAGE, **{"ratedProductUsage.productRef.id": sold.package}) == ["info-1", "tele-1"]
    response = api.call("GET", f"{INVENTORY}/{sold.package}", sold.other)
    assert (response.status_code, response.json()) == (404, _not_found("Product", sold.package))


def test_who_sees_a_resource_is_the_same_rule_read_the_other_way(engine: Engine, sold: SoldByTheOperator) -> None:
    """For every resource the rule covers and every partner: the partner reads it exactly
    when it is among the resource's viewers (those its events go to)."""
    from bssrules.services.ports import Principal
    from bssrules.store import UnitOfWork

    sold.api.ok("POST", PARTNER, sold.admin, {"id": "ana", "name": "Ana", "party": {"id": "driver-1"},
                                              "apiBundle": {"api": [{"name": "TMF678"}]}})
    partners = ("admin", "car-maker", "other", "ana")
    kinds = ("product", "billingAccount", "customerBill", "appliedCustomerBillingRate", "individual", "organization")
    checked = 0
    with UnitOfWork(engine) as everyone:
        rows = [(kind, r) for kind in kinds for r in sorted(everyone.resources.ids((kind,)))]
        viewers = {(kind, r): set(everyone.resources.viewers(kind, r)) for kind, r in rows}
    for partner in partners:
        with UnitOfWork(engine, Principal(partner, "partner")) as uow:
            for kind, r in rows:
                assert (uow.resources.get(kind, r) is not None) == (partner in viewers[kind, r]), (partner, kind, r)
                checked += 1
            # the lists (the rule as sets, from the partner's side) hold what it reads one by one
            for kind in kinds:
                one_by_one = {r for k, r in rows if k == kind and uow.resources.get(k, r) is not None}
                assert uow.resources.ids((kind,)) == one_by_one, (partner, kind)
                page, total = uow.resources.page(kind, {}, 0, 1000)
                assert ({s.id for s in page}, total) == (one_by_one, len(one_by_one)), (partner, kind)
            usages, _ = uow.usages.usages({}, 0, 1000)
            assert {u.id for u in usages} == {u for u in ("info-1", "tele-1") if uow.usages.usage(u) is not None}
            buckets, _ = uow.usages.buckets({}, 0, 1000)
            assert {b.id for b in buckets} == ({"bucket-package"} if uow.usages.bucket("bucket-package") else set())
    assert checked >= 4 * 10
    # and it says something: each partner is a viewer of something, and not of everything
    for partner in ("car-maker", "other", "ana"):
        assert 0 < sum(partner in v for v in viewers.values()) < len(viewers), partner


def test_a_bill_event_goes_to_every_partner_that_sees_the_bill(engine: Engine, sold: SoldByTheOperator) -> None:
    api = sold.api
    ana = api.ok("POST", PARTNER, sold.admin, {"id": "ana", "name": "Ana", "party": {"id": "driver-1"},
                                               "apiBundle": {"api": [{"name": "TMF678"}]}})["apiKey"]
    hubs = {who: api.ok("POST", "/tmf-api/customerBillManagement/v4/hub", key,
                        {"callback": f"http://{who}.example/bills"})["id"]
            for who, key in (("ana", ana), ("car-maker", sold.maker), ("other", sold.other))}
    following = (sold.start + dt.timedelta(days=40)).strftime("%Y-%m")
    run = api.ok("POST", BILL_RUN, sold.admin, {"period": following})
    bills = {f"ba-car-maker-{following}-EUR", f"ba-driver-{following}-EUR"}
    assert bills <= set(run["billsMade"]), run
    heard = {}
    for who, hub in hubs.items():
        deliveries = api.ok("GET", "/tmf-api/partnerManagement/v4/delivery", sold.admin, params={"hub": hub})
        events = {d["event"] for d in deliveries}
        heard[who] = sorted(e["event"]["customerBill"]["id"] for e in _events(engine, events))
    assert heard == {"ana": [f"ba-driver-{following}-EUR"], "car-maker": [f"ba-car-maker-{following}-EUR"],
                     "other": []}


def _events(engine: Engine, ids: set[str]) -> list[dict[str, Any]]:
    """The documents of these events, as the outbox keeps them."""
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, document FROM event")).fetchall()
    return [json.loads(document) for id, document in rows if id in ids]
