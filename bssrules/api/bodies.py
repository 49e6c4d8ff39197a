"""JSON Schemas of the request bodies that no TMF definition describes as we take them: hub
registrations, configuration checks, bill and settlement runs, settlement-note state changes,
SLAs and their measurements. Each says what its service accepts — required attributes,
types, enums, and ``additionalProperties: false`` where the service refuses an attribute it
does not know — and is published among the OpenAPI components under its name.

The services remain the judges (their messages name the problem in their own words); these
schemas are the contract a client reads. ``tests/api/test_openapi_document.py`` sends a body
valid by each schema and expects it accepted."""
from __future__ import annotations

from typing import Any


def ref(name: str) -> str:
    """Where a body schema sits among the OpenAPI components."""
    return f"#/components/schemas/{name}"


_STRING = {"type": "string"}
_TYPE = {"type": "string", "description": "When sub-classing, the sub-class name"}
_ID_REF = {"type": "object", "required": ["id"], "properties": {"id": _STRING}}
_INSTANT = {"type": "string", "anyOf": [{"format": "date-time"}, {"format": "date"}],
            "description": "A date-time (UTC when it names no zone) or a date (its start, UTC)"}
# A month as BillingPeriod.month reads it; the years a datetime holds.
MONTH = {"type": "string", "pattern": "^[1-9][0-9]{3}-(0[1-9]|1[0-2])$", "description": "The month, YYYY-MM (UTC)"}
_SCALAR = {"type": ["string", "number", "boolean"]}
_DECIMAL = r"^\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*$"  # as Decimal() reads it

HUB_REGISTRATION = {
    "type": "object", "required": ["callback"], "additionalProperties": False,
    "description": "A TMF EventSubscriptionInput as this API takes it: an http(s) callback and an optional "
                   "query, nothing else",
    "properties": {
        "callback": {"type": "string", "format": "uri", "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[^/?#]",
                     "description": "The http or https URL the events are POSTed to"},
        "query": {"type": "string",
                  "description": "Which events: eventType=…&<dotted path of the event>=… (commas separate "
                                 "alternatives; every condition must hold); all events when absent"},
        "@type": _TYPE}}

CONFIGURATION_ITEM = {
    "type": "object", "required": ["productOffering"],
    "description": "A TMF663 cartItem, as far as the configuration check reads it",
    "properties": {
        "id": _STRING,
        "quantity": {"type": "integer", "minimum": 1, "default": 1},
        "productOffering": {**_ID_REF, "description": "The offering of the item"},
        "product": {"type": "object", "properties": {
            "productCharacteristic": {"type": "array", "items": {
                "type": "object", "required": ["name", "value"],
                "properties": {"name": _STRING,
                               "value": {"anyOf": [_SCALAR, {"type": "array", "items": _SCALAR}]}}}},
            "realizingResource": {"type": "array", "items": _ID_REF,
                                  "description": "The resources picked (e.g. which SIM)"}}},
        "cartItem": {"type": "array", "items": {"$ref": ref("ProductConfigurationItem")},
                     "description": "The components of a bundle"}}}

CONFIGURATION_REQUEST = {
    "type": "object", "anyOf": [{"required": ["shoppingCart"]}, {"required": ["cartItem"]}],
    "description": "A basket to check or query: a stored TMF663 shopping cart (its items and parties are "
                   "used), or items given inline with their parties",
    "properties": {
        "shoppingCart": {**_ID_REF, "description": "A stored shopping cart"},
        "cartItem": {"type": "array", "minItems": 1, "items": {"$ref": ref("ProductConfigurationItem")}},
        "relatedParty": {"type": "array", "items": {
            "type": "object", "properties": {"id": _STRING, "role": _STRING, "@referredType": _STRING}},
            "description": "The customer or buyer, and the parties of the payer roles"},
        "channel": {**_ID_REF, "description": "The sales channel"},
        "requestedDate": {**_INSTANT, "description": "As of when the rules apply (default: now)"},
        "@type": _TYPE}}

BILL_RUN = {
    "type": "object", "required": ["period"], "additionalProperties": False,
    "description": "A bill run: the month to bill, for every billing account or the ones named",
    "properties": {"period": MONTH,
                   "billingAccount": {"type": "array", "items": _ID_REF,
                                      "description": "Only these billing accounts (default: all)"}}}

SETTLEMENT_RUN = {
    "type": "object", "required": ["period"], "additionalProperties": False,
    "description": "A settlement run: the month to settle between partners",
    "properties": {"period": MONTH}}

SETTLEMENT_NOTE_UPDATE = {
    "type": "object", "required": ["state"], "additionalProperties": False,
    "description": "Only a settlement note's state changes: the payer accepts it (validated) or disputes it "
                   "(onHold), the payee re-issues it (sent), the payer pays it (settled)",
    "properties": {"state": {"type": "string", "enum": ["validated", "onHold", "sent", "settled"]},
                   "@type": _TYPE}}


def _party_with_role(role: str) -> dict[str, Any]:
    return {"type": "object", "required": ["id", "role"],
            "properties": {"id": {"type": "string", "minLength": 1}, "role": {"const": role}}}


SLA_CREATE = {
    "type": "object", "required": ["name", "ruleSet", "relatedParty"], "additionalProperties": False,
    "description": "A service level agreement: its SLA rule set, its provider and its consumer",
    "properties": {
        "id": {"type": "string", "description": "Default: made by the server"},
        "name": {"type": "string", "minLength": 1},
        "description": _STRING,
        "ruleSet": {**_ID_REF, "description": "A rule set of kind sla"},
        "relatedParty": {"type": "array", "items": {
            "type": "object", "required": ["id", "role"],
            "properties": {"id": _STRING, "role": _STRING, "name": _STRING, "@referredType": _STRING}},
            "allOf": [{"contains": _party_with_role("provider")}, {"contains": _party_with_role("consumer")}],
            "description": "The parties: one with role provider, one with role consumer (at least)"},
        "validFor": {"type": "object", "properties": {"startDateTime": _INSTANT, "endDateTime": _INSTANT}},
        "@type": _TYPE}}

SLA_MEASUREMENT = {
    "type": "object", "required": ["sla", "metric", "value"],
    "description": "A measured value of an SLA metric; the SLA's rules decide the violations",
    "properties": {
        "sla": {**_ID_REF, "description": "The SLA"},
        "metric": {"type": "string", "minLength": 1, "description": "The identifier of the metric"},
        "value": {"anyOf": [{"type": "number"}, {"type": "string", "pattern": _DECIMAL}],
                  "description": "A number (or a number written as a string)"},
        "window": {"type": "string", "description": "The window measured, e.g. day or month"},
        "observedAt": {**_INSTANT, "description": "When it was measured (default: now)"},
        "service": _STRING}}

SCHEMAS: dict[str, dict[str, Any]] = {
    "HubRegistration": HUB_REGISTRATION,
    "ProductConfigurationRequest": CONFIGURATION_REQUEST,
    "ProductConfigurationItem": CONFIGURATION_ITEM,
    "BillRun_Create": BILL_RUN,
    "SettlementRun_Create": SETTLEMENT_RUN,
    "SettlementNote_Update": SETTLEMENT_NOTE_UPDATE,
    "Sla_Create": SLA_CREATE,
    "SlaMeasurement_Create": SLA_MEASUREMENT,
}


def components() -> dict[str, Any]:
    """The body schemas as OpenAPI components."""
    return dict(SCHEMAS)
