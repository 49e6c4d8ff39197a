"""A volume written as text is a number's text — ASCII digits, a point, an exponent — online
and in bulk alike: ``1_000`` and other scripts' digits (``１２``) were read by Python's
Decimal, and a mediation bug that sent them was charged (a review found ``"1_000"`` rated as
1000 messages). Spaces around the number, an exponent and a bare point stay read."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from bssrules.pricing.bulk_io import rate_file
from bssrules.quantities import number_text
from bssrules.rules.project import load_project
from bssrules.services.usage import record_of

try:
    from tests.unit.pricing.test_bulk_io import project, write_subscribers, write_usage  # noqa: F401 - the fixture
except ImportError:  # pragma: no cover - run from another root
    raise

READ = {"12": Decimal(12), " 12 ": Decimal(12), "1e3": Decimal(1000), "2.50": Decimal("2.50"), ".5": Decimal("0.5"),
        "5.": Decimal(5), "+3": Decimal(3), "0e5": Decimal(0)}
NOT_NUMBERS = ["1_000", "１２", "٣", "NaN", "Infinity", "0x10", "1,5", "", "1 000", "e5", "two"]


@pytest.mark.parametrize(("text", "number"), READ.items())
def test_a_number_text_is_read_exactly(text: str, number: Decimal) -> None:
    assert number_text(text) == number


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_what_python_reads_besides_is_no_number(text: str) -> None:
    assert number_text(text) is None


def _online(volume: Any) -> tuple[Any, str | None]:
    return record_of("u", {"usageDate": "2026-06-01T10:00:00Z", "usageType": "sms", "usageCharacteristic": [
        {"name": "productId", "value": "line-1"}, {"name": "volume", "value": volume}]})


@pytest.mark.parametrize("text", ["1_000", "１２", "NaN", "0x10"])
def test_online_refuses_such_a_volume(text: str) -> None:
    record, problem = _online(text)
    assert record is None and problem is not None and text in problem


@pytest.mark.parametrize(("text", "number"), READ.items())
def test_online_reads_a_number_text(text: str, number: Decimal) -> None:
    record, problem = _online(text)
    assert problem is None and record is not None and record.volume == number


def test_bulk_refuses_such_a_volume_as_online_does(tmp_path: Path, project: Path) -> None:  # noqa: F811
    rows = [{"id": f"v{n}", "subscriber": "s1", "service": "data", "start": "2026-06-10T10:00:00Z", "volume": text,
             "unit": "MB"} for n, text in enumerate(["1_000", "１２", "1e3", " 12 "])]
    write_usage(tmp_path / "usage.csv", rows)
    write_subscribers(tmp_path / "subscribers.csv")
    rate_file(load_project(project).rules, tmp_path / "usage.csv", tmp_path / "subscribers.csv",
              tmp_path / "rated.jsonl")
    rated = {r["id"]: r for r in pl.read_ndjson(tmp_path / "rated.jsonl").iter_rows(named=True)}
    assert [rated[f"v{n}"]["reasonCode"] for n in range(2)] == ["malformed", "malformed"]
    assert rated["v0"]["reasonLabel"] == "the volume must be a number of at least 0, got 1_000"
    assert [rated[f"v{n}"]["status"] for n in (2, 3)] == ["rated", "rated"]
