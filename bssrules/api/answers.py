"""JSON Schemas of the answers no TMF definition describes: partners and their keys, the
deliveries of events and redeliveries, aggregated usage and running totals, bill and
settlement runs, SLAs, their measurements, violations and reports.

Each says what its service returns — the attributes always there are ``required``, the
others may be absent — and is closed (``additionalProperties: false``) where the service
builds the whole answer, so that a client can rely on every attribute it reads; what a
client wrote and the server keeps as written (an SLA's related parties) stays open below
its top level. A hub answers the official TMF ``EventSubscription`` (TMF620's, the one
every API shares). All are published among the OpenAPI components under their names;
``tests/api/test_answer_schemas.py`` validates real answers of every operation against the
schema the document declares for it."""
from __future__ import annotations

from typing import Any

from bssrules.services import partners as partner_service


def ref(name: str) -> str:
    """Where an answer schema sits among the OpenAPI components."""
    return f"#/components/schemas/{name}"


def one(name: str) -> dict[str, Any]:
    return {"$ref": ref(name)}


def many(name: str) -> dict[str, Any]:
    return {"type": "array", "items": {"$ref": ref(name)}}


EVENT_SUBSCRIPTION = ref("EventSubscription")  # TMF620's, unprefixed: the hub answer of every API

_STRING = {"type": "string"}
_STRINGS = {"type": "array", "items": _STRING}
_INTEGER = {"type": "integer", "minimum": 0}
_NUMBER = {"type": "number"}
_INSTANT = {"type": "string", "format": "date-time"}
_TYPE = {"type": "string", "description": "When sub-classing, the sub-class name"}
_ID = {"type": "object", "required": ["id"], "additionalProperties": False, "properties": {"id": _STRING}}
_PERIOD = {"type": "object", "required": ["startDateTime", "endDateTime"], "additionalProperties": False,
           "properties": {"startDateTime": _INSTANT, "endDateTime": _INSTANT},
           "description": "[startDateTime, endDateTime): a month, UTC"}


def _closed(required: list[str], properties: dict[str, Any], description: str) -> dict[str, Any]:
    return {"type": "object", "required": required, "additionalProperties": False, "properties": properties,
            "description": description}


# ----------------------------------------------------------------------------- partners

_PARTNER_PROPERTIES: dict[str, Any] = {
    "id": _STRING, "href": _STRING, "@type": {"type": "string", "const": "Partner"},
    "name": _STRING, "description": _STRING,
    "role": {"type": "string", "enum": ["partner", "admin"],
             "description": "admin manages partners and sees everything; partner sees its own part"},
    "catalog": {**_STRINGS, "description": "The catalogs the partner owns"},
    "channel": {**_STRINGS, "description": "The sales channels the partner sells through"},
    "party": {"type": "object", "required": ["id", "@referredType"], "additionalProperties": False,
              "properties": {"id": _STRING, "@referredType": {"type": "string",
                                                              "enum": ["Individual", "Organization"]}},
              "description": "The individual or organization the partner acts for"},
    "apiBundle": {"type": "object", "required": ["name", "api"], "additionalProperties": False,
                  "properties": {"name": _STRING, "api": {"type": "array", "items": _closed(
                      ["name", "operations"],
                      {"name": {"type": "string", "enum": list(partner_service.APIS)},
                       "operations": {"type": "array",
                                      "items": {"type": "string", "enum": list(partner_service.OPERATIONS)}}},
                      "An API the partner may call, and the operations on it")}},
                  "description": "The TMF APIs the partner may call"},
    "key": {"type": "array", "items": _closed(["id", "created"], {"id": _STRING, "created": _INSTANT},
                                              "A live API key: its id and when it was made (never its secret)")},
}
_PARTNER_REQUIRED = ["id", "href", "@type", "name", "role", "apiBundle", "key"]
_API_KEY = {"type": "string", "pattern": "^bss_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43}$",
            "description": "The API key, shown this once: bss_<key id>_<secret>"}

