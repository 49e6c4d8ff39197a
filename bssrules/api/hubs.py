"""TMF hub registration on each API that sends events, the redelivery of what a hub was
sent, and the deliveries a partner can watch (extension:
``GET /tmf-api/partnerManagement/v4/delivery?status=failed``).

A hub's ``query`` may name only what the API's events hold: the event attributes, and the
resource under ``event.<name>`` as the API's TMF specification defines its events (or, for
the events no specification defines, as we send them)."""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Collection, Mapping

from fastapi import APIRouter, Request, Response

from bssrules.services import notifications
from bssrules.api import bodies, tmfspec
from bssrules.api.answers import EVENT_SUBSCRIPTION, many, one
from bssrules.api.deps import JSON_TYPES, in_unit_of_work, json_body
from bssrules.api.openapi_parts import PAGING, query_parameter, request_body
from bssrules.api.query import paging
from bssrules.api.responses import TMFJSONResponse
from bssrules.errors import InvalidInput

# API name -> its base path (the hub lives at <base>/hub)
HUB_APIS = {
    "TMF620": "/tmf-api/productCatalogManagement/v4",
    "TMF621": "/tmf-api/troubleTicket/v4",
    "TMF622": "/tmf-api/productOrderingManagement/v4",
    "TMF623": "/tmf-api/slaManagement/v4",
    "TMF635": "/tmf-api/usageManagement/v4",
    "TMF637": "/tmf-api/productInventory/v4",
    "TMF678": "/tmf-api/customerBillManagement/v4",
    "TMF679": "/tmf-api/productOfferingQualification/v4",
}
DELIVERY_STATES = ("pending", "delivered", "failed")

# ------------------------------------------------------------------ what each API's events hold

# The specification whose *Event definitions describe an API's events (the prefixes are those
# the routers publish the specifications under: one shared instance each).
_SPECS = {
    "TMF620": (tmfspec.TMF620_FILE, ""),
    "TMF621": ("TMF621-TroubleTicket-v4.0.0.swagger.json", "TMF621_"),
    "TMF622": ("TMF622-ProductOrdering-v4.0.0.swagger.json", "TMF622_"),
    "TMF635": ("TMF635-Usage-v4.0.0.swagger.json", "TMF635_"),
    "TMF637": ("TMF637-ProductInventory-v4.0.0.swagger.json", "TMF637_"),
    "TMF678": ("TMF678-Customer_Bill-v4.0.0.swagger.json", "TMF678_"),
    "TMF679": ("TMF679-ProductOfferingQualification-v4.0.0.swagger.json", "TMF679_"),
}
_TEXT = {"type": "string"}
_NUMBER = {"type": "number"}
_ID = {"type": "object", "properties": {"id": _TEXT}}
_PARTY = {"type": "array", "items": {"type": "object", "properties": {
    "id": _TEXT, "name": _TEXT, "role": _TEXT, "@referredType": _TEXT}}}
# The events we send that no specification here defines: (event types, resource name, schema).
_OWN_EVENTS: dict[str, tuple[tuple[str, ...], str, dict[str, Any]]] = {
    "TMF623": (("SlaViolationCreateEvent",), "slaViolation", {"type": "object", "properties": {
        "id": _TEXT, "href": _TEXT, "@type": _TEXT, "sla": {"type": "object", "properties": {"id": _TEXT, "name": _TEXT}},
        "rule": _TEXT, "ruleSet": _TEXT, "metric": _TEXT, "value": _NUMBER, "severity": _TEXT, "window": _TEXT,
        "observedAt": _TEXT, "relatedParty": _PARTY, "troubleTicket": _ID}}),
    "TMF635": (("UsageThresholdReachedEvent",), "usageThreshold", {"type": "object", "properties": {
        "accumulator": _TEXT, "threshold": _TEXT, "action": _TEXT, "product": _ID, "period": _TEXT,
        "value": _NUMBER, "usage": _ID}}),
    "TMF678": (("CustomerBillCreateEvent", "CustomerBillStateChangeEvent"), "customerBill",
               {"$ref": "#/definitions/CustomerBill"}),
}
# Attributes the resources carry that their v4.0 definitions leave out (a characteristic's value).
_MISSING: dict[str, dict[str, Any]] = {"Characteristic": {"value": {}}}
_HEADER = ("eventId", "eventTime", "eventType", "fieldPath", "event")  # (fieldPath: a change event's attributes)


