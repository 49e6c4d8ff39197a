"""TMF679 qualification, as a sales channel meets it (review 14): what a partner may not see
is not there, what the party already has may refuse an offering, what the server answers is
not sent by the client, and a refusal by date says when the offering is offered.

Expected values are written here, not derived from the code under test; every answer of the
qualification paths is checked against the official TMF679 definitions (``_check``)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator

import pytest
from sqlalchemy import Engine

from bssrules.services import qualification as service
from tests.api.session_app import ADMIN_KEY, AppFor, keyed_app
from tests.api.test_partners_auth import Api, _load
from tests.api.test_tmf679_qualification import INVENTORY, PARTY, POQ, _check, http  # noqa: F401 (http: fixture)

ROOT = Path(__file__).resolve().parents[2]
OFFERING = "/tmf-api/productCatalogManagement/v4/productOffering"
BOB = [{"id": "bob", "role": "customer", "@referredType": "Individual"}]


def _items(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["productOffering"]["id"]: i for i in answer["productOfferingQualificationItem"]}


def _codes(item: dict[str, Any]) -> list[str]:
    return [r["code"] for r in item.get("eligibilityUnavailabilityReason", [])]


def _ask(client: Any, *offerings: str, channel: str = "shop", party: list[dict[str, Any]] | None = BOB,
         key: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"channel": {"id": channel}, "productOfferingQualificationItem": [
        {"id": str(n), "productOffering": {"id": o}} for n, o in enumerate(offerings, 1)]}
    if party is not None:
        body["relatedParty"] = party
    response = client.post(POQ, json=body, headers={"Authorization": f"Bearer {key}"} if key else None)
    assert response.status_code == 201, response.text
    return response.json()


# ------------------------------------------------------------------ a partner asks about what it cannot see


@pytest.fixture
def api(engine: Engine, app_for: AppFor) -> Iterator[Api]:
    _load(engine, "connected_car")
    with keyed_app(app_for, engine) as app, Api(engine, ADMIN_KEY, app) as client:
        client.client.event_hooks["response"].append(_check)
        yield client


def test_an_offering_a_partner_cannot_see_is_answered_as_one_the_catalog_does_not_have(api: Api) -> None:
    """A partner without channels sees the partner-eligible data-5gb only (GET: 404 for the
    others). Naming another offering answered it as the operator would (qualified, or the
    rules' reasons), and a near miss was 'corrected' to an offering it may not see."""
    key = api.partner("shop-a", [{"name": "TMF679"}, {"name": "TMF620"}])
    assert api.call("GET", f"{OFFERING}/music-5gb", key).status_code == 404
    body = {"channel": {"id": "csp-shop"}, "productOfferingQualificationItem": [
        {"id": "1", "productOffering": {"id": "music-5gb"}},
        {"id": "2", "productOffering": {"id": "music-5gbb"}},
        {"id": "3", "productOffering": {"id": "no-such-offering"}},
        {"id": "4", "productOffering": {"id": "data5gb"}}]}
    answer = _items(api.ok("POST", POQ, key, body))
    assert answer["music-5gb"]["qualificationItemResult"] == "unqualified"
    assert answer["music-5gb"]["eligibilityUnavailabilityReason"] == [
        {"code": "unknownOffering", "label": "unknown offering 'music-5gb'"}]  # as for one that does not exist:
    assert answer["no-such-offering"]["eligibilityUnavailabilityReason"] == [
        {"code": "unknownOffering", "label": "unknown offering 'no-such-offering'"}]
    assert answer["music-5gbb"]["eligibilityUnavailabilityReason"] == [
        {"code": "unknownOffering", "label": "unknown offering 'music-5gbb'"}]  # no hint at what it cannot see
    assert answer["data5gb"]["eligibilityUnavailabilityReason"][0]["label"] == \
        "unknown offering 'data5gb' (did you mean 'data-5gb'?)"  # a hint at what it sees
    # the operator sees the whole catalog
    mine = _items(api.ok("POST", POQ, api.admin_key, body))
    assert mine["music-5gb"]["qualificationItemResult"] == "qualified"
    assert "did you mean 'music-5gb'" in mine["music-5gbb"]["eligibilityUnavailabilityReason"][0]["label"]


# ------------------------------------------------------------------ what the party already has


@pytest.fixture
def shop(engine: Engine, app_for: AppFor) -> Iterator[Any]:
    """The devices example, and Bob (born 1990), an individual without products."""
    from fastapi.testclient import TestClient

    _load(engine, "devices")
    with app_for(engine) as app, TestClient(app) as client:
        client.event_hooks["response"] = [lambda r: (r.read(), _check(r))]
        assert client.post(f"{PARTY}/individual", json={"id": "bob", "givenName": "Bob", "familyName": "Stone",
                                                        "birthDate": "1990-01-01"}).status_code == 201
        yield client


def _owns(client: Any, product_id: str, offering: str, resources: tuple[str, ...] = ()) -> None:
    product: dict[str, Any] = {"id": product_id, "status": "active", "productOffering": {"id": offering},
                               "relatedParty": [{"id": "bob", "role": "owner", "@referredType": "Individual"}]}
    if resources:
        product["realizingResource"] = [{"id": r} for r in resources]
    assert client.post(f"{INVENTORY}/product", json=product).status_code == 201


def test_an_offering_that_cannot_go_with_what_the_party_has_is_unqualified(shop: Any) -> None:
    """ipad-mini-deluxe excludes ipad-mini-std (catalog) and the tablet-options rule forbids
    the two together: an order of the 32 GB iPad by someone who has the 16 GB one is refused,
    and nothing bought beside it changes that. The qualification said ``qualified``."""
    assert _items(_ask(shop, "ipad-mini-deluxe"))["ipad-mini-deluxe"]["qualificationItemResult"] == "qualified"
    _owns(shop, "p-std", "ipad-mini-std")
    item = _items(_ask(shop, "ipad-mini-deluxe", "smartphone"))
    assert item["ipad-mini-deluxe"]["qualificationItemResult"] == "unqualified"
    assert item["ipad-mini-deluxe"]["eligibilityUnavailabilityReason"] == [
        {"code": "excluded", "label": "'ipad-mini-deluxe' cannot go with 'ipad-mini-std' (already owned)"},
        {"code": "incompatible", "label": "Choose either the 16 GB or the 32 GB iPad mini, not both.",
         "rule": "one-ipad-memory-size", "ruleSet": "tablet-options"}]
    assert item["smartphone"]["qualificationItemResult"] == "qualified"  # not its doing


def test_what_a_basket_could_still_bring_refuses_nothing(shop: Any) -> None:
    """A required resource (the iPad's small SIM), or a compound SIM's form factor, is what the
    basket brings with the offering: qualified, as before."""
    answer = _items(_ask(shop, "ipad-mini-std", "mobile-telephony-plan"))
    assert {o: i["qualificationItemResult"] for o, i in answer.items()} == {
        "ipad-mini-std": "qualified", "mobile-telephony-plan": "qualified"}


def test_a_forbidden_pair_among_the_partys_own_products_refuses_no_other_offering(shop: Any) -> None:
    """Bob's products hold a smartphone and a large SIM (sim-terminal-compatibility forbids the
    pair): that is not the doing of the iPad he asks about."""
    _owns(shop, "p-line", "mobile-telephony-plan", ("terminal-smartphone", "sim-large"))
    answer = _items(_ask(shop, "ipad-mini-std"))
    assert answer["ipad-mini-std"]["qualificationItemResult"] == "qualified", answer


# ------------------------------------------------------------------ what the client may not send


@pytest.mark.parametrize(("item", "message"), [
    ({"eligibilityUnavailabilityReason": [{"code": "x", "label": "y"}]},
     "productOfferingQualificationItem[0]: eligibilityUnavailabilityReason is the server's answer for the item"),
    ({"qualificationItemResult": "qualified", "state": "done"},
     "productOfferingQualificationItem[0]: state, qualificationItemResult are the server's answer for the item"),
    ({"alternateProductOfferingProposal": [{"id": "a", "alternateProductOffering": {"id": "data-5gb"}}]},
     "productOfferingQualificationItem[0]: alternateProductOfferingProposal is the server's answer"),
    ({"action": "delete"}, "productOfferingQualificationItem[0].action: 'delete' is not qualified here"),
])
def test_an_item_carrying_an_answer_or_another_action_is_refused_and_nothing_is_stored(
        http: Any, item: dict[str, Any], message: str) -> None:
    """Sent, a reason stayed beside the server's ``qualified``, a proposal nobody made was
    stored, and a deletion was answered as a purchase."""
    body = {"channel": {"id": "csp-shop"}, "productOfferingQualificationItem": [
        {"id": "1", "productOffering": {"id": "music-5gb"}, **item}]}
    response = http.post(POQ, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "invalidInput" and response.json()["message"].startswith(message)
    assert http.get(POQ).json() == []


def test_two_items_of_one_id_are_refused_and_nothing_is_stored(http: Any) -> None:
    """Both were answered under one id (and their proposals got one id too)."""
    response = http.post(POQ, json={"channel": {"id": "web"}, "productOfferingQualificationItem": [
        {"id": "1", "productOffering": {"id": "ppv-movie"}}, {"id": "1", "productOffering": {"id": "ppv-service"}}]})
    assert response.status_code == 400, response.text
    assert response.json()["message"] == ("productOfferingQualificationItem[1].id: the item id '1' is that of "
                                          "productOfferingQualificationItem[0] too; each item has an id of its own")
    assert http.get(POQ).json() == []
    assert http.post(POQ, json={"channel": {"id": "web"}, "productOfferingQualificationItem": [
        {"id": "1", "productOffering": {"id": "ppv-movie"}},
        {"id": "2", "productOffering": {"id": "ppv-movie"}}]}).status_code == 201  # one offering twice: asked twice


def test_a_qualification_of_another_type_is_refused(http: Any) -> None:
    """It was stored, and answered as a ProductOfferingQualification (a patch refuses it)."""
    response = http.post(POQ, json={"@type": "ShoppingCart", "productOfferingQualificationItem": [
        {"id": "1", "productOffering": {"id": "music-5gb"}}]})
    assert response.status_code == 400, response.text
    assert response.json()["message"] == \
        "@type 'ShoppingCart' does not match this resource (ProductOfferingQualification)"
    assert http.get(POQ).json() == []


# ------------------------------------------------------------------ validity: its instants, in any zone


class _Clock:
    """The service's clock at a chosen instant (the rest of ``datetime`` as it is)."""

    def __init__(self, at: str):
        moment = dt.datetime.fromisoformat(at)

        class Fixed(dt.datetime):
            @classmethod
            def now(cls, tz: Any = None) -> Any:  # type: ignore[override]
                return moment.astimezone(tz)
        self.module = SimpleNamespace(datetime=Fixed, timezone=dt.timezone, timedelta=dt.timedelta)


def _offering(shop: Any, id: str, valid_for: dict[str, str]) -> None:
    response = shop.post(OFFERING, json={"id": id, "name": id, "productSpecification": {"id": "handset"},
                                         "channel": [{"id": "shop"}], "validFor": valid_for})
    assert response.status_code == 201, response.text


def test_a_refusal_by_date_names_the_period_in_its_instants(shop: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The label said 'not offered on 2026-12-07 (validFor)': the UTC date alone, which does
    not say when, nor that an offering ending at 12:00 (Paris) was offered that morning."""
    _offering(shop, "winter-phone", {"startDateTime": "2026-12-01T00:00:00+01:00",
                                     "endDateTime": "2026-12-07T12:00:00+01:00"})
    monkeypatch.setattr(service, "dt", _Clock("2026-12-07T11:30:00+00:00").module)
    item = _items(_ask(shop, "winter-phone"))["winter-phone"]
    assert item["eligibilityUnavailabilityReason"] == [{"code": "notInForce", "label": (
        "offering 'winter-phone' is offered from 2026-11-30T23:00:00Z to 2026-12-07T11:00:00Z (validFor, its end "
        "excluded), not at 2026-12-07T11:30:00Z")}]


@pytest.mark.parametrize(("at", "result"), [
    ("2026-11-30T23:59:59+01:00", "unqualified"),  # a second before its start (Paris)
    ("2026-11-30T23:00:00+00:00", "qualified"),  # its start, said in UTC
    ("2026-12-07T12:59:59+02:00", "qualified"),  # the last second, said in Athens time
    ("2026-12-07T11:00:00+00:00", "unqualified"),  # its end: excluded
])
def test_validity_holds_from_its_start_included_to_its_end_excluded_whatever_the_zone(
        shop: Any, monkeypatch: pytest.MonkeyPatch, at: str, result: str) -> None:
    _offering(shop, "winter-phone", {"startDateTime": "2026-12-01T00:00:00+01:00",
                                     "endDateTime": "2026-12-07T12:00:00+01:00"})
    monkeypatch.setattr(service, "dt", _Clock(at).module)
    answer = _ask(shop, "winter-phone")
    assert _items(answer)["winter-phone"]["qualificationItemResult"] == result, answer
    assert answer["productOfferingQualificationDate"] == \
        dt.datetime.fromisoformat(at).astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


# ------------------------------------------------------------------ which party is asked about


def test_among_several_parties_none_the_customer_the_request_is_refused(http: Any) -> None:
    """The first party was taken, whatever its role: the shop selling to Ana (role
    ``Customer``, not ``customer``) was qualified in her stead, an organization, refused the
    infotainment package sold to drivers only."""
    assert http.post(f"{PARTY}/organization", json={"id": "shop-org", "tradingName": "Shop"}).status_code == 201
    body = {"channel": {"id": "car-maker-portal"},
            "relatedParty": [{"id": "shop-org", "role": "seller", "@referredType": "Organization"},
                             {"id": "driver-1", "role": "Customer", "@referredType": "Individual"}],
            "productOfferingQualificationItem": [{"id": "1", "productOffering": {"id": "infotainment-connectivity"}}]}
    response = http.post(POQ, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["message"] == (
        "relatedParty: no party has the role 'customer' (or 'buyer', or none), the party the offerings are "
        "qualified for; the roles given are 'seller', 'Customer'")
    assert http.get(POQ).json() == []
    body["relatedParty"][1]["role"] = "customer"  # named: she is the one asked about, wherever she is listed
    answer = http.post(POQ, json=body).json()
    assert answer["productOfferingQualificationItem"][0]["qualificationItemResult"] == "qualified"
    body["relatedParty"] = body["relatedParty"][1:]
    body["relatedParty"][0]["role"] = "owner"  # alone, whatever her role
    answer = http.post(POQ, json=body).json()
    assert answer["productOfferingQualificationItem"][0]["qualificationItemResult"] == "qualified"


def test_an_answer_of_alternates_only_is_unqualified(http: Any) -> None:
    """No offering asked about qualifies, one is proposed instead: the answer was
    ``partiallyQualified`` (docs: an answer without any item qualified is unqualified)."""
    answer = _ask(http, "ppv-movie", channel="web", party=[{"id": "driver-1", "role": "customer",
                                                            "@referredType": "Individual"}])
    assert _items(answer)["ppv-movie"]["qualificationItemResult"] == "alternate"
    assert answer["qualificationResult"] == "unqualified"
    both = _ask(http, "ppv-movie", "ppv-service", channel="web", party=None)
    assert [i["qualificationItemResult"] for i in both["productOfferingQualificationItem"]] == ["alternate", "qualified"]
    assert both["qualificationResult"] == "partiallyQualified"
    http.event_hooks["response"] = []  # (a 204 has no body to check)
    deleted = http.delete(f"{POQ}/{answer['id']}")  # gone, its id may be used again
    assert deleted.status_code == 204
    again = http.post(POQ, json={"id": answer["id"], "productOfferingQualificationItem": [
        {"id": "1", "productOffering": {"id": "ppv-service"}}]})
    assert again.status_code == 201, again.text


def test_a_reason_names_the_rule_that_refused_and_its_rule_set(http: Any) -> None:
    """Two rules of connected-car-eligibility refuse with the code wrongChannel: the answer
    said the code and the label only, not which rule (a configuration check names it)."""
    answer = _ask(http, "infotainment-connectivity", "music-5gb", channel="web",
                  party=[{"id": "driver-1", "role": "customer", "@referredType": "Individual"}])
    reasons = {o: i["eligibilityUnavailabilityReason"] for o, i in _items(answer).items()}
    assert reasons["infotainment-connectivity"] == [
        {"code": "channelNotAllowed", "label": "offering 'infotainment-connectivity' is not sold through channel "
                                               "'web' (only car-maker-portal)"},  # the catalog's: no rule
        {"code": "wrongChannel", "label": "Infotainment connectivity is sold through the car manufacturer's portal",
         "rule": "infotainment-through-car-maker", "ruleSet": "connected-car-eligibility"}]
    assert [(r["code"], r.get("rule")) for r in reasons["music-5gb"]] == [
        ("channelNotAllowed", None), ("wrongChannel", "converged-offer-channels")]
    assert http.get(f"{POQ}/{answer['id']}").json() == answer
    # sent back as read, the items are no change
    patched = http.patch(f"{POQ}/{answer['id']}", json={
        "productOfferingQualificationItem": answer["productOfferingQualificationItem"], "description": "seen"})
    assert patched.status_code == 200, patched.text
