"""Text no database keeps — NUL, lone surrogates — is a 400 naming where it is, on both tiers,
wherever it comes: a string or an attribute name anywhere in a JSON body, a path id, a filter
value, a query parameter's name. PostgreSQL refuses NUL outright, so each of these was a 500
there (issue 14, section 3); a lone surrogate ("\\ud800") cannot even be written as UTF-8.
Nothing is committed by a refused request."""
from __future__ import annotations

from typing import Any, Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine


PC = "/tmf-api/productCatalogManagement/v4"
USAGE = "/tmf-api/usageManagement/v4/usage"
JSON = {"content-type": "application/json"}
MERGE = {"content-type": "application/merge-patch+json"}

# (method, path, JSON text with a placeholder X for the bad text, where the message says it is)
BODIES = [
    ("POST", f"{PC}/category", '{"name": "aXb"}', "name"),
    ("POST", "/tmf-api/party/v4/individual", '{"givenName": "a", "familyName": "b", "id": "iXd"}', "id"),
    ("POST", "/tmf-api/party/v4/organization", '{"tradingName": "a", "partyCharacteristic": '
                                               '[{"name": "n", "value": "vXv"}]}', "partyCharacteristic[0].value"),
    ("POST", USAGE, '{"id": "u1", "usageType": "data", "description": "aXb"}', "description"),
    ("POST", USAGE, '[{"id": "u1"}, {"id": "u2", "usageCharacteristic": [{"name": "productId", "value": "pX"}]}]',
     "[1].usageCharacteristic[0].value"),
    ("POST", "/tmf-api/troubleTicket/v4/troubleTicket", '{"description": "X", "severity": "minor", '
                                                        '"ticketType": "complaint"}', "description"),
    ("POST", "/tmf-api/productOfferingQualification/v4/productOfferingQualification",
     '{"productOfferingQualificationItem": [{"id": "1", "productOffering": {"id": "oXo"}}]}',
     "productOfferingQualificationItem[0].productOffering.id"),
    ("PATCH", "/tmf-api/party/v4/individual/nobody", '{"givenName": "X"}', "givenName"),
]


@pytest.fixture
def client(engine: Engine, app_for: Callable[..., Any]) -> Iterator[TestClient]:
    """The app on each tier; a 500 is answered (as a server would), not raised."""
    with app_for(engine) as app, TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


BAD = {"NUL": "\\u0000", "lone high surrogate": "\\ud800", "lone low surrogate": "\\udfff"}


@pytest.mark.parametrize("bad", list(BAD), ids=list(BAD))
@pytest.mark.parametrize(("method", "path", "text", "where"), BODIES, ids=[f"{m} {p} {w}" for m, p, _, w in BODIES])
def test_unstorable_text_in_a_body_is_a_400_naming_where(client: Any, method: str, path: str, text: str,
                                                         where: str, bad: str) -> None:
    response = client.request(method, path, content=text.replace("X", BAD[bad]).encode(),
                              headers=MERGE if method == "PATCH" else JSON)
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert message.startswith(f"{where}: holds "), message
    assert ("NUL character (U+0000)" if bad == "NUL" else "lone surrogate") in message, message


@pytest.mark.parametrize("key", ["a\\u0000b", "\\ud800"])
def test_an_attribute_name_with_unstorable_text_is_a_400_quoting_it_escaped(client: Any, key: str) -> None:
    response = client.post(USAGE, content=f'{{"id": "u1", "extra": {{"{key}": 1}}}}'.encode(), headers=JSON)
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert message.startswith(f"extra: the attribute name '{key}' holds"), message


def test_a_surrogate_pair_is_a_character_like_any_other(client: Any) -> None:
    response = client.post("/tmf-api/party/v4/individual", headers=JSON,
                           content=b'{"givenName": "\\ud83d\\ude00", "familyName": "b"}')
    assert response.status_code == 201, response.text
    assert response.json()["givenName"] == "😀"


def test_a_refused_usage_commits_nothing(client: Any) -> None:
    before = client.get(USAGE).json()
    response = client.post(USAGE, headers=JSON, content=b'[{"id": "fine"}, {"id": "bad", "description": "\\u0000"}]')
    assert response.status_code == 400, response.text
    assert client.get(USAGE).json() == before
    assert client.get(f"{USAGE}/fine").status_code == 404


PATHS = [("GET", f"{PC}/category/a%00b"), ("PATCH", f"{PC}/category/a%00b"), ("DELETE", f"{PC}/category/a%00b"),
         ("GET", f"{USAGE}/%00"), ("GET", "/tmf-api/party/v4/individual/a%00"),
         ("DELETE", "/tmf-api/prepayBalanceManagement/v4/bucket/x%00y"),
         ("GET", "/tmf-api/troubleTicket/v4/troubleTicket/%00")]


@pytest.mark.parametrize(("method", "path"), PATHS, ids=[f"{m} {p}" for m, p in PATHS])
def test_nul_in_a_path_id_is_a_400_naming_the_path(client: Any, method: str, path: str) -> None:
    response = client.request(method, path, content=b'{"name": "x"}' if method == "PATCH" else None,
                              headers=MERGE if method == "PATCH" else None)
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert message.startswith("the path ") and "\\u0000" in message and "NUL character" in message, message


QUERIES = [(f"{PC}/category", "name=a%00b", "query parameter 'name'"),
           (f"{PC}/productOffering", "lifecycleStatus=%00", "query parameter 'lifecycleStatus'"),
           (USAGE, "status=rated,%00", "query parameter 'status'"),
           ("/tmf-api/party/v4/individual", "fields=%00", "query parameter 'fields'"),
           ("/tmf-api/usageManagement/v4/accumulator", "product=%00", "query parameter 'product'"),
           ("/tmf-api/usageManagement/v4/aggregatedUsage", "product=a&start=%00", "query parameter 'start'"),
           (f"{PC}/category", "a%00b=1", "the name of the query parameter")]


@pytest.mark.parametrize(("path", "query", "where"), QUERIES, ids=[q for _, q, _ in QUERIES])
def test_nul_in_a_query_is_a_400_naming_the_parameter(client: Any, path: str, query: str, where: str) -> None:
    response = client.get(f"{path}?{query}")
    assert response.status_code == 400, response.text
    message = response.json()["message"]
    assert message.startswith(where) and "NUL character" in message, message
