"""Rating and billing end to end: a real server (uvicorn on loopback) over a database loaded
with `bssrules load`, driven over HTTP as mediation and the partners would.

- pay-per-view (seed 001): movies at the night rate from 00:01 to 06:59, the base rate
  otherwise, free for a VIP; none without an effective PPV service;
- connected car (seed 000): the car manufacturer's connectivity and split billing order, the
  driver's infotainment order (the driver pays as third-party payer), a month of usage split
  between them, and the bill run that makes both invoices;
- data roaming (seed 003): roaming is blocked once it has cost 50 EUR in the month, while home
  data still rates.

Each scenario runs on SQLite and, when BSSRULES_TEST_POSTGRES_URL is set, on PostgreSQL."""
from __future__ import annotations

import calendar
import datetime as dt
import json
import os
import socket
import subprocess
import sys
import time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
BSSRULES = str(Path(sys.executable).parent / "bssrules")
PARTY, ACCOUNT = "/tmf-api/party/v4", "/tmf-api/accountManagement/v4"
INVENTORY, ORDER = "/tmf-api/productInventory/v4/product", "/tmf-api/productOrderingManagement/v4/productOrder"
USAGE_API = "/tmf-api/usageManagement/v4"
USAGE, AGGREGATED, ACCUMULATOR = f"{USAGE_API}/usage", f"{USAGE_API}/aggregatedUsage", f"{USAGE_API}/accumulator"
BILLS = "/tmf-api/customerBillManagement/v4"
RUN, BILL, RATE = f"{BILLS}/billRun", f"{BILLS}/customerBill", f"{BILLS}/appliedCustomerBillingRate"
MERGE = {"content-type": "application/merge-patch+json"}
UTC = dt.timezone.utc


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def serve(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """serve(example) -> an httpx client on a server holding that example, loaded by the CLI."""
    processes = []
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_server_url")
        engine = request.getfixturevalue("_postgres_engine")
        from bssrules.store.tables import metadata

        def empty() -> None:
            with engine.begin() as connection:
                for table in reversed(metadata.sorted_tables):
                    connection.execute(table.delete())

        empty()
        request.addfinalizer(empty)

    def start(example: str) -> httpx.Client:
        database = url if request.param == "postgres" else f"sqlite:///{tmp_path / (example + '.db')}"
        env = {**os.environ, "BSSRULES_DATABASE_URL": database}
        loaded = subprocess.run([BSSRULES, "load", f"examples/{example}", "--source", example], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=120)
        assert loaded.returncode == 0, loaded.stderr
        port = _free_port()
        process = subprocess.Popen([BSSRULES, "serve", "--port", str(port)], cwd=ROOT, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(process)
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60)
        for _ in range(150):
            try:
                client.get("/openapi.json")
                return client
            except httpx.TransportError:
                time.sleep(0.1)
        pytest.fail("server did not start within 15 s")

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=10)


def _ok(response: httpx.Response, status: int = 201) -> Any:
    assert response.status_code == status, response.text
    return json.loads(response.text, parse_float=Decimal)


def _item(id: str, offering: str, characteristics: dict[str, Any] | None = None) -> dict[str, Any]:
    item: dict[str, Any] = {"id": id, "action": "add", "quantity": 1, "productOffering": {"id": offering}}
    if characteristics:
        item["product"] = {"productCharacteristic": [{"name": k, "value": v, "@type": "Characteristic"}
                                                     for k, v in characteristics.items()]}
    return item


def _party(http: httpx.Client, kind: str, body: dict[str, Any], account: str) -> None:
    _ok(http.post(f"{PARTY}/{kind}", json=body))
    referred = "Individual" if kind == "individual" else "Organization"
    _ok(http.post(f"{ACCOUNT}/billingAccount", json={"id": account, "name": account, "relatedParty": [
        {"id": body["id"], "name": body["id"], "role": "owner", "@referredType": referred}]}))


