"""The connected-car scenario, whole, over a real server (what ``make demo`` plays): every
step answered as the partners expect, and what each party sees at the end — invoices whose
items add up, usage split between the driver and the car manufacturer, tickets through
their life, SLA violations, and settlement notes computed by the rules. What the demo
prints speaks the user's words, and the database it leaves can be served and explored
with the command and the key it prints."""
from __future__ import annotations

import io
import os
import re
import shlex
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from rich.console import Console

from bssrules.demo import run_demo

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def played(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, str]:
    """(report, what the demo printed)."""
    printed = io.StringIO()
    report = run_demo(Console(file=printed, width=160), folder=tmp_path_factory.mktemp("demo"))
    return report, printed.getvalue()


@pytest.fixture(scope="module")
def report(played: tuple[Any, str]) -> Any:
    return played[0]


@pytest.fixture(scope="module")
def output(played: tuple[Any, str]) -> str:
    return played[1]


def _amount(money: dict[str, Any]) -> Decimal:
    return Decimal(str(money["value"]))


def test_every_party_plays_its_part_with_its_own_key(report: Any) -> None:
    actors = {e.actor for e in report.exchanges}
    assert actors == {"operator", "csp", "car-maker", "content-provider", "call-center"}
    assert all(200 <= e.status < 300 for e in report.exchanges)
    assert report.seen["usage rated"] == 60
    assert report.seen["content provider sees the radio subscription"] is True


def test_the_car_maker_sees_the_infotainment_offer_it_sells_and_the_building_blocks(report: Any) -> None:
    catalog = report.seen["car maker's offer catalog"]
    assert "infotainment-connectivity" in catalog and "data-5gb" in catalog
    assert "car-connectivity-b2b" not in catalog  # sold through the CSP's B2B portal, not the car maker's


def test_usage_is_split_between_the_driver_and_the_car_maker_exactly(report: Any) -> None:
    totals = {(t["billingAccount"], t["service"]): (_amount(t), t["count"]) for t in report.seen["running totals"]}
    # telematics: 30 × 0.2 GB × 0.50 = 3.00 to the car maker
    assert totals[("ba-car-maker", "telematics")] == (Decimal("3.00"), 30)
    # infotainment (graduated per record): 18 home records of 0.5 GB (1.00 each), 10 of 1.5 GB (3.00 each),
    # and the roaming days 12 (0.5 GB → 4.00) and 13 (0.5 GB → 4.00)… computed below from the rates
    home = {Decimal("0.5"): Decimal("1.00"), Decimal("1.5"): Decimal("3.00")}
    roaming = {Decimal("0.5"): Decimal("4.00"), Decimal("1.5"): Decimal("8.00") + Decimal("2.50")}
    expected = Decimal(0)
    for day in range(1, 31):
        volume = Decimal("0.5") if day % 3 else Decimal("1.5")
        expected += (roaming if day in (12, 13) else home)[volume]
    assert totals[("ba-driver", "infotainment")] == (expected, 30)


def test_each_invoice_adds_up_to_its_items_and_holds_what_its_payer_owes(report: Any) -> None:
    for name, payer_items in (("car maker's invoice", {"telematics usage", "car-connectivity-activation",
                                                      "split-billing-monthly", "radio-5gb-monthly"}),
                              ("driver (via the car maker)'s invoice", {"infotainment usage",
                                                                        "infotainment-monthly"})):
        seen = report.seen[name]
        assert seen["bills"], name
        for bill in seen["bills"]:
            items = [i for i in seen["items"] if i["bill"]["id"] == bill["id"]]
            assert sum((_amount(i["taxIncludedAmount"]) for i in items), Decimal(0)) == _amount(bill["amountDue"])
        names = {i["name"] for i in seen["items"]}
        assert payer_items <= names, (name, names)
    driver_items = {i["name"] for i in report.seen["driver (via the car maker)'s invoice"]["items"]}
    assert "telematics usage" not in driver_items and "split-billing-monthly" not in driver_items


def test_tickets_went_through_their_life_and_sla_breaches_opened_tickets_for_the_provider(report: Any) -> None:
    tickets = {t["ticketType"]: t for t in report.seen["tickets"]}
    telematics = tickets["telematics"]
    assert telematics["status"] == "closed"
    assert [s["status"] for s in telematics["statusChange"]] == [
        "acknowledged", "inProgress", "inProgress", "resolved", "closed"]
    assert "routed to car-maker by ticket-routing/vehicle-to-car-maker" in telematics["statusChange"][0]["changeReason"]
    assert next(p["id"] for p in telematics["relatedParty"] if p["role"] == "assignee") == "csp"  # redirected
    assert tickets["roaming"]["status"] == "closed"
    assert sum(1 for t in report.seen["tickets"] if t["ticketType"] == "slaViolation") == 2
    sla = report.seen["SLA report"]
    assert sla["violationCount"] == 2
    assert {(r["rule"], r["severity"]) for r in sla["byRule"]} == {("availability-below-target", "major"),
                                                                   ("availability-critical", "critical")}