PARTNER = _closed(_PARTNER_REQUIRED, _PARTNER_PROPERTIES, "A partner: its API bundle, channels and keys")
PARTNER_CREATED = _closed([*_PARTNER_REQUIRED, "apiKey"], {**_PARTNER_PROPERTIES, "apiKey": _API_KEY},
                          "A partner just registered, with its first API key")
PARTNER_KEY = _closed(["partner", "apiKey"], {"partner": _STRING, "apiKey": _API_KEY},
                      "Another API key of a partner (to rotate keys)")

# ----------------------------------------------------------------------------- events

DELIVERY = _closed(
    ["event", "hub", "callback", "status", "attempts", "nextAttempt"],
    {"event": {**_STRING, "description": "The event's id"}, "hub": {**_STRING, "description": "The hub's id"},
     "callback": _STRING, "status": {"type": "string", "enum": ["pending", "delivered", "failed"]},
     "attempts": _INTEGER, "nextAttempt": {**_INSTANT, "description": "When it is (or was last) tried"},
     "lastError": {**_STRING, "description": "Why the last attempt failed"},
     "delivered": {**_INSTANT, "description": "When it was delivered"}},
    "The delivery of one event to one hub")
REDELIVERY = _closed(
    ["hub", "redelivered", "event"],
    {"hub": _STRING, "redelivered": _INTEGER,
     "event": {**_STRINGS, "description": "The events queued again, in the order they will be sent"}},
    "What a redelivery queued")

# ----------------------------------------------------------------------------- usage

_VOLUME = _closed(["unit", "value"], {"unit": {"type": ["string", "null"],
                                               "description": "null: usage rated before volumes were kept"},
                                      "value": _NUMBER}, "A volume rated, in one unit")
AGGREGATED_USAGE_TOTAL = _closed(
    ["unit", "value", "count"],
    {"unit": {**_STRING, "description": "The currency"}, "value": {**_NUMBER, "description": "The amount, exact"},
     "count": {**_INTEGER, "description": "The rated charges counted"},
     "service": _STRING, "billingAccount": _STRING, "product": _STRING, "payerRole": _STRING,
     "volume": {"type": "array", "items": _VOLUME, "description": "The volume rated per unit"}},
    "One total: a currency, and the groups asked for (groupBy)")
AGGREGATED_USAGE = _closed(
    ["billingAccount", "product", "period", "total", "@type"],
    {"billingAccount": _STRINGS, "product": _STRINGS,
     "period": {"type": "object", "required": ["startDateTime", "endDateTime"], "additionalProperties": False,
                "properties": {"startDateTime": {"type": ["string", "null"], "description": "As asked (null: none)"},
                               "endDateTime": {"type": ["string", "null"], "description": "As asked (null: none)"},
                               "timeZone": {**_STRING, "description": "Where a plain date was read"}}},
     "total": {"type": "array", "items": one("AggregatedUsageTotal")},
     "@type": {"type": "string", "const": "AggregatedUsage"}},
    "What rated usage comes to so far, per payer or product and period")
ACCUMULATOR = _closed(
    ["id", "accumulator", "subscriber", "period", "volume", "amount", "reached"],
    {"id": _STRING, "accumulator": {**_STRING, "description": "<usage rule set>/<accumulator id>"},
     "subscriber": {**_STRING, "description": "The inventory product"},
     "period": {**_STRING, "description": "The period it counts: a month (YYYY-MM) or a day (YYYY-MM-DD)"},
     "volume": _NUMBER, "amount": _NUMBER, "reached": {**_STRINGS, "description": "The thresholds reached"}},
    "A product's running total in one period")

# ----------------------------------------------------------------------------- runs

BILL_RUN = _closed(
    ["billingPeriod", "billsMade", "billsAlreadyMade", "lateUsage"],
    {"billingPeriod": _PERIOD, "billsMade": {**_STRINGS, "description": "The ids of the bills made"},
     "billsAlreadyMade": {**_STRINGS, "description": "The bills of the month made by an earlier run"},
     "lateUsage": {**_STRINGS, "description": "Usage rated for a month already billed, left unbilled"},
     "accountsNotBilled": {"type": "array", "items": _closed(["id", "reason"], {"id": _STRING, "reason": _STRING},
                                                              "An account not billed, and why")}},
    "What a bill run made")