def _start() -> str:
    """When the scenarios' products start: the 10th of the month three months ago, 09:30 (a part
    month first, then whole months wholly in the past). The orders ask for it (requestedStartDate,
    the operator's to backdate), so that the usage of the month after is dated in the products'
    real period and before it arrives, as mediation sends it."""
    now = dt.datetime.now(UTC)
    index = now.year * 12 + now.month - 1 - 3
    return f"{index // 12:04d}-{index % 12 + 1:02d}-10T09:30:00Z"


def _order(http: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    """Place an order that starts its products at _start() and complete it; returns the completed order."""
    order = _ok(http.post(ORDER, json={"requestedStartDate": _start(), **body}))
    assert order["state"] == "acknowledged"
    _ok(http.patch(f"{ORDER}/{order['id']}", json={"state": "inProgress"}, headers=MERGE), 200)
    done = _ok(http.patch(f"{ORDER}/{order['id']}", json={"state": "completed"}, headers=MERGE), 200)
    assert done["state"] == "completed", done.get("note")
    return done


def _owned(http: httpx.Client, party: str, offering: str) -> dict[str, Any]:
    [product] = [p for p in _ok(http.get(INVENTORY, params={"relatedParty.id": party}), 200)
                 if p["productOffering"]["id"] == offering]
    return product


def _usage(id: str, product: str, service: str, date: str, volume: Any = 1, unit: str | None = None,
           **more: Any) -> dict[str, Any]:
    characteristics = [{"name": "productId", "value": product}, {"name": "service", "value": service},
                       {"name": "volume", "value": volume}]
    if unit:
        characteristics.append({"name": "unit", "value": unit})
    characteristics += [{"name": k, "value": v} for k, v in more.items()]
    return {"id": id, "usageDate": date, "usageType": service, "usageCharacteristic": characteristics}


def _month_after(*products: dict[str, Any]) -> dt.datetime:
    """The first day of the month after the latest start of the products (a whole month, in the past)."""
    latest = max(dt.datetime.fromisoformat(p["startDate"].replace("Z", "+00:00")) for p in products)
    index = latest.year * 12 + latest.month
    return dt.datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)


def _started(product: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(product["startDate"].replace("Z", "+00:00"))


def _rest_of_month(monthly: str, start: dt.datetime) -> Decimal:
    """A monthly fee from ``start`` to the end of its month, to the second, by hand."""
    days = calendar.monthrange(start.year, start.month)[1]
    end = dt.datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=UTC)
    share = Decimal((end - start).total_seconds()) / Decimal(days * 86400)
    return (Decimal(monthly) * share).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _at(month: dt.datetime, day: int, hhmmss: str) -> str:
    return f"{month:%Y-%m}-{day:02d}T{hhmmss}Z"


def _items(http: httpx.Client, bill: str) -> list[tuple[str, str, str, Decimal]]:
    rates = sorted(_ok(http.get(RATE, params={"bill.id": bill}), 200), key=lambda r: int(r["id"].rsplit("-", 1)[1]))
    return [(r["appliedBillingRateType"], r["product"]["id"], r["name"], r["taxIncludedAmount"]["value"])
            for r in rates]


def _bill_total(http: httpx.Client, bill: str) -> Decimal:
    """The bill's amount due, after checking its items add up to it exactly."""
    amount = _ok(http.get(f"{BILL}/{bill}"), 200)["amountDue"]
    assert amount["unit"] == "EUR"
    assert sum((i[3] for i in _items(http, bill)), Decimal(0)) == amount["value"]
    return amount["value"]


# ----------------------------------------------------------------------------- pay-per-view (seed 001)


