"""JSON Schemas of what no TMF definition describes as we take it or give it.

* Request bodies (``SCHEMAS``): hub registrations, configuration checks, bill and settlement
  runs, settlement-note state changes, SLAs and their measurements. Each says what its
  service accepts — required attributes, types, enums, and ``additionalProperties: false``
  where the service refuses an attribute it does not know.
* Answers (``ANSWERS``): the configuration check and query, with their violations and the
  rules' explanations, and the check's prices (the shapes of TMF663 CartPrice, narrowed to
  what is given). Each says exactly what the service returns (``additionalProperties:
  false`` throughout), so a client can rely on every attribute it reads.

All are published among the OpenAPI components under their names. The services remain the
judges (their messages name the problem in their own words); these schemas are the contract
a client reads. ``tests/api/test_openapi_document.py`` sends a body valid by each request
schema and expects it accepted; ``tests/api/test_configuration_api.py`` validates real
answers against the answer schemas."""
from __future__ import annotations

from typing import Any

from bssrules.configurator.model import MAX_QUANTITY


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
        "quantity": {"type": "integer", "minimum": 1, "maximum": MAX_QUANTITY, "default": 1},
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
        "providePrice": {"type": "boolean", "default": False,
                         "description": "checkProductConfiguration: answer the basket's prices too (cartTotalPrice, "
                                        "and per item itemPrice and itemTotalPrice), as a cart or an order states "
                                        "them"},
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

# ------------------------------------------------------------------------ answers

_INTEGER = {"type": "integer"}
_BOOLEAN = {"type": "boolean"}
_ANY = {"description": "Any JSON value"}

RULE_CONDITION = {
    "type": "object", "required": ["condition", "result"], "additionalProperties": False,
    "description": "How a rule's condition came out: a test with the value the facts held, or a group "
                   "(all, any, not) with its parts",
    "properties": {
        "condition": {"type": "string", "description": "The test or group, as the rule writes it: "
                                                       "present.resourceSpecifications contains sim-small"},
        "result": {"type": "boolean", "description": "Whether it held"},
        "actual": {**_ANY, "description": "A test's value in the facts; the text (absent) when the facts hold "
                                          "none"},
        "parts": {"type": "array", "items": {"$ref": ref("RuleCondition")}, "description": "A group's parts"}}}

RULE_EXPLANATION = {
    "type": "object", "required": ["rule", "fired", "when"], "additionalProperties": False,
    "description": "Why a rule fired, condition by condition",
    "properties": {"rule": {"type": "string", "description": "The rule's id"},
                   "fired": _BOOLEAN,
                   "when": {"$ref": ref("RuleCondition")},
                   "note": _STRING}}

CONFIGURATION_VIOLATION = {
    "type": "object", "required": ["code", "message", "path"], "additionalProperties": False,
    "description": "One reason the basket cannot be ordered as it is; the order API's violations are the same",
    "properties": {
        "code": {"type": "string", "description": "What is wrong: unknownOffering, notSellable, notInForce, "
                                                  "notSellableAlone, channelNotAllowed, notABundle, notInBundle, "
                                                  "bundleCardinality, unknownCharacteristic, tooManyValues, "
                                                  "tooFewValues, repeatedValue, invalidCharacteristicValue, "
                                                  "notConfigurable, missingCharacteristic, missingPrerequisite, "
                                                  "excluded, notEligible, incompatible, noPayer, noBillingAccount; "
                                                  "an item's term: termRequired, unknownTerm, termNotOffered, noTerm, "
                                                  "termMismatch; a delete item: unknownProduct, notThePartysProduct, "
                                                  "productNotInForce, terminationBeforeStart"},
        "message": {"type": "string", "description": "What is wrong, for people"},
        "path": {"type": "string", "description": "Where, in the request: $.cartItem[1] (an order: "
                                                  "$.productOrderItem[1]), "
                                                  "$.cartItem[0].product.productCharacteristic[?(@.name=='x')], "
                                                  "$.relatedParty; $.inventory[i] for the i-th (by id) of the "
                                                  "party's products"},
        "rule": {"type": "string", "description": "The rule that refused (rule-made violations)"},
        "ruleSet": {"type": "string", "description": "Its rule set"},
        "explanation": {"type": "array", "items": {"$ref": ref("RuleExplanation")},
                        "description": "The check only: why the rule fired"},
        "reason": {"type": "string", "description": "notEligible: the eligibility rule's reason code"},
        "label": {"type": "string", "description": "notEligible: the reason's label"},
        "alternate": {"type": "string", "description": "notEligible: an offering the rule proposes instead"},
        "component": {"type": "string", "description": "bundleCardinality: the component offering"},
        "min": {**_INTEGER, "description": "bundleCardinality: the least the bundle takes"},
        "max": {**_INTEGER, "description": "bundleCardinality: the most the bundle takes"},
        "count": {**_INTEGER, "description": "bundleCardinality: how many the basket has"},
        "requires": {"type": "string", "description": "missingPrerequisite: the offering required"},
        "excludes": {"type": "string", "description": "excluded: the offering excluded"},
        "type": {"type": "string", "enum": ["required", "forbidden", "optional", "exactlyOne"],
                 "description": "incompatible: the kind of compatibility rule"},
        "subject": {"type": "string", "description": "incompatible: the rule's subject, e.g. "
                                                     "resourceSpecification terminal-smartphone"},
        "target": {"type": "string", "description": "incompatible: the rule's target"},
        "price": {"type": "string", "description": "noPayer, noBillingAccount: the price charged"},
        "payer": {"type": "string", "description": "noBillingAccount: the payer role the split billing rules name"},
        "item": {"type": "string", "description": "noBillingAccount: the item charged"}}}

