"""The example scenarios end to end: a real server (uvicorn on loopback) over a database
loaded with `bssrules load`, driven over HTTP as a partner system would."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
BSSRULES = str(Path(sys.executable).parent / "bssrules")
PARTY, ACCOUNT = "/tmf-api/party/v4", "/tmf-api/accountManagement/v4"
INVENTORY, ORDER = "/tmf-api/productInventory/v4/product", "/tmf-api/productOrderingManagement/v4/productOrder"
CHECK = "/tmf-api/productConfigurationManagement/v5/checkProductConfiguration"
POQ = "/tmf-api/productOfferingQualification/v4/productOfferingQualification"
MERGE = {"content-type": "application/merge-patch+json"}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Any]:
    """serve(example) -> an httpx client on a server holding that example, loaded by the CLI."""
    processes = []

    def start(example: str) -> httpx.Client:
        env = {**os.environ, "BSSRULES_DATABASE_URL": f"sqlite:///{tmp_path / (example + '.db')}"}
        loaded = subprocess.run([BSSRULES, "load", f"examples/{example}", "--source", example], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=120)
        assert loaded.returncode == 0, loaded.stderr
        port = _free_port()
        process = subprocess.Popen([BSSRULES, "serve", "--port", str(port)], cwd=ROOT, env=env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(process)
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
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


def _ok(response: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    return response.json()


def _item(id: str, offering: str, characteristics: dict[str, Any] | None = None,
          resources: list[str] | None = None) -> dict[str, Any]:
    product: dict[str, Any] = {}
    if characteristics:
        product["productCharacteristic"] = [{"name": k, "value": v, "@type": "Characteristic"}
                                            for k, v in characteristics.items()]
    if resources:
        product["realizingResource"] = [{"id": r} for r in resources]
    return {"id": id, "action": "add", "quantity": 1, "productOffering": {"id": offering},
            **({"product": product} if product else {})}


def _party(http: httpx.Client, kind: str, body: dict[str, Any], account: str | None = None) -> None:
    _ok(http.post(f"{PARTY}/{kind}", json=body))
    if account:
        referred = "Individual" if kind == "individual" else "Organization"
        _ok(http.post(f"{ACCOUNT}/billingAccount", json={"id": account, "name": account, "relatedParty": [
            {"id": body["id"], "name": body["id"], "role": "owner", "@referredType": referred}]}))


def _complete(http: httpx.Client, order_id: str) -> dict[str, Any]:
    _ok(http.patch(f"{ORDER}/{order_id}", json={"state": "inProgress"}, headers=MERGE), 200)
    return _ok(http.patch(f"{ORDER}/{order_id}", json={"state": "completed"}, headers=MERGE), 200)


def test_devices_the_sim_must_fit_the_terminal_and_a_withdrawn_rule_stops_applying(serve: Any) -> None:
    http = serve("devices")
    _party(http, "individual", {"id": "ana", "givenName": "Ana", "familyName": "Silva"}, "ba-ana")
    customer = [{"id": "ana", "role": "customer", "@referredType": "Individual"}]
    large = [_item("1", "mobile-telephony-plan", {"simFormFactor": "LARGE"}, ["sim-large"]),
             _item("2", "smartphone", {"model": "smartphone"}, ["terminal-smartphone"])]
    check = _ok(http.post(CHECK, json={"relatedParty": customer, "cartItem": large, "channel": {"id": "shop"},
                                       "requestedDate": "2026-09-01"}), 200)
    assert {v["rule"] for v in check["violation"]} == {"smartphone-needs-small-sim", "smartphone-refuses-large-sim"}
    classic = [_item("1", "mobile-telephony-plan", {"simFormFactor": "SMALL"}, ["sim-small"]),
               _item("2", "classic-phone", {"model": "classic"}, ["terminal-classic-phone"])]
    before = _ok(http.post(CHECK, json={"relatedParty": customer, "cartItem": classic,
                                        "requestedDate": "2026-03-01"}), 200)
    assert "classic-phone-needs-large-sim" in {v.get("rule") for v in before["violation"]}
    refused = http.post(ORDER, json={"relatedParty": customer, "requestedStartDate": "2026-09-01",
                                     "productOrderItem": large})
    assert refused.status_code == 422 and len(refused.json()["violation"]) == 2
    small = [_item("1", "mobile-telephony-plan", {"simFormFactor": "SMALL"}, ["sim-small"]),
             _item("2", "smartphone", {"model": "smartphone"}, ["terminal-smartphone"])]
    order = _ok(http.post(ORDER, json={"relatedParty": customer, "requestedStartDate": "2026-09-01",
                                       "externalId": "shop-1", "productOrderItem": small}))
    assert _complete(http, order["id"])["state"] == "completed"
    owned = http.get(INVENTORY, params={"relatedParty.id": "ana", "status": "active"}).json()
    assert sorted(p["productOffering"]["id"] for p in owned) == ["mobile-telephony-plan", "smartphone"]


def test_connected_car_the_driver_orders_infotainment_and_pays_it_as_third_party_payer(serve: Any) -> None:
    http = serve("connected_car")
    _party(http, "organization", {"id": "car-maker", "tradingName": "Car maker"}, "ba-car-maker")
    # Is the driver already a customer? Not yet: the CSP creates the third-party payer.
    assert http.get("/tmf-api/customerManagement/v4/customer", params={"engagedParty.id": "driver-1"}).json() == []
    _party(http, "individual", {"id": "driver-1", "givenName": "Ana", "familyName": "Silva"}, "ba-driver")
    # The car's connectivity: owned by the car manufacturer, used by the driver.
    _ok(http.post(INVENTORY, json={"id": "car-1-connectivity", "status": "active",
                                   "productOffering": {"id": "car-connectivity-b2b"}, "relatedParty": [
                                       {"id": "car-maker", "role": "owner", "@referredType": "Organization"},
                                       {"id": "driver-1", "role": "user", "@referredType": "Individual"}]}))
    parties = [{"id": "driver-1", "role": "customer", "@referredType": "Individual"},
               {"id": "driver-1", "role": "driver", "@referredType": "Individual"},
               {"id": "car-maker", "role": "car-maker", "@referredType": "Organization"}]
    qualification = _ok(http.post(POQ, json={"channel": {"id": "car-maker-portal"}, "relatedParty": parties[:1],
                                             "productOfferingQualificationItem": [
                                                 {"id": "1", "productOffering": {"id": "infotainment-connectivity"}}]}))
    assert qualification["productOfferingQualificationItem"][0]["qualificationItemResult"] == "qualified"
    order = _ok(http.post(ORDER, json={"relatedParty": parties, "channel": [{"id": "car-maker-portal", "role": "sales channel"}],
                                       "productOrderItem": [_item("1", "infotainment-connectivity",
                                                                  {"monthlyVolume": 5})]}))
    monthly = {t.get("recurringChargePeriod"): t["price"]["taxIncludedAmount"]["value"] for t in order["orderTotalPrice"]}
    assert monthly == {"month": 9.99}
    assert _complete(http, order["id"])["state"] == "completed"
    package = [p for p in http.get(INVENTORY, params={"relatedParty.id": "driver-1"}).json()
               if p["productOffering"]["id"] == "infotainment-connectivity"][0]
    assert package["billingAccount"] == {"id": "ba-driver"}  # the driver pays the package


def test_ppv_a_movie_needs_an_effective_ppv_service(serve: Any) -> None:
    http = serve("ppv")
    _party(http, "individual", {"id": "viewer", "givenName": "Vic", "familyName": "Tor"}, "ba-viewer")
    customer = [{"id": "viewer", "role": "customer", "@referredType": "Individual"}]
    refused = http.post(ORDER, json={"relatedParty": customer, "productOrderItem": [_item("1", "ppv-movie",
                                                                                          {"title": "Metropolis"})]})
    assert refused.status_code == 422
    assert {v["code"] for v in refused.json()["violation"]} == {"missingPrerequisite", "notEligible"}
    service = _ok(http.post(ORDER, json={"relatedParty": customer, "productOrderItem": [_item("1", "ppv-service")]}))
    _complete(http, service["id"])
    movie = _ok(http.post(ORDER, json={"relatedParty": customer, "productOrderItem": [_item("1", "ppv-movie",
                                                                                            {"title": "Metropolis"})]}))
    assert movie["state"] == "acknowledged"