def test_ppv_movies_are_rated_by_the_time_they_start_and_a_vip_watches_for_free(serve: Any) -> None:
    http = serve("ppv")
    _party(http, "individual", {"id": "viewer", "givenName": "Vic", "familyName": "Tor"}, "ba-viewer")
    _party(http, "individual", {"id": "vera", "givenName": "Vera", "familyName": "Ip", "partyCharacteristic": [
        {"name": "classification", "value": "VIP"}]}, "ba-vera")
    movies = {}
    for party in ("viewer", "vera"):
        customer = [{"id": party, "role": "customer", "@referredType": "Individual"}]
        _order(http, {"relatedParty": customer, "channel": [{"id": "set-top-box"}],
                      "productOrderItem": [_item("1", "ppv-service")]})
        _order(http, {"relatedParty": customer, "channel": [{"id": "set-top-box"}],
                      "productOrderItem": [_item("1", "ppv-movie", {"title": "Metropolis"})]})
        movies[party] = _owned(http, party, "ppv-movie")
    service = _owned(http, "viewer", "ppv-service")
    assert service["billingAccount"] == {"id": "ba-viewer"}
    month = _month_after(service, movies["viewer"], _owned(http, "vera", "ppv-service"))

    times = ["00:00:00", "00:01:00", "03:00:00", "06:59:00", "07:00:00", "12:00:00"]
    rated = [_ok(http.post(USAGE, json=_usage(f"view-{t[:5]}", movies["viewer"]["id"], "ppv-movie",
                                              _at(month, 5, t), unit="movie", title="Metropolis")))
             for t in times]
    assert [u["status"] for u in rated] == ["rated"] * 6
    assert [u["ratedBy"]["amount"]["value"] for u in rated] == [Decimal(v) for v in
                                                                ("4.00", "2.50", "2.50", "2.50", "4.00", "4.00")]
    assert [(u["ratedBy"]["rule"], u["ratedBy"]["provisioningId"]) for u in rated] == [
        ("base-rate", "PPV-STD"), ("night-rate", "PPV-NIGHT"), ("night-rate", "PPV-NIGHT"),
        ("night-rate", "PPV-NIGHT"), ("base-rate", "PPV-STD"), ("base-rate", "PPV-STD")]
    assert {u["ratedBy"]["ruleSet"] for u in rated} == {"ppv-normal"}
    assert {(p["billingAccount"]["id"], p["billingAccount"]["role"]) for u in rated for p in u["ratedProductUsage"]
            } == {("ba-viewer", "customer")}
    last_second = _ok(http.post(USAGE, json=_usage("view-06:59:59", movies["viewer"]["id"], "ppv-movie",
                                                   _at(month, 6, "06:59:59"), unit="movie")))
    assert (last_second["ratedBy"]["rule"], last_second["ratedBy"]["amount"]["value"]) == ("night-rate",
                                                                                          Decimal("2.50"))

    vip = _ok(http.post(USAGE, json=_usage("vip-03:00", movies["vera"]["id"], "ppv-movie", _at(month, 5, "03:00:00"),
                                           unit="movie")))
    assert vip["status"] == "rated"
    assert vip["ratedBy"] == {"ruleSet": "ppv-vip", "rule": "vip-free", "ratedVolume": 1, "provisioningId": "PPV-VIP",
                              "amount": {"unit": "EUR", "value": Decimal("0.00")}}
    assert [p["taxIncludedRatingAmount"]["value"] for p in vip["ratedProductUsage"]] == [0]

    # Without an effective PPV service, a movie is not rated.
    _ok(http.patch(f"{INVENTORY}/{service['id']}", json={"status": "suspended"}, headers=MERGE), 200)
    refused = _ok(http.post(USAGE, json=_usage("view-suspended", movies["viewer"]["id"], "ppv-movie",
                                               _at(month, 7, "20:00:00"), unit="movie")))
    assert refused["status"] == "rejected"
    assert refused["rejectionReason"] == [{"code": "ppvServiceNotEffective",
                                           "label": "A movie needs an effective pay-per-view service",
                                           "prerequisite": "ppv-service-effective"}]
    _ok(http.patch(f"{INVENTORY}/{service['id']}", json={"status": "active"}, headers=MERGE), 200)

    # The month's bills: the PPV service and the movies for the viewer, the service alone for the VIP.
    run = _ok(http.post(RUN, json={"period": f"{month:%Y-%m}"}))
    assert run["billsMade"] == [f"ba-vera-{month:%Y-%m}-EUR", f"ba-viewer-{month:%Y-%m}-EUR"]
    assert _items(http, f"ba-viewer-{month:%Y-%m}-EUR") == [
        ("recurringCharge", service["id"], "ppv-service-monthly", Decimal("3.00")),
        ("usageCharge", movies["viewer"]["id"], "ppv-movie usage", Decimal("22.00"))]  # 19.50 + 2.50
    assert _bill_total(http, f"ba-viewer-{month:%Y-%m}-EUR") == Decimal("25.00")
    assert _bill_total(http, f"ba-vera-{month:%Y-%m}-EUR") == Decimal("3.00")


