"""The serving worker's garbage collector (bssrules.api.collector): tuned once when the app
starts, left alone with BSSRULES_GC=default, and a setting that is none stops the start."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bssrules.api.collector import THRESHOLDS, thresholds_of

ROOT = Path(__file__).resolve().parents[2]

# a fresh interpreter: what this test process's collector already went through does not count
_STARTED = """
import gc, json, sys
from fastapi.testclient import TestClient
from bssrules.api.app import create_app
before = {"thresholds": gc.get_threshold(), "frozen": gc.get_freeze_count()}
app = create_app("sqlite:///" + sys.argv[1], auth=False)
try:
    with TestClient(app):
        during = {"thresholds": gc.get_threshold(), "frozen": gc.get_freeze_count()}
    with TestClient(create_app("sqlite:///" + sys.argv[1], auth=False)):  # a second app: not again
        again = {"thresholds": gc.get_threshold(), "frozen": gc.get_freeze_count()}
except Exception as exc:
    print(json.dumps({"error": str(exc)})); sys.exit(0)
print(json.dumps({"before": before, "during": during, "again": again}))
"""


def _start(tmp_path: Path, setting: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "BSSRULES_GC"}
    env.update({"BSSRULES_DELIVERY": "off", "PYTHONPATH": str(ROOT)})
    if setting is not None:
        env["BSSRULES_GC"] = setting
    done = subprocess.run([sys.executable, "-c", _STARTED, str(tmp_path / "app.db")], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_a_started_app_freezes_what_it_loaded_and_raises_the_young_threshold(tmp_path: Path) -> None:
    seen = _start(tmp_path, None)
    assert tuple(seen["before"]["thresholds"]) != THRESHOLDS
    assert seen["before"]["frozen"] == 0
    assert tuple(seen["during"]["thresholds"]) == THRESHOLDS
    assert seen["during"]["frozen"] > 10_000  # the modules, definitions and validators loaded
    # once per process: a second app (tests make many) does not freeze again (frozen objects
    # that nothing refers to any more are still freed: the count only goes down)
    assert tuple(seen["again"]["thresholds"]) == THRESHOLDS
    assert seen["again"]["frozen"] <= seen["during"]["frozen"]


# the same without an app (a fresh interpreter too; the app's part is the test above): quick
_TUNED = """
import gc, json
from bssrules.api.collector import tune_for_serving
before = {"thresholds": gc.get_threshold(), "frozen": gc.get_freeze_count()}
tune_for_serving()
print(json.dumps({"before": before, "during": {"thresholds": gc.get_threshold(), "frozen": gc.get_freeze_count()}}))
"""


def _tune(setting: str) -> dict:
    env = {**os.environ, "BSSRULES_GC": setting, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", _TUNED], env=env, cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_default_leaves_the_collector_as_python_sets_it() -> None:
    seen = _tune("default")
    assert seen["during"] == seen["before"]
    assert seen["during"]["frozen"] == 0


def test_thresholds_can_be_given() -> None:
    seen = _tune("5000, 20, 30")
    assert tuple(seen["during"]["thresholds"]) == (5000, 20, 30)
    assert seen["during"]["frozen"] > 0


def test_a_setting_that_is_none_stops_the_start_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from bssrules.api.app import create_app

    monkeypatch.setenv("BSSRULES_GC", "lots")
    with pytest.raises(ValueError) as refused:
        with TestClient(create_app(f"sqlite:///{tmp_path / 'app.db'}", auth=False)):
            pass
    assert "BSSRULES_GC='lots'" in str(refused.value) and "three positive integers" in str(refused.value)


@pytest.mark.parametrize("setting, expected", [
    (None, THRESHOLDS), ("", THRESHOLDS), (" default ", None), ("DEFAULT", None), ("1,2,3", (1, 2, 3)),
])
def test_settings_read(setting: str | None, expected: tuple[int, int, int] | None) -> None:
    assert thresholds_of(setting) == expected


@pytest.mark.parametrize("setting", ["0,10,10", "1,2", "1,2,3,4", "-5,10,10", "a,b,c", "1.5,2,3"])
def test_settings_refused(setting: str) -> None:
    with pytest.raises(ValueError, match="BSSRULES_GC"):
        thresholds_of(setting)
