"""TMF679 PATCH and DELETE of a product offering qualification, over HTTP, on both tiers.

A patch annotates the stored answer (description, notes, the requester's dates) and may not
change what was qualified (the items' offerings, the party, the channel, the category) nor
the answer (the result, its dates, the state ``done``): 400 (409 for the state) naming each
attribute, and nothing stored — no new version, no event. Bodies are merge patches
(``application/merge-patch+json``, or ``application/json``), checked against the official
``ProductOfferingQualification_Update``; every answer of the qualification paths is checked
against the official TMF679 definitions (``_check`` of test_tmf679_qualification). A partner
never sees nor changes another's qualification (404). A change and a deletion write their
TMF679 events, sent to the hubs subscribed at …/productOfferingQualification/v4/hub. The example of docs/api.md
("Changing or deleting a qualification") is replayed here too.

Expected values are written here, not derived from the code under test.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator

import pytest
from sqlalchemy import Engine, text

from tests.api.session_app import ADMIN_KEY, AppFor, keyed_app
from tests.api.test_partners_auth import Api, _load
from tests.api.test_tmf679_qualification import POQ, _check, http  # noqa: F401 (http: the fixture)

ROOT = Path(__file__).resolve().parents[2]
MERGE = "application/merge-patch+json"
CUSTOMER = [{"id": "driver-1", "role": "customer", "@referredType": "Individual"}]
DRIVER_ASKS = {"id": "poq-1", "channel": {"id": "car-maker-portal"}, "relatedParty": CUSTOMER,
               "description": "infotainment for Ana",
               "productOfferingQualificationItem": [{"id": "1", "productOffering": {"id": "infotainment-connectivity"}}]}


def _patch(http: Any, id: str, body: Any, content_type: str = MERGE, **headers: str) -> Any:
    return http.patch(f"{POQ}/{id}", content=json.dumps(body), headers={"content-type": content_type, **headers})


def _events(engine: Engine, created: bool = False) -> list[tuple[str, dict[str, Any]]]:
    """The TMF679 events written (``created``: with those of the qualifications made)."""
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT event_type, document FROM event WHERE api = 'TMF679' "
                                       "ORDER BY created")).all()
    return [(row[0], json.loads(row[1])) for row in rows
            if created or row[0] != "ProductOfferingQualificationCreateEvent"]


def _version(engine: Engine, id: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT version FROM resource WHERE kind = 'productOfferingQualification' "
                                           "AND id = :id"), {"id": id}).scalar_one())


@pytest.fixture(autouse=True)
def _every_answer_checked(request: pytest.FixtureRequest) -> None:
    """The ``http`` client checks each answer of the qualification paths (``_check``), the
    empty body of a 204 being no TMF679 document: it is checked to be empty instead."""
    if "http" not in request.fixturenames:
        return

    def check(response: Any) -> None:
        response.read()
        if response.status_code == 204:
            assert response.content == b"", f"a 204 with a body: {response.text}"
        else:
            _check(response)

    request.getfixturevalue("http").event_hooks["response"] = [check]


@pytest.fixture
def asked(http: Any) -> dict[str, Any]:
    """Ana's qualification ``poq-1`` (infotainment, on the car maker's portal: qualified)."""
    response = http.post(POQ, json=DRIVER_ASKS)
    assert response.status_code == 201, response.text
    assert response.json()["qualificationResult"] == "qualified"
    return dict(response.json())


def test_a_patch_stores_a_description_notes_and_the_requesters_dates(http: Any, asked: dict[str, Any],
                                                                    engine: Engine) -> None:
    note = [{"id": "n1", "author": "shop", "date": "2026-09-01T10:00:00Z", "text": "call Ana back"}]
    response = _patch(http, "poq-1", {"description": "Ana's car", "note": note,
                                      "requestedPOQCompletionDate": "2026-09-02T12:00:00+02:00",
                                      "expectedPOQCompletionDate": "2026-09-02T10:00:00Z"})
    assert response.status_code == 200, response.text
    expected = {**asked, "description": "Ana's car", "note": note,
                "requestedPOQCompletionDate": "2026-09-02T12:00:00+02:00",
                "expectedPOQCompletionDate": "2026-09-02T10:00:00Z"}
    assert response.json() == expected
    assert http.get(f"{POQ}/poq-1").json() == expected
    assert _version(engine, "poq-1") == 2
    [(kind, event)] = _events(engine)
    assert kind == "ProductOfferingQualificationAttributeValueChangeEvent"
    assert event["event"]["productOfferingQualification"] == expected
    # TMF's fieldPath: the attributes the change is about
    assert event["fieldPath"] == "description,expectedPOQCompletionDate,note,requestedPOQCompletionDate"
    # null removes; plain JSON is taken as a merge patch too
    removed = _patch(http, "poq-1", {"description": None}, "application/json")
    assert removed.status_code == 200, removed.text
    assert "description" not in http.get(f"{POQ}/poq-1").json()
    assert removed.json() == {k: v for k, v in expected.items() if k != "description"}


def test_a_hub_of_tmf679_is_sent_each_change_and_the_deletion(http: Any, asked: dict[str, Any],
                                                             engine: Engine) -> None:
    registered = http.post("/tmf-api/productOfferingQualification/v4/hub",
                           json={"callback": "http://127.0.0.1:9/poq"})  # (a subscription to every event)
    assert registered.status_code == 201, registered.text
    hub = registered.json()["id"]
    refused = http.post("/tmf-api/productOfferingQualification/v4/hub",
                        json={"callback": "http://127.0.0.1:9/poq", "query": "eventType=ProductOfferingQualificationDelteEvent"})
    assert refused.status_code == 400 and "ProductOfferingQualificationDeleteEvent" in refused.text  # did you mean
    assert _patch(http, "poq-1", {"description": "noted"}).status_code == 200
    assert _patch(http, "poq-1", {"qualificationResult": "unqualified"}).status_code == 400  # no event
    assert http.delete(f"{POQ}/poq-1").status_code == 204
    with engine.connect() as connection:
        sent = connection.execute(text("SELECT e.event_type FROM delivery d JOIN event e ON e.id = d.event_id "
                                       "WHERE d.hub_id = :hub ORDER BY e.created"), {"hub": hub}).scalars().all()
    assert sent == ["ProductOfferingQualificationAttributeValueChangeEvent", "ProductOfferingQualificationDeleteEvent"]


def test_what_was_qualified_and_the_answer_are_refused_with_400_and_nothing_is_stored(
        http: Any, asked: dict[str, Any], engine: Engine) -> None:
    other = [{"id": "1", "productOffering": {"id": "music-5gb"}}]
    response = _patch(http, "poq-1", {"description": "kept?", "productOfferingQualificationItem": other,
                                      "channel": {"id": "csp-shop"}})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalidInput"
    message = response.json()["message"]
    assert message.startswith("productOfferingQualificationItem is part of what was qualified")
    assert "post a new qualification to qualify other offerings" in message and "channel is part of" in message
    for body in ({"relatedParty": [{"id": "someone-else", "role": "customer", "@referredType": "Individual"}]}, {"category": {"id": "converged"}},
                 {"provideAlternative": False}, {"qualificationResult": "unqualified"},
                 {"effectiveQualificationDate": "2026-01-01T00:00:00Z"}, {"channel": None}):
        refused = _patch(http, "poq-1", body)
        name = next(iter(body))
        assert refused.status_code == 400 and refused.json()["message"].startswith(f"{name} is "), refused.text
    assert "the server's answer" in _patch(http, "poq-1", {"qualificationResult": "red"}).json()["message"]
    assert http.get(f"{POQ}/poq-1").json() == asked
    assert _version(engine, "poq-1") == 1 and _events(engine) == []


def test_an_attribute_sent_unchanged_is_no_change(http: Any, asked: dict[str, Any], engine: Engine) -> None:
    same = {k: asked[k] for k in ("productOfferingQualificationItem", "channel", "relatedParty",
                                  "qualificationResult", "state", "description")}
    response = _patch(http, "poq-1", {**same, "id": "poq-1", "@type": "ProductOfferingQualification"})
    assert response.status_code == 200, response.text
    assert response.json() == asked
    assert _version(engine, "poq-1") == 1 and _events(engine) == []


def test_done_is_final_another_state_is_a_409(http: Any, asked: dict[str, Any], engine: Engine) -> None:
    for state in ("inProgress", "acknowledged", "terminatedWithError"):
        response = _patch(http, "poq-1", {"state": state, "description": "with it"})
        assert response.status_code == 409, response.text
        assert response.json()["message"].startswith(f"a qualification done cannot become {state}")
    # not a state of TMF679 at all: the definition refuses it (400)
    assert _patch(http, "poq-1", {"state": "cancelled"}).status_code == 400
    assert http.get(f"{POQ}/poq-1").json() == asked and _events(engine) == []


@pytest.mark.parametrize("body,words", [
    ({"href": "x"}, "unsupported attribute 'href'"),
    ({"productOfferingQualificationDate": "2026-01-01T00:00:00Z"}, "unsupported attribute"),
    ({"description": 5}, "description: expected string"),
    ({"id": "poq-2"}, "the id of a qualification cannot be changed"),
    ({"@type": "ProductOrder"}, "@type 'ProductOrder' does not match"),
    ({"requestedPOQCompletionDate": "tomorrow"}, "requestedPOQCompletionDate: 'tomorrow' is not a date-time"),
    ({"expectedPOQCompletionDate": "2026-09-02T10:00:00"}, "is not a date-time with its zone"),
])
def test_a_body_the_update_definition_or_the_resource_refuses_is_a_400(http: Any, asked: dict[str, Any],
                                                                      body: dict[str, Any], words: str) -> None:
    response = _patch(http, "poq-1", body)
    assert response.status_code == 400 and words in response.json()["message"], response.text
    assert http.get(f"{POQ}/poq-1").json() == asked


def test_a_body_that_is_not_a_merge_patch_is_a_415(http: Any, asked: dict[str, Any]) -> None:
    for content_type in ("text/plain", "application/json-patch+json"):
        response = _patch(http, "poq-1", {"description": "x"}, content_type)
        assert response.status_code == 415, response.text
        assert response.json()["code"] == "unsupportedMediaType"
        assert "application/merge-patch+json" in response.json()["message"]
    assert http.get(f"{POQ}/poq-1").json() == asked


def test_an_unknown_qualification_is_a_404(http: Any) -> None:
    patched = _patch(http, "nope", {"description": "x"})
    assert patched.status_code == 404 and patched.json()["message"] == (
        "no ProductOfferingQualification with id 'nope'"), patched.text
    assert http.delete(f"{POQ}/nope").status_code == 404


def test_delete_answers_204_then_the_qualification_is_gone(http: Any, asked: dict[str, Any],
                                                          engine: Engine) -> None:
    response = http.delete(f"{POQ}/poq-1")
    assert response.status_code == 204 and response.content == b""
    assert http.get(f"{POQ}/poq-1").status_code == 404
    assert http.delete(f"{POQ}/poq-1").status_code == 404
    assert _patch(http, "poq-1", {"description": "x"}).status_code == 404
    assert http.get(POQ).json() == []
    [(kind, event)] = _events(engine)
    assert kind == "ProductOfferingQualificationDeleteEvent"
    assert event["event"]["productOfferingQualification"] == asked
    # the id may be used again
    assert http.post(POQ, json=DRIVER_ASKS).status_code == 201


def test_the_answers_and_the_routes_follow_the_tmf679_definition(http: Any, asked: dict[str, Any]) -> None:
    # every answer above went through _check (the official definition, formats checked); here
    # the operations are those the definition names, with its request body and statuses
    paths = http.get("/openapi.json").json()["paths"]
    one = paths["/tmf-api/productOfferingQualification/v4/productOfferingQualification/{id}"]
    assert one["patch"]["operationId"] == "patchProductOfferingQualification"
    assert one["delete"]["operationId"] == "deleteProductOfferingQualification"
    body = one["patch"]["requestBody"]["content"]
    assert set(body) == {MERGE, "application/json"}
    assert body[MERGE]["schema"]["$ref"].endswith("ProductOfferingQualification_Update")
    assert {"200", "400", "404", "409"} <= set(one["patch"]["responses"])
    assert "204" in one["delete"]["responses"]
    # and the check that every answer went through refuses what the definition does not allow
    broken = SimpleNamespace(request=SimpleNamespace(url=SimpleNamespace(path=f"{POQ}/poq-1")), status_code=200,
                             json=lambda: {**asked, "state": "finished"})
    with pytest.raises(AssertionError, match="breaks ProductOfferingQualification"):
        _check(broken)


# ------------------------------------------------------------------ partners: one never sees another's


@pytest.fixture
def api(engine: Engine, app_for: AppFor) -> Iterator[Api]:
    _load(engine, "connected_car")
    with keyed_app(app_for, engine) as app, Api(engine, ADMIN_KEY, app) as client:
        yield client


def test_another_partners_qualification_is_not_there(api: Api, engine: Engine) -> None:
    mine, theirs = (api.partner(p, [{"name": "TMF679"}]) for p in ("shop-a", "shop-b"))
    created = api.ok("POST", POQ, mine, {"id": "poq-a", "channel": {"id": "csp-shop"},
                                         "productOfferingQualificationItem": [
                                             {"id": "1", "productOffering": {"id": "music-5gb"}}]})
    for method, body in (("PATCH", {"description": "mine now"}), ("DELETE", None), ("GET", None)):
        response = api.call(method, f"{POQ}/poq-a", theirs, json_body=body)
        assert response.status_code == 404, response.text
        assert response.json()["message"] == "no ProductOfferingQualification with id 'poq-a'"
    assert api.ok("GET", f"{POQ}/poq-a", mine) == created
    assert _events(engine) == []
    # its own partner changes and deletes it; the operator may too
    assert api.ok("PATCH", f"{POQ}/poq-a", mine, {"description": "for a customer"})["description"] == "for a customer"
    assert api.ok("PATCH", f"{POQ}/poq-a", api.admin_key, {"description": "seen"})["description"] == "seen"
    assert api.ok("DELETE", f"{POQ}/poq-a", mine) is None
    assert api.call("GET", f"{POQ}/poq-a", mine).status_code == 404
    # the events are the partner's: its hubs would be sent them
    assert [(t, e["event"]["productOfferingQualification"]["id"]) for t, e in _events(engine)] == [
        ("ProductOfferingQualificationAttributeValueChangeEvent", "poq-a"),
        ("ProductOfferingQualificationAttributeValueChangeEvent", "poq-a"),
        ("ProductOfferingQualificationDeleteEvent", "poq-a")]
    with engine.connect() as connection:
        owners = connection.execute(text("SELECT DISTINCT partner_id FROM event WHERE api = 'TMF679'")).scalars()
        assert list(owners) == ["shop-a"]


def test_a_partner_without_the_patch_operation_may_not_patch(api: Api) -> None:
    reader = api.partner("reader", [{"name": "TMF679", "operations": ["create", "retrieve"]}])
    api.ok("POST", POQ, reader, {"id": "poq-r", "channel": {"id": "csp-shop"},
                                 "productOfferingQualificationItem": [{"id": "1", "productOffering": {"id": "music-5gb"}}]})
    assert api.call("PATCH", f"{POQ}/poq-r", reader, json_body={"description": "x"}).status_code == 403
    assert api.call("DELETE", f"{POQ}/poq-r", reader).status_code == 403
    assert "description" not in api.ok("GET", f"{POQ}/poq-r", reader)


# ------------------------------------------------------------------ the example of docs/api.md

DOCS = ROOT / "docs" / "api.md"
_SECTION = "### Changing or deleting a qualification"
_FENCE = re.compile(r"^```(\w+)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_SERVER_DATES = ("productOfferingQualificationDate", "effectiveQualificationDate")


def _docs_exchanges() -> list[tuple[str, str, dict[str, str], str, int, str]]:
    """(method, path, headers, body, status, answer) of each ```text request of the section,
    the ```json block after it its answer (``// HTTP/1.1 <status>`` first)."""
    page = DOCS.read_text(encoding="utf-8")
    section = page[page.index(_SECTION):]
    section = section[:section.index("\n## ")]
    blocks = [(m.group(1), m.group(2)) for m in _FENCE.finditer(section)]
    out = []
    for (info, request), (next_info, answer) in zip(blocks, blocks[1:]):
        if info != "text" or not re.match(r"^(GET|POST|PATCH|DELETE) /", request):
            continue
        assert next_info == "json", f"the request {request.splitlines()[0]} is followed by its answer"
        head, _, body = request.partition("\n\n")
        line, *header_lines = head.strip().splitlines()
        method, path = line.split()[:2]
        headers = {n.strip(): v.strip() for n, _, v in (h.partition(":") for h in header_lines)}
        status_line, _, expected = answer.partition("\n")
        status = int(re.fullmatch(r"// HTTP/1\.1 (\d{3}).*", status_line.strip()).group(1))  # type: ignore[union-attr]
        out.append((method, path, headers, body.strip(), status, expected.strip()))
    return out


def test_the_docs_example_of_changing_and_deleting_a_qualification_is_what_the_api_does(http: Any) -> None:
    exchanges = _docs_exchanges()
    assert [(m, s) for m, _, _, _, s, _ in exchanges] == [
        ("POST", 201), ("PATCH", 200), ("PATCH", 400), ("PATCH", 409), ("DELETE", 204), ("GET", 404)]
    for method, path, headers, body, status, expected in exchanges:
        headers.pop("Authorization")  # <operator key>: this app has keys off, every caller is the operator
        response = http.request(method, path, headers=headers, content=body.encode() or None)
        assert response.status_code == status, f"{method} {path}: {response.text}"
        if not expected:
            assert response.content == b"", f"{method} {path}"
            continue
        answer, documented = response.json(), json.loads(expected)
        for name in _SERVER_DATES:  # the instant the example ran: any will do
            if name in documented:
                assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", answer[name]), answer[name]
                answer[name] = documented[name]
        assert answer == documented, f"{method} {path}"


def test_a_qualification_posted_with_a_requested_date_that_is_no_date_time_is_refused(http: Any) -> None:
    """As a patch checks it: the requester's dates are date-times with their zone (was: stored as sent)."""
    body = {k: v for k, v in DRIVER_ASKS.items() if k != "id"}
    for value in ("next week", "2026-09-01", "2026-09-01T12:00:00",  # and ISO forms that are not RFC 3339:
                  "20260901T120000Z", "2026-09-01T12:00+02:00", "2026-W36-1T12:00:00Z", "2026-09-01T12Z",
                  "2026-09-01T12:00:00 Z", "2026-09-01T12:00:00,5Z", "2026-09-01T12:00:00+0200"):
        response = http.post(POQ, json={**body, "requestedPOQCompletionDate": value})
        assert response.status_code == 400 and "requestedPOQCompletionDate" in response.text, (value, response.text)
    assert http.get(POQ).json() == []  # nothing stored
    fine = http.post(POQ, json={**body, "requestedPOQCompletionDate": "2026-09-01T12:00:00Z"})
    assert fine.status_code == 201, fine.text
    assert fine.json()["requestedPOQCompletionDate"] == "2026-09-01T12:00:00Z"


def _race(http: Any, first: Any, second: Any, rounds: int = 12) -> list[tuple[int, int, Any]]:
    """``first`` and ``second`` run at once on a new qualification, ``rounds`` times:
    (their statuses, the qualification read after: its document, or None when gone)."""
    import threading
    import uuid

    found = []
    body = {k: v for k, v in DRIVER_ASKS.items() if k != "id"}
    for _ in range(rounds):
        made = f"race-{uuid.uuid4().hex[:8]}"
        assert http.post(POQ, json={**body, "id": made}).status_code == 201
        start, answers = threading.Barrier(2), [None, None]

        def run(slot: int, call: Any) -> None:
            start.wait()
            answers[slot] = call(made)

        threads = [threading.Thread(target=run, args=(0, first)), threading.Thread(target=run, args=(1, second))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        after = http.get(f"{POQ}/{made}")
        found.append((answers[0].status_code, answers[1].status_code,  # type: ignore[attr-defined]
                      after.json() if after.status_code == 200 else None))
    return found


def test_changes_and_deletions_at_once_lose_nothing_and_never_answer_5xx(http: Any, engine: Engine) -> None:
    """Two requests on one qualification at the same time (both tiers; SQLite reads without a
    lock): a change is written only over the version it read — the other is a 409 to send
    again, never a lost update — and a deletion met by a change or another deletion is one
    204 and a 404 or 409, never a 500 (was, on SQLite: 500s, lost changes, two 204s)."""
    describe = lambda made: _patch(http, made, {"description": "A"})  # noqa: E731
    annotate = lambda made: _patch(http, made, {"note": [{"id": "b", "text": "B"}]})  # noqa: E731
    delete = lambda made: http.delete(f"{POQ}/{made}")  # noqa: E731
    for a, b, after in _race(http, describe, annotate):
        assert {a, b} <= {200, 409}, (a, b)
        assert (after.get("description") == "A") == (a == 200) and bool(after.get("note")) == (b == 200), (a, b, after)
    for a, b, after in _race(http, describe, delete):
        assert a in (200, 404, 409) and b == 204 and after is None, (a, b, after)
    for a, b, after in _race(http, delete, delete):
        assert sorted((a, b)) == [204, 404] and after is None, (a, b)


def test_a_qualification_made_is_told_to_the_hubs_and_its_state_cannot_be_removed(http: Any, engine: Engine) -> None:
    registered = http.post("/tmf-api/productOfferingQualification/v4/hub", json={
        "callback": "http://127.0.0.1:9/poq", "query": "eventType=ProductOfferingQualificationCreateEvent"})
    assert registered.status_code == 201, registered.text
    made = http.post(POQ, json={**{k: v for k, v in DRIVER_ASKS.items() if k != "id"}, "id": "poq-told"})
    assert made.status_code == 201, made.text
    with engine.connect() as connection:
        sent = connection.execute(text("SELECT e.event_type FROM delivery d JOIN event e ON e.id = d.event_id "
                                       "WHERE d.hub_id = :hub"), {"hub": registered.json()["id"]}).scalars().all()
    assert sent == ["ProductOfferingQualificationCreateEvent"]
    assert [e for kind, e in _events(engine, created=True) if kind == "ProductOfferingQualificationCreateEvent"][-1][
        "event"]["productOfferingQualification"] == made.json()
    removed = _patch(http, "poq-told", {"state": None})
    assert removed.status_code == 400 and "state cannot be removed" in removed.text, removed.text


def test_a_null_within_an_array_of_a_patch_is_judged_as_the_value_it_is(http: Any, asked: dict[str, Any]) -> None:
    """An array replaces the array it patches whole (RFC 7386): a null in it is stored as sent,
    so it is judged as a value — a note's author null is no text (was: 200, and every later
    answer broke Note.author)."""
    refused = _patch(http, "poq-1", {"note": [{"id": "n1", "text": "a", "author": None}]})
    assert refused.status_code == 400 and "author" in refused.text, refused.text
    assert "note" not in http.get(f"{POQ}/poq-1").json()
    assert _patch(http, "poq-1", {"note": [{"id": "n1", "text": "a"}], "description": None}).status_code == 200


def test_a_body_said_to_be_in_another_charset_than_utf8_is_a_415(http: Any, asked: dict[str, Any]) -> None:
    """JSON is UTF-8 (RFC 8259): a body sent as charset=latin-1 was read as UTF-8 anyway."""
    latin = http.patch(f"{POQ}/poq-1", content='{"description": "caf\xe9"}'.encode("latin-1"),
                       headers={"content-type": "application/merge-patch+json; charset=latin-1"})
    assert latin.status_code == 415 and "UTF-8" in latin.text, latin.text
    utf8 = http.patch(f"{POQ}/poq-1", content='{"description": "caf\xe9"}'.encode("utf-8"),
                      headers={"content-type": 'application/merge-patch+json; charset="UTF-8"'})
    assert utf8.status_code == 200 and utf8.json()["description"] == "caf\xe9", utf8.text


def test_a_note_id_given_twice_is_refused(http: Any, asked: dict[str, Any]) -> None:
    twice = [{"id": "n1", "text": "a"}, {"id": "n1", "text": "b"}]
    refused = _patch(http, "poq-1", {"note": twice})
    assert refused.status_code == 400 and "note[1].id" in refused.text, refused.text
    assert "note" not in http.get(f"{POQ}/poq-1").json()
    posted = http.post(POQ, json={**{k: v for k, v in DRIVER_ASKS.items() if k != "id"}, "note": twice})
    assert posted.status_code == 400 and "note[1].id" in posted.text, posted.text


def test_a_hub_may_ask_only_for_the_changes_of_one_attribute(http: Any, asked: dict[str, Any], engine: Engine) -> None:
    registered = http.post("/tmf-api/productOfferingQualification/v4/hub", json={
        "callback": "http://127.0.0.1:9/poq", "query": "fieldPath=description"})
    assert registered.status_code == 201, registered.text
    assert _patch(http, "poq-1", {"note": [{"id": "n1", "text": "later"}]}).status_code == 200
    assert _patch(http, "poq-1", {"description": "now"}).status_code == 200
    with engine.connect() as connection:
        sent = connection.execute(text("SELECT e.document FROM delivery d JOIN event e ON e.id = d.event_id "
                                       "WHERE d.hub_id = :hub"), {"hub": registered.json()["id"]}).scalars().all()
    assert [json.loads(d)["fieldPath"] for d in sent] == ["description"]