# ----------------------------------------------------------------------------- connected car (seed 000)


def test_connected_car_a_month_of_split_usage_gives_the_car_maker_and_the_driver_their_invoices(serve: Any) -> None:
    http = serve("connected_car")
    _party(http, "organization", {"id": "car-maker", "tradingName": "Car maker"}, "ba-car-maker")
    _party(http, "individual", {"id": "driver-1", "givenName": "Ana", "familyName": "Silva"}, "ba-driver")

    # Part 1: the car manufacturer buys connectivity for the car and the split billing offer.
    b2b = _order(http, {
        "relatedParty": [{"id": "car-maker", "role": "customer", "@referredType": "Organization"},
                         {"id": "car-maker", "role": "car-maker", "@referredType": "Organization"},
                         {"id": "driver-1", "role": "user", "@referredType": "Individual"}],
        "channel": [{"id": "csp-b2b-portal", "role": "sales channel"}],
        "productOrderItem": [_item("1", "car-connectivity-b2b", {"vin": "VF1CAR0000001"}),
                             _item("2", "split-billing-option")]})
    totals = {(t["priceType"], t.get("recurringChargePeriod")): t["price"]["taxIncludedAmount"]["value"]
              for t in b2b["orderTotalPrice"]}
    assert totals == {("oneTime", None): Decimal("5.00"), ("recurring", "month"): Decimal("152.50")}
    car = _owned(http, "car-maker", "car-connectivity-b2b")
    split = _owned(http, "car-maker", "split-billing-option")
    assert car["billingAccount"] == split["billingAccount"] == {"id": "ba-car-maker"}

    # Part 2: the driver buys the infotainment package and pays it as third-party payer.
    parties = [{"id": "driver-1", "role": "customer", "@referredType": "Individual"},
               {"id": "driver-1", "role": "driver", "@referredType": "Individual"},
               {"id": "car-maker", "role": "car-maker", "@referredType": "Organization"}]
    _order(http, {"relatedParty": parties, "channel": [{"id": "car-maker-portal", "role": "sales channel"}],
                  "productOrderItem": [_item("1", "infotainment-connectivity", {"monthlyVolume": 5})]})
    package = _owned(http, "driver-1", "infotainment-connectivity")
    assert package["billingAccount"] == {"id": "ba-driver"}
    month = _month_after(car, split, package)
    label = f"{month:%Y-%m}"

    # Mediation sends the month's usage of the car's SIM: infotainment and telematics.
    sim = package["id"]
    answered = _ok(http.post(USAGE, json=[
        _usage("info-1", sim, "infotainment", _at(month, 2, "08:00:00"), 2, "GB"),  # 2 x 2.00
        _usage("tele-1", sim, "telematics", _at(month, 3, "09:00:00"), 0.3, "GB"),  # 0.3 x 0.50
        _usage("info-2", sim, "infotainment", _at(month, 12, "18:30:00"), 7, "GB"),  # 5 x 2.00 + 2 x 1.50
        _usage("info-3", sim, "infotainment", _at(month, 20, "10:00:00"), 1.5, "GB", roaming=True),  # 8.00 + 2.50
    ]))
    assert [(u["id"], u["status"]) for u in answered] == [("info-1", "rated"), ("tele-1", "rated"),
                                                          ("info-2", "rated"), ("info-3", "rated")]
    tele = _ok(http.post(USAGE, json=_usage("tele-2", sim, "telematics", _at(month, 28, "23:59:59"), 1.2, "GB")))
    payers = {u["id"]: [(p["billingAccount"]["id"], p["billingAccount"]["role"], p["taxIncludedRatingAmount"]["value"])
                        for p in u["ratedProductUsage"]] for u in answered + [tele]}
    assert payers == {"info-1": [("ba-driver", "driver", Decimal("4.00"))],
                      "tele-1": [("ba-car-maker", "car-maker", Decimal("0.15"))],
                      "info-2": [("ba-driver", "driver", Decimal("13.00"))],
                      "info-3": [("ba-driver", "driver", Decimal("10.50"))],
                      "tele-2": [("ba-car-maker", "car-maker", Decimal("0.60"))]}
    assert [u["ratedBy"]["rule"] for u in answered] == ["home-data", "telematics-data", "home-data", "roaming-data"]

    # The car manufacturer follows consumption: the usage of the SIM, and what each payer owes so far.
    assert sorted(u["id"] for u in _ok(http.get(USAGE, params={"usageType": "telematics"}), 200)) == ["tele-1",
                                                                                                      "tele-2"]
    period = {"start": month.isoformat(), "end": (month + dt.timedelta(days=32)).replace(day=1).isoformat()}
    so_far = _ok(http.get(AGGREGATED, params={"product": sim, "groupBy": "billingAccount", **period}), 200)["total"]
    assert [(t["billingAccount"], t["value"], t["count"]) for t in so_far] == [
        ("ba-car-maker", Decimal("0.75"), 2), ("ba-driver", Decimal("27.50"), 3)]

    # End of the month: the bill run makes both invoices, each with its own items.
    run = _ok(http.post(RUN, json={"period": label}))
    maker_bill, driver_bill = f"ba-car-maker-{label}-EUR", f"ba-driver-{label}-EUR"
    assert (run["billsMade"], run["billsAlreadyMade"], run["lateUsage"]) == ([maker_bill, driver_bill], [], [])
    assert sorted(_items(http, maker_bill)) == sorted([
        ("recurringCharge", car["id"], "car-connectivity-monthly", Decimal("2.50")),
        ("recurringCharge", split["id"], "split-billing-monthly", Decimal("150.00")),
        ("usageCharge", sim, "telematics usage", Decimal("0.75"))])
    assert _bill_total(http, maker_bill) == Decimal("153.25")
    assert _items(http, driver_bill) == [
        ("recurringCharge", sim, "infotainment-monthly", Decimal("9.99")),
        ("usageCharge", sim, "infotainment usage", Decimal("27.50"))]
    assert _bill_total(http, driver_bill) == Decimal("37.49")
    # The car manufacturer receives its invoice and its bill items, and only its own.
    assert [b["id"] for b in _ok(http.get(BILL, params={"billingAccount.id": "ba-car-maker"}), 200)] == [maker_bill]
    assert {r["bill"]["id"] for r in _ok(http.get(RATE, params={"billingAccount.id": "ba-car-maker"}), 200)} == {
        maker_bill}
    assert [b["id"] for b in _ok(http.get(BILL, params={"billingAccount.id": "ba-driver"}), 200)] == [driver_bill]
    # Running the month again bills nothing twice.
    again = _ok(http.post(RUN, json={"period": label}))
    assert (again["billsMade"], again["billsAlreadyMade"]) == ([], [maker_bill, driver_bill])

    # The month the products started (the orders' requestedStartDate): the activation fee, and each fee
    # from its product's start.
    first = _started(car).strftime("%Y-%m")
    assert first != label and _started(car) == _started(package) == dt.datetime.fromisoformat(_start())
    assert _ok(http.post(RUN, json={"period": first}))["billsMade"] == [f"ba-car-maker-{first}-EUR",
                                                                        f"ba-driver-{first}-EUR"]
    assert sorted(_items(http, f"ba-car-maker-{first}-EUR")) == sorted([
        ("oneTimeCharge", car["id"], "car-connectivity-activation", Decimal("5.00")),
        ("recurringCharge", car["id"], "car-connectivity-monthly", _rest_of_month("2.50", _started(car))),
        ("recurringCharge", split["id"], "split-billing-monthly", _rest_of_month("150.00", _started(split)))])
    assert _items(http, f"ba-driver-{first}-EUR") == [
        ("recurringCharge", sim, "infotainment-monthly", _rest_of_month("9.99", _started(package)))]
    for account in ("ba-car-maker", "ba-driver"):
        _bill_total(http, f"{account}-{first}-EUR")