SETTLEMENT_RUN = _closed(
    ["billingPeriod", "settlementNotesMade", "settlementNotesAlreadyMade", "itemsDecided"],
    {"billingPeriod": _PERIOD, "settlementNotesMade": _STRINGS, "settlementNotesAlreadyMade": _STRINGS,
     "itemsDecided": _INTEGER},
    "What a settlement run made")

# ----------------------------------------------------------------------------- SLAs

_RELATED_PARTY = {"type": "array", "items": {
    "type": "object", "required": ["id"],
    "properties": {"id": _STRING, "role": {"type": ["string", "null"]}, "name": _STRING, "@referredType": _STRING}},
    "description": "The parties as the SLA names them"}
SLA = _closed(
    ["id", "href", "@type", "name", "ruleSet", "relatedParty", "state"],
    {"id": _STRING, "href": _STRING, "@type": {"type": "string", "const": "ServiceLevelAgreement"},
     "name": _STRING, "description": _STRING,
     "ruleSet": {"type": "object", "required": ["id"], "properties": {"id": _STRING},
                 "description": "Its SLA rule set"},
     "relatedParty": _RELATED_PARTY, "validFor": {"type": "object", "description": "As agreed"},
     "state": {"type": "string", "enum": ["active"]}},
    "A service level agreement")
SLA_VIOLATION = _closed(
    ["id", "href", "@type", "sla", "rule", "ruleSet", "metric", "value", "severity", "observedAt", "relatedParty"],
    {"id": _STRING, "href": _STRING, "@type": {"type": "string", "const": "SlaViolation"},
     "sla": _closed(["id", "name"], {"id": _STRING, "name": _STRING}, "The SLA broken"),
     "rule": _STRING, "ruleSet": _STRING, "metric": _STRING, "value": _NUMBER,
     "severity": {"type": "string", "enum": ["critical", "major", "minor", "warning"]},
     "observedAt": _INSTANT, "relatedParty": _RELATED_PARTY,
     "window": {"description": "The window measured, as posted"},
     "service": {"description": "The service measured, as posted"},
     "troubleTicket": {**_ID, "description": "The ticket it opened (critical and major)"}},
    "A threshold an SLA measurement broke")
SLA_MEASUREMENT = _closed(
    ["sla", "metric", "value", "observedAt", "violation"],
    {"sla": _ID, "metric": _STRING, "value": _NUMBER, "observedAt": _INSTANT,
     "violation": {"type": "array", "items": one("SlaViolation"), "description": "The violations it raised"}},
    "A measurement taken, and the violations it raised")
SLA_REPORT = _closed(
    ["sla", "period", "violationCount", "byRule", "@type"],
    {"sla": _ID, "period": _PERIOD, "violationCount": _INTEGER,
     "byRule": {"type": "array", "items": _closed(
         ["rule", "metric", "severity", "count"],
         {"rule": _STRING, "metric": _STRING, "severity": _STRING, "count": _INTEGER}, "Violations of one rule")},
     "@type": {"type": "string", "const": "SlaReport"}},
    "An SLA's violations in a month, per rule and severity")

ANSWERS: dict[str, dict[str, Any]] = {
    "Partner": PARTNER,
    "Partner_Created": PARTNER_CREATED,
    "PartnerKey": PARTNER_KEY,
    "Delivery": DELIVERY,
    "Redelivery": REDELIVERY,
    "AggregatedUsage": AGGREGATED_USAGE,
    "AggregatedUsageTotal": AGGREGATED_USAGE_TOTAL,
    "Accumulator": ACCUMULATOR,
    "BillRun": BILL_RUN,
    "SettlementRun": SETTLEMENT_RUN,
    "ServiceLevelAgreement": SLA,
    "SlaViolation": SLA_VIOLATION,
    "SlaMeasurement": SLA_MEASUREMENT,
    "SlaReport": SLA_REPORT,
}


def components() -> dict[str, Any]:
    """The answer schemas as OpenAPI components."""
    return dict(ANSWERS)