def _properties(definitions: Mapping[str, Any], schema: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The attributes of a schema (arrays looked into); None: a free-form value."""
    extra: Mapping[str, Any] = {}
    for _ in range(32):  # references and arrays, not cycles
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[1]
            schema, extra = definitions.get(name, {}), _MISSING.get(name, {})
        elif schema.get("type") == "array":
            schema = schema.get("items", {})
        else:
            break
    if "properties" in schema:
        return {**schema["properties"], **extra}
    return None if schema.get("type") in (None, "object") else {}


@lru_cache(maxsize=None)
def event_shape(api: str) -> notifications.EventShape:
    """What the events of ``api`` hold, to check hub queries against."""
    definitions: dict[str, Any] = {}
    resources: dict[str, Mapping[str, Any]] = {}
    types: set[str] = set()
    if api in _SPECS:
        definitions = tmfspec.spec(*_SPECS[api]).definitions
        for name, definition in definitions.items():
            payload = definition.get("properties", {}).get("event", {})
            if name.endswith("Event") and "$ref" in payload:
                types.add(name)
                resources.update(_properties(definitions, payload) or {})
    if api in _OWN_EVENTS:
        own_types, resource, schema = _OWN_EVENTS[api]
        types.update(own_types)
        resources[resource] = schema

    def attributes(path: tuple[str, ...]) -> Collection[str] | None:
        if not path:
            return _HEADER
        if path[0] != "event":
            return ()
        properties: Mapping[str, Any] | None = {name: {} for name in resources}
        schema: Mapping[str, Any] = {}
        for depth, part in enumerate(path[1:]):
            if properties is None:
                return None
            if part not in properties:
                return ()
            schema = resources[part] if depth == 0 else properties[part]
            properties = _properties(definitions, schema)
        return None if properties is None else list(properties)

    return notifications.EventShape(frozenset(types), attributes)


# ------------------------------------------------------------------ routes

REDELIVERY = {
    "type": "object", "additionalProperties": False, "not": {"required": ["event", "since"]},
    "description": "What to send again: one event (failed or delivered), the failed deliveries of the events "
                   "made since an instant, or (an empty object) every failed delivery of the hub",
    "properties": {
        "event": {"type": "string", "minLength": 1, "description": "The id of an event the hub was to be sent"},
        "since": {"type": "string", "anyOf": [{"format": "date-time"}, {"format": "date"}],
                  "description": "Every failed delivery of the events made since then: a date-time (UTC when it "
                                 "names no zone) or a date (its start, UTC)"},
        "@type": {"type": "string"}}}


def hub_routers() -> list[APIRouter]:
    routers = []
    for api, base in HUB_APIS.items():
        router = APIRouter(prefix=base, tags=["hub"])

        def add(router: APIRouter = router, api: str = api) -> None:
            @router.post("/hub", operation_id=f"registerListener{api}", status_code=201,
                         response_class=TMFJSONResponse, summary=f"Subscribe a callback to the events of {api}",
                         description="A query naming an attribute, or an event type, that the events of this API "
                                     "do not have is refused (400), with the closest one suggested.",
                         responses={201: tmfspec.json_response({"$ref": EVENT_SUBSCRIPTION}, "Subscribed")},
                         openapi_extra=request_body(bodies.ref("HubRegistration"), JSON_TYPES))
            async def register(request: Request) -> Response:
                body = await json_body(request, JSON_TYPES, None)
                hub = await in_unit_of_work(request, notifications.register_hub, api, body, event_shape(api))
                return TMFJSONResponse(hub, status_code=201, headers={"Location": f"{request.url.path}/{hub['id']}"})

            @router.delete("/hub/{id}", operation_id=f"unregisterListener{api}", status_code=204,
                           summary=f"Unsubscribe from the events of {api}")
            async def unregister(request: Request, id: str) -> Response:
                await in_unit_of_work(request, notifications.delete_hub, api, id)
                return Response(status_code=204)

            @router.post("/hub/{id}/redeliver", operation_id=f"redeliverListener{api}", status_code=202,
                         response_class=TMFJSONResponse, summary=f"Send a hub of {api} its events again",
                         description="`{\"event\": id}` sends that event again (failed or delivered; one still "
                                     "pending is a 409), `{\"since\": instant}` every failed delivery of the events "
                                     "made since then, `{}` every failed delivery of the hub. They are queued at "
                                     "once, retried for a fresh retention, and sent in the order their events were "
                                     "made, before the hub's later events. Answers the hub and the events queued "
                                     "(`redelivered`, `event`). Only the hub's partner (or an administrator) may.",
                         responses={202: tmfspec.json_response(one("Redelivery"), "Queued")},
                         openapi_extra={"requestBody": {"required": True, "content": {
                             m: {"schema": REDELIVERY} for m in JSON_TYPES}}})
            async def redeliver(request: Request, id: str) -> Response:
                body = await json_body(request, JSON_TYPES, None)
                done = await in_unit_of_work(request, notifications.redeliver, id, body, api)
                return TMFJSONResponse(done, status_code=202)

        add()
        routers.append(router)
    deliveries = APIRouter(prefix="/tmf-api/partnerManagement/v4", tags=["partner"])

    @deliveries.get("/delivery", operation_id="listDelivery", response_class=TMFJSONResponse,
                    summary="The deliveries of events to your hubs: pending, delivered or failed",
                    description="Oldest due first; other query parameters are ignored. The answer is one page: "
                                "offset and limit choose it.",
                    responses={200: tmfspec.json_response(many("Delivery"), "Success")},
                    openapi_extra={"parameters": [
                        query_parameter("status", "Only the deliveries in this state", schema={
                            "type": "string", "enum": list(DELIVERY_STATES)}),
                        query_parameter("hub", "Only the deliveries to this hub (its id)"), *PAGING]})
    async def list_deliveries(request: Request) -> Response:
        params = request.query_params
        status = params.get("status")
        if status is not None and status not in DELIVERY_STATES:
            raise InvalidInput("status is pending, delivered or failed", path=("status",))
        offset, limit = paging(params)
        return TMFJSONResponse(await in_unit_of_work(request, notifications.list_deliveries, status, offset, limit,
                                                     params.get("hub")))

    routers.append(deliveries)
    return routers