_MONEY = {"type": "object", "required": ["unit", "value"], "additionalProperties": False,
          "description": "An exact amount, rounded half-up to the currency's minor unit (TMF Money)",
          "properties": {"unit": {"type": "string", "description": "The currency (ISO 4217)"},
                         "value": {"type": "number"}}}

PRICE_ALTERATION = {
    "type": "object", "required": ["name", "priceType", "priority", "price"], "additionalProperties": False,
    "description": "A discount on a price (TMF663 PriceAlteration): what it takes off, negative",
    "properties": {
        "name": {"type": "string", "description": "<rule set>/<rule> of the discount rule"},
        "priceType": {"type": "string", "enum": ["oneTime", "recurring"]},
        "priority": {**_INTEGER, "description": "The rule's priority (lowest applied first)"},
        "price": {"type": "object", "required": ["taxIncludedAmount"], "additionalProperties": False,
                  "properties": {"taxIncludedAmount": {**_MONEY, "description": "Negative: what is taken off"},
                                 "percentage": {"type": "number", "description": "The rule's percentage"}}},
        "description": _STRING,
        "recurringChargePeriod": {"type": "string", "description": "A recurring line's period"},
        "applicationDuration": {**_INTEGER, "description": "For how many periods"}}}

CART_PRICE = {
    "type": "object", "required": ["priceType", "price"], "additionalProperties": False,
    "description": "A price (TMF663 CartPrice): one price line of an item (name, productOfferingPrice), or a "
                   "total per price type, period and currency; its amount is after its discounts",
    "properties": {
        "name": {"type": "string", "description": "A line: the productOfferingPrice's id"},
        "priceType": {"type": "string", "enum": ["oneTime", "recurring", "usage"]},
        "productOfferingPrice": {**_ID_REF, "additionalProperties": False, "description": "A line: its price"},
        "price": {"type": "object", "required": ["taxIncludedAmount"], "additionalProperties": False,
                  "properties": {"taxIncludedAmount": {**_MONEY, "description": "The net amount; for usage, the "
                                                                                "rate per unitOfMeasure"}}},
        "recurringChargePeriod": {"type": "string", "description": "month, 2 months …: what one period costs"},
        "unitOfMeasure": {"type": "string", "description": "A usage rate: per what"},
        "priceAlteration": {"type": "array", "items": {"$ref": ref("ProductConfigurationPriceAlteration")}}}}

PRICED_ITEM = {
    "type": "object", "required": ["id", "productOffering", "quantity", "itemPrice", "itemTotalPrice"],
    "additionalProperties": False,
    "description": "What one item of the basket costs",
    "properties": {
        "id": {"type": "string", "description": "The cartItem's id"},
        "productOffering": {**_ID_REF, "additionalProperties": False},
        "quantity": _INTEGER,
        "itemPrice": {"type": "array", "items": {"$ref": ref("ProductConfigurationPrice")},
                      "description": "The item's own price lines"},
        "itemTotalPrice": {"type": "array", "items": {"$ref": ref("ProductConfigurationPrice")},
                           "description": "The item's total with its components', per price type and period"},
        "cartItem": {"type": "array", "items": {"$ref": ref("ProductConfigurationPricedItem")},
                     "description": "A bundle's components"}}}

CHECK_ANSWER = {
    "type": "object", "required": ["@type", "state", "checkResult", "valid", "violation"],
    "additionalProperties": False,
    "description": "The answer of a configuration check: every violation at once, with the rules' explanations "
                   "(and, asked with providePrice, the basket's prices)",
    "properties": {
        "@type": {"const": "CheckProductConfiguration"},
        "state": {"const": "done", "description": "Always done: the answer is computed at once, not stored"},
        "checkResult": {"type": "string", "enum": ["valid", "invalid"]},
        "valid": {"type": "boolean", "description": "true exactly when violation is empty"},
        "violation": {"type": "array", "items": {"$ref": ref("ProductConfigurationViolation")}},
        "cartTotalPrice": {"type": "array", "items": {"$ref": ref("ProductConfigurationPrice")},
                           "description": "providePrice: the basket's totals per price type, period and currency"},
        "cartItem": {"type": "array", "items": {"$ref": ref("ProductConfigurationPricedItem")},
                     "description": "providePrice: each item's prices, in the request's order and nesting"}}}

