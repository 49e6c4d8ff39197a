"""The whole-number settings the app reads — ``BSSRULES_MAX_BODY_BYTES``,
``BSSRULES_RATING_LEADERS`` — stop the app's start when they are none, whoever starts it
(``bssrules serve`` checked them; an app made by ``create_app`` under another server did not):
a body limit of ``x`` answered 500 to every request, 0 leaders let every single usage wait for
ever (a helper's operator review)."""
from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from bssrules.api.app import create_app


@pytest.mark.parametrize("value", ["x", "0", "-5", "1.5"])
def test_a_body_limit_that_is_no_whole_number_stops_the_app_from_being_made(
        engine: Engine, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("BSSRULES_MAX_BODY_BYTES", value)
    with pytest.raises(ValueError, match=r"BSSRULES_MAX_BODY_BYTES must be a whole number of bytes of a request "
                                         rf"body, 1 or more \(default 4194304\); got '{value}'"):
        create_app(engine=engine, auth=False)


@pytest.mark.parametrize("value", ["0", "none"])
def test_rating_leaders_that_are_no_whole_number_stop_the_start(engine: Engine, monkeypatch: pytest.MonkeyPatch,
                                                               value: str) -> None:
    monkeypatch.setenv("BSSRULES_RATING_LEADERS", value)
    monkeypatch.setenv("BSSRULES_DELIVERY", "off")
    app = create_app(engine=engine, auth=False)
    with pytest.raises(ValueError, match="BSSRULES_RATING_LEADERS must be a whole number"):
        with TestClient(app):
            pass


def test_good_values_are_used(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BSSRULES_MAX_BODY_BYTES", "100")
    monkeypatch.setenv("BSSRULES_DELIVERY", "off")
    with TestClient(create_app(engine=engine, auth=False)) as client:
        response: Any = client.post("/tmf-api/usageManagement/v4/usage", content=b"x" * 200,
                                    headers={"content-type": "application/json"})
    assert response.status_code == 413
