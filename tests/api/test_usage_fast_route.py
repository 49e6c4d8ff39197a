"""``POST /usage`` is served by a plain Starlette route, ahead of FastAPI's route machinery
(issue 12: about 0.2 ms of a worker per request), and still behaves as the documented
operation: the TMF error body, 405 with every method the path takes, the OpenAPI entry."""
from __future__ import annotations

from typing import Any

from starlette.routing import Match, Route

USAGE = "/tmf-api/usageManagement/v4/usage"


def _first_route(app: Any, method: str) -> Any:
    scope = {"type": "http", "method": method, "path": USAGE, "root_path": ""}
    return next(route for route in app.router.routes if route.matches(scope)[0] == Match.FULL)


def test_posting_a_usage_skips_fastapis_route_machinery_and_listing_does_not(client: Any) -> None:
    assert type(_first_route(client.app, "POST")) is Route  # a plain route: no FastAPI wrapper
    assert type(_first_route(client.app, "GET")) is not Route


def test_the_fast_route_answers_errors_with_the_tmf_error_body(client: Any) -> None:
    refused = client.post(USAGE, json={"usageType": 5})
    assert refused.status_code == 400
    assert refused.json()["@type"] == "Error" and "Usage_Create" in refused.json()["message"]
    wrong_type = client.post(USAGE, content=b"{}", headers={"content-type": "text/plain"})
    assert wrong_type.status_code == 415 and wrong_type.json()["code"] == "unsupportedMediaType"
    not_allowed = client.put(USAGE, json={})
    assert not_allowed.status_code == 405
    assert not_allowed.headers["allow"] == "GET, POST"


def test_the_openapi_document_still_describes_posting_a_usage(client: Any) -> None:
    operation = client.get("/openapi.json").json()["paths"][USAGE]["post"]
    assert operation["operationId"] == "createUsage"
    assert set(operation["responses"]) >= {"200", "201", "400"}