def test_connected_car_the_inventory_names_no_payer_for_a_usage_price_rating_decides_it(serve: Any) -> None:
    """Who pays a usage depends on the usage (its service): the inventory's usage price names no
    account (one account could only be wrong for some usages), its recurring price does, and
    rating bills each usage to the payer of its service."""
    http = serve("connected_car")
    _party(http, "organization", {"id": "car-maker", "tradingName": "Car maker"}, "ba-car-maker")
    _party(http, "individual", {"id": "driver-1", "givenName": "Ana", "familyName": "Silva"}, "ba-driver")
    _ok(http.post(INVENTORY, json={
        "id": "car-1", "status": "active", "startDate": _start(), "productOffering": {"id": "car-connectivity-b2b"},
        "relatedParty": [{"id": "car-maker", "role": "owner", "@referredType": "Organization"},
                         {"id": "driver-1", "role": "user", "@referredType": "Individual"}]}))
    parties = [{"id": "driver-1", "role": "customer", "@referredType": "Individual"},
               {"id": "driver-1", "role": "driver", "@referredType": "Individual"},
               {"id": "car-maker", "role": "car-maker", "@referredType": "Organization"}]
    _order(http, {"relatedParty": parties, "channel": [{"id": "car-maker-portal"}],
                  "productOrderItem": [_item("1", "infotainment-connectivity", {"monthlyVolume": 5})]})
    package = _owned(http, "driver-1", "infotainment-connectivity")
    month = _month_after(package)
    usage = _ok(http.post(USAGE, json=_usage("info-1", package["id"], "infotainment", _at(month, 2, "08:00:00"), 1,
                                             "GB")))
    assert "ratedProductUsage" in usage, usage
    assert usage["ratedProductUsage"][0]["billingAccount"]["id"] == "ba-driver"
    out_of_bundle = next(p for p in package["productPrice"] if p["priceType"] == "usage")
    assert "billingAccount" not in out_of_bundle, out_of_bundle
    monthly = next(p for p in package["productPrice"] if p["priceType"] == "recurring")
    assert monthly["billingAccount"] == {"id": "ba-driver"}
    telematics = _ok(http.post(USAGE, json=_usage("tele-1", package["id"], "telematics", _at(month, 2, "09:00:00"), 1,
                                                  "GB")))
    assert "ratedProductUsage" in telematics, telematics
    assert telematics["ratedProductUsage"][0]["billingAccount"]["id"] == "ba-car-maker"