CONFIGURATION_REASON = {
    "type": "object", "required": ["code", "message"], "additionalProperties": False,
    "description": "Why a choice would break the basket: a violation it would add",
    "properties": {"code": {"type": "string", "description": "As a violation's code; notOffered: a value the "
                                                             "item's offering does not allow"},
                   "message": _STRING,
                   "rule": {"type": "string", "description": "The rule that would refuse it"}}}
_REASONS = {"type": "array", "items": {"$ref": ref("ProductConfigurationReason")},
            "description": "Empty when selectable"}

_OPTION = {
    "type": "object", "required": ["offering", "relationship", "selectable", "reasons"], "additionalProperties": False,
    "description": "An option or add-on of the item's offering that the basket does not hold yet",
    "properties": {"offering": _STRING, "relationship": {"type": "string", "enum": ["option", "addOn"]},
                   "selectable": _BOOLEAN, "reasons": _REASONS}}
_COMPONENT = {
    "type": "object", "required": ["offering", "count", "max", "selectable", "reasons"], "additionalProperties": False,
    "description": "A component of the item's bundle of which one more could be taken",
    "properties": {"offering": _STRING, "count": {**_INTEGER, "description": "How many the item has"},
                   "max": {**_INTEGER, "description": "The most the bundle takes"},
                   "selectable": _BOOLEAN, "reasons": _REASONS}}
_CHARACTERISTIC = {
    "type": "object", "required": ["name", "valueType", "values"], "additionalProperties": False,
    "description": "A configurable characteristic of the item's product specification",
    "properties": {
        "name": _STRING, "valueType": _STRING,
        "range": {"type": "object", "required": ["min", "max"], "additionalProperties": False,
                  "properties": {"min": {"type": "number"}, "max": {"type": "number"}},
                  "description": "A characteristic with a range of values: its bounds (not enumerated)"},
        "values": {"type": "array", "items": {
            "type": "object", "required": ["value", "selectable", "reasons"], "additionalProperties": False,
            "properties": {"value": _ANY, "selectable": _BOOLEAN, "reasons": _REASONS}}}}}

QUERY_ITEM = {
    "type": "object", "required": ["item", "offering", "options", "components", "characteristics"],
    "additionalProperties": False,
    "description": "What one item (top level) of the basket can still take",
    "properties": {
        "item": {"type": "string", "description": "The cartItem's id"},
        "offering": {"type": "string", "description": "The item's offering"},
        "unknown": {"const": True, "description": "The offering is not in the catalog: nothing to propose"},
        "options": {"type": "array", "items": _OPTION},
        "components": {"type": "array", "items": _COMPONENT},
        "characteristics": {"type": "array", "items": _CHARACTERISTIC}}}

QUERY_ANSWER = {
    "type": "object", "required": ["@type", "state", "valid", "violation", "items"], "additionalProperties": False,
    "description": "The answer of a configuration query: the basket's violations, and per item what can still "
                   "be chosen and why the rest cannot",
    "properties": {
        "@type": {"const": "QueryProductConfiguration"},
        "state": {"const": "done", "description": "Always done: the answer is computed at once, not stored"},
        "valid": {"type": "boolean", "description": "Whether the basket as it is has no violation"},
        "violation": {"type": "array", "items": {"$ref": ref("ProductConfigurationViolation")},
                      "description": "The basket's violations as it is (without explanations)"},
        "items": {"type": "array", "items": {"$ref": ref("QueryProductConfigurationItem")}}}}

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

ANSWERS: dict[str, dict[str, Any]] = {
    "CheckProductConfiguration": CHECK_ANSWER,
    "ProductConfigurationPricedItem": PRICED_ITEM,
    "ProductConfigurationPrice": CART_PRICE,
    "ProductConfigurationPriceAlteration": PRICE_ALTERATION,
    "QueryProductConfiguration": QUERY_ANSWER,
    "QueryProductConfigurationItem": QUERY_ITEM,
    "ProductConfigurationViolation": CONFIGURATION_VIOLATION,
    "ProductConfigurationReason": CONFIGURATION_REASON,
    "RuleExplanation": RULE_EXPLANATION,
    "RuleCondition": RULE_CONDITION,
}


def components() -> dict[str, Any]:
    """The body and answer schemas as OpenAPI components."""
    return {**SCHEMAS, **ANSWERS}
