"""Each usage request asks for the operator's date limits: they are read from the
environment every time (a change is seen at once) and parsed once per value."""
from __future__ import annotations

import datetime as dt

import pytest

from bssrules.services import dating
from bssrules.services.dating import USAGE_FUTURE_TOLERANCE, DatingPolicy


def test_a_change_of_the_environment_is_seen_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(USAGE_FUTURE_TOLERANCE, "1h")
    first = DatingPolicy.from_env()
    assert first.usage_future == dt.timedelta(hours=1)
    assert DatingPolicy.from_env() is first  # parsed once
    monkeypatch.setenv(USAGE_FUTURE_TOLERANCE, "2m")
    assert DatingPolicy.from_env().usage_future == dt.timedelta(minutes=2)
    monkeypatch.delenv(USAGE_FUTURE_TOLERANCE)
    assert DatingPolicy.from_env().usage_future == dt.timedelta(minutes=15)
    monkeypatch.setenv(USAGE_FUTURE_TOLERANCE, "1h")
    assert DatingPolicy.from_env() == first


def test_a_value_that_is_no_duration_is_refused_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(USAGE_FUTURE_TOLERANCE, "soon")
    for _ in range(2):
        with pytest.raises(ValueError, match=USAGE_FUTURE_TOLERANCE):
            DatingPolicy.from_env()


def test_the_parsed_values_kept_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    for minutes in range(200):
        monkeypatch.setenv(USAGE_FUTURE_TOLERANCE, f"{minutes + 1}m")
        assert DatingPolicy.from_env().usage_future == dt.timedelta(minutes=minutes + 1)
    assert len(dating._PARSED) <= 64