# ----------------------------------------------------------------------------- data roaming (seed 003)


def test_roaming_is_blocked_once_it_has_cost_50_eur_in_the_month_while_home_data_still_rates(serve: Any) -> None:
    http = serve("roaming")
    _party(http, "individual", {"id": "ana", "givenName": "Ana", "familyName": "Silva"}, "ba-ana")
    order = _order(http, {"relatedParty": [{"id": "ana", "role": "customer", "@referredType": "Individual"}],
                          "channel": [{"id": "web"}], "productOrderItem": [_item("1", "mobile-data-plan")]})
    assert [t["price"]["taxIncludedAmount"]["value"] for t in order["orderTotalPrice"]] == [Decimal("10.00")]
    line = _owned(http, "ana", "mobile-data-plan")
    month = _month_after(line)
    label = f"{month:%Y-%m}"

    def roam(id: str, megabytes: int, day: int) -> dict[str, Any]:
        return _ok(http.post(USAGE, json=_usage(id, line["id"], "data", _at(month, day, "12:00:00"), megabytes, "MB",
                                                roaming=True, country="ES")))

    abroad = [roam(f"roam-{n}", mb, n) for n, mb in enumerate([300, 300, 200, 150, 100], start=1)]
    assert [(u["status"], u["ratedBy"]["amount"]["value"]) for u in abroad] == [
        ("rated", Decimal("15.00")), ("rated", Decimal("15.00")), ("rated", Decimal("10.00")),
        ("rated", Decimal("7.50")), ("rated", Decimal("5.00"))]
    assert [[(e["threshold"], e["action"], e["value"]) for e in u.get("event", [])] for u in abroad] == [
        [], [], [("budget-warning", "notify", Decimal("40.00"))], [], [("budget-reached", "block", Decimal("52.50"))]]

    blocked = roam("roam-6", 50, 6)
    assert blocked["status"] == "rejected"
    assert blocked["rejectionReason"] == [{
        "code": "roamingBudgetReached",
        "label": "The 50 EUR monthly data-roaming budget is reached; data roaming is blocked until next month",
        "threshold": "mobile-usage/roaming-budget/budget-reached"}]
    assert "ratedProductUsage" not in blocked
    home = _ok(http.post(USAGE, json=_usage("home-1", line["id"], "data", _at(month, 7, "09:00:00"), 1.5, "GB")))
    assert (home["status"], home["ratedBy"]["rule"], home["ratedBy"]["amount"]["value"]) == (
        "rated", "home-data", Decimal("3.00"))
    assert "event" not in home
    assert roam("roam-8", 1, 8)["status"] == "rejected"  # still blocked, however small

    [budget] = _ok(http.get(ACCUMULATOR, params={"product": line["id"]}), 200)
    assert (budget["accumulator"], budget["period"], budget["amount"], budget["volume"], budget["reached"]) == (
        "mobile-usage/roaming-budget", label, Decimal("52.50"), 1050, ["budget-warning", "budget-reached"])
    assert sorted(u["id"] for u in _ok(http.get(USAGE, params={"status": "rejected"}), 200)) == ["roam-6", "roam-8"]

    # The month's bill: the plan at half price (welcome offer) and the data actually rated.
    assert _ok(http.post(RUN, json={"period": label}))["billsMade"] == [f"ba-ana-{label}-EUR"]
    assert _items(http, f"ba-ana-{label}-EUR") == [
        ("recurringCharge", line["id"], "mobile-data-monthly", Decimal("20.00")),
        ("discount", line["id"], "mobile-discounts/welcome-half-price", Decimal("-10.00")),
        ("usageCharge", line["id"], "data usage", Decimal("55.50"))]
    assert _bill_total(http, f"ba-ana-{label}-EUR") == Decimal("65.50")

    # Next month, a new budget: roaming rates again.
    following = (month + dt.timedelta(days=32)).replace(day=1)
    again = _ok(http.post(USAGE, json=_usage("roam-next", line["id"], "data", _at(following, 1, "00:00:00"), 100, "MB",
                                             roaming=True)))
    assert (again["status"], again["ratedBy"]["amount"]["value"]) == ("rated", Decimal("5.00"))


# ----------------------------------------------------------------------------- the roaming example itself


def test_the_roaming_example_rule_tests_pass() -> None:
    result = subprocess.run([BSSRULES, "test", "examples/roaming"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "7 passed, 0 failed" in result.stdout


def test_the_roaming_example_checks_without_a_warning() -> None:
    result = subprocess.run([BSSRULES, "check", "examples/roaming"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("ok examples/roaming: 6 catalog entities (1 offering, 4 prices), 2 rule sets, "
                                    "7 rule tests")
    assert "warning" not in result.stdout + result.stderr