def test_settlement_notes_follow_the_rules_and_each_partner_sees_only_its_own(report: Any) -> None:
    notes = report.seen["settlement notes"]
    by_id = {n["id"].rsplit("-", 3)[0]: n for n in notes["car-maker"]}
    # 2 tickets opened by the call center × 4.00
    assert _amount(by_id["settlement-car-maker-call-center"]["amountDue"]) == Decimal("8.00")
    # the CSP pays back the roaming ticket (4.00) and 2 availability breaches (2 × 100.00)
    assert _amount(by_id["settlement-csp-car-maker"]["amountDue"]) == Decimal("204.00")
    radio = next(i for i in report.seen["car maker's invoice"]["items"] if i["name"] == "radio-5gb-monthly")
    fee = _amount(radio["taxIncludedAmount"])
    share = lambda percent: (fee * percent / 100).quantize(Decimal("0.01"), rounding="ROUND_HALF_UP")  # noqa: E731
    assert _amount(by_id["settlement-car-maker-content-provider"]["amountDue"]) == share(60)
    assert _amount(by_id["settlement-car-maker-csp"]["amountDue"]) == share(30)
    assert [n["id"].rsplit("-", 3)[0] for n in notes["content-provider"]] == ["settlement-car-maker-content-provider"]
    assert [n["id"].rsplit("-", 3)[0] for n in notes["call-center"]] == ["settlement-car-maker-call-center"]
    paid = report.seen["call center's notes after payment"][0]
    assert paid["state"] == "settled" and _amount(paid["remainingAmount"]) == 0


# ------------------------------------------------------------------- what the demo prints


def test_the_demo_says_in_two_lines_what_was_played_and_by_whom(output: str) -> None:
    first, second = output.splitlines()[:2]
    story = f"{first} {second}"
    assert story.startswith("Connected car:")
    for party in ("CSP", "car manufacturer", "driver", "content provider", "call center", "API key"):
        assert party in story, party
    # a name the user never saw; the printed API key is random text, so it is left out of the search
    words = re.sub(r"-H '[^']*'", "-H '<key>'", output)
    assert "seed" not in words.lower()


def test_counts_are_in_good_english(output: str) -> None:
    assert not re.search(r"\b1 (calls|violations|API calls|usage records|entities|parties)\b", output)
    assert re.search(r"\b1 call\b", output)  # the operator registers the CSP, once
    assert "operator (administrator) 1 call" in output
    assert "car manufacturer" in output and "car-maker 5 calls" not in output  # parties by name, not by id


def _line(output: str, pattern: str) -> re.Match[str]:
    match = re.search(pattern, output, re.M)
    assert match, f"no line matching {pattern!r} in:\n{output}"
    return match


def test_the_demo_says_where_its_database_is_and_leaves_it_there(output: str) -> None:
    database = Path(_line(output, r"^Database: (\S+), new, with the catalog and rules of examples/connected_car ")
                    .group(1))
    assert database.is_file() and database.stat().st_size > 0
    assert str(database) in _line(output, r"^Explore it: the database stays in (\S+);").group(1)
    serve = shlex.split(_line(output, r"^  (\S*bssrules serve .*)$").group(1))
    assert serve[1:] == ["serve", "--database-url", f"sqlite:///{database}"]


def test_the_demo_names_the_guides_to_read_next(output: str) -> None:
    guides = re.findall(r"(docs/[a-z-]+\.md)", _line(output, r"^Read next: .*$").group(0))
    assert guides and guides[0] == "docs/partner-guide.md"
    assert all((ROOT / guide).is_file() for guide in guides), guides


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def served(output: str) -> Iterator[str]:
    """The printed serve command, run as the user would (on another port): its base URL."""
    words = shlex.split(_line(output, r"^  (\S*bssrules serve .*)$").group(1))
    if words[0] == "bssrules":  # printed so when run from Python: the installed command
        words[0] = str(Path(sys.executable).parent / "bssrules")
    port = _free_port()
    # the user's environment: keys on, no other database named
    env = {k: v for k, v in os.environ.items() if k not in ("BSSRULES_AUTH", "BSSRULES_DATABASE_URL",
                                                            "BSSRULES_ADMIN_KEY")}
    process = subprocess.Popen([*words, "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                httpx.get(url + "/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None:
                    pytest.fail(f"the printed serve command exited: {process.stderr.read().decode() if process.stderr else ''}")
                time.sleep(0.1)
        else:
            pytest.fail("the printed serve command did not serve within 15 s")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_the_printed_key_opens_what_the_parties_left(output: str, served: str) -> None:
    curl = shlex.split(_line(output, r"^  (curl .*)$").group(1))
    assert curl[:2] == ["curl", "-H"]
    header, address = curl[2], curl[3]
    name, _, value = header.partition(": ")
    path = address.replace("http://127.0.0.1:8000", "")
    assert path.startswith("/tmf-api/")
    with httpx.Client(base_url=served, timeout=10) as http:
        bills = http.get(path, headers={name: value})
        assert bills.status_code == 200, bills.text
        assert any(b["id"].startswith("ba-car-maker-") for b in bills.json())
        assert any(b["id"].startswith("ba-driver-") for b in bills.json())
        assert http.get(path).status_code == 401  # keys are on: the key is what opens it
        assert http.get("/docs").status_code == 200
