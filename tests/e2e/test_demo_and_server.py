"""End to end: the demo command, and the real server answering TMF620 over HTTP."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
BSSRULES = str(Path(sys.executable).parent / "bssrules")
BASE = "/tmf-api/productCatalogManagement/v4"


def _env(database: Path) -> dict[str, str]:
    return {**os.environ, "BSSRULES_DATABASE_URL": f"sqlite:///{database}"}


def test_make_demo_plays_the_connected_car_scenario_over_http_and_shows_what_each_party_sees(tmp_path: Path) -> None:
    started = time.perf_counter()
    # the demo keeps its database in a temporary folder: this test's
    result = subprocess.run([BSSRULES, "demo"], cwd=ROOT, env={**_env(tmp_path / "unused.db"), "TMPDIR": str(tmp_path)},
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr + result.stdout
    for text in ("Connected car: the CSP", "API keys required", "Part 1 · setup and billing",
                 "Part 4 · a converged offer", "car maker: bill ba-car-maker-", "bill ba-driver-",
                 "telematics usage", "infotainment usage", "Settlement notes", "settlement-car-maker-call-center-",
                 "Trouble tickets", "acknowledged → inProgress → inProgress → resolved → closed", "SLA report",
                 "60 usage records rated", "the content provider sees the radio subscription", "done in",
                 f"Explore it: the database stays in {tmp_path.resolve()}", " serve --database-url sqlite:///",
                 "curl -H 'Authorization: Bearer bss_", "Read next: docs/partner-guide.md"):
        assert text in result.stdout, text
    assert not (tmp_path / "unused.db").exists()  # the demo starts from an empty database of its own
    assert list(tmp_path.glob("bssrules-demo-*/demo.db"))  # and leaves it where it says
    assert time.perf_counter() - started < 120


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    database = tmp_path / "served.db"
    loaded = subprocess.run([BSSRULES, "load", "examples/connected_car/catalog"], cwd=ROOT, env=_env(database),
                            capture_output=True, text=True, timeout=120)
    assert loaded.returncode == 0, loaded.stderr
    port = _free_port()
    process = subprocess.Popen([BSSRULES, "serve", "--port", str(port)], cwd=ROOT, env=_env(database),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                httpx.get(url + "/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None:
                    pytest.fail(f"server exited: {process.stderr.read().decode() if process.stderr else ''}")
                time.sleep(0.1)
        else:
            pytest.fail("server did not start within 15 s")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_server_answers_a_partner_browsing_the_catalog(server: str) -> None:
    with httpx.Client(base_url=server + BASE, timeout=10) as http:
        eligible = http.get("/productOffering", params={"partnerEligible": "true", "fields": "name"})
        assert eligible.status_code == 200
        assert [o["id"] for o in eligible.json()] == ["data-5gb"]
        assert eligible.headers["X-Total-Count"] == "1"
        bundle = http.get("/productOffering/music-5gb").json()
        assert bundle["isBundle"] is True
        assert [b["id"] for b in bundle["bundledProductOffering"]] == ["data-5gb", "music-access"]
        price = http.get("/productOfferingPrice/music-5gb-monthly").json()
        assert price["price"] == {"unit": "EUR", "value": 12.99}
        missing = http.get("/productOffering/nope")
        assert missing.status_code == 404 and missing.json()["code"] == "notFound"
