"""The official TMF Open API definitions shipped with the package, put to work: request
bodies are validated against their ``*_Create`` / ``*_Update`` schemas, filters and
``fields=`` are checked against their attributes, and their schemas are published in our
OpenAPI document (TMF620's under their own names, the others prefixed by their API)."""
from __future__ import annotations

import json
from functools import cached_property, lru_cache
from importlib import resources
from typing import Any, Iterator

from jsonschema import Draft4Validator, FormatChecker, ValidationError, validators

from bssrules.dates import NotInCalendar, is_date, is_date_time  # (the services judge other dates with them)
from bssrules.errors import did_you_mean

TMF620_FILE = "TMF620-ProductCatalog-v4.1.0.swagger.json"
# Our documented extensions: filterable dotted paths and their JSON types, by definition.
EXTENSION_ATTRIBUTES: dict[str, dict[str, str]] = {
    "ProductOffering": {"partnerEligible": "boolean"},
    "Usage": {"rejectionReason.code": "string", "rejectionReason.label": "string", "ratedBy.ruleSet": "string",
              "ratedBy.rule": "string", "ratedBy.provisioningId": "string", "ratedBy.amount": "object",
              "ratedBy.ratedVolume": "number", "ratedBy.bucket.id": "string", "ratedBy.bucket.taken": "object",
              "ratedBy.refused.volume": "number", "ratedBy.refused.unit": "string",
              "ratedBy.refused.reason.code": "string", "ratedBy.refused.reason.label": "string",
              "ratedProductUsage.billingAccount.id": "string", "ratedProductUsage.billingAccount.role": "string",
              "event.eventType": "string", "event.accumulator": "string", "event.threshold": "string",
              "event.action": "string", "event.value": "object", "event.period": "string"},
    "Bucket": {"precedence": "integer", "floor": "number", "initialValue.amount": "number",
               "initialValue.units": "string"},
}
# What each object of an extension always carries (a part selected by ``fields=`` brings
# them: a selected part is still a valid one, as for the standard's required attributes).
EXTENSION_REQUIRED: dict[str, dict[str, tuple[str, ...]]] = {
    "Usage": {"rejectionReason": ("code", "label"), "ratedBy": ("ruleSet", "rule"), "ratedBy.bucket": ("id", "taken"),
              "ratedBy.refused": ("volume", "reason"), "ratedBy.refused.reason": ("code", "label"),
              "ratedProductUsage.billingAccount": ("id", "role"),
              "event": ("eventType", "accumulator", "threshold", "action", "value", "period")},
}
# Links and derived lists are not stored as attributes: filtering on them could never match.
_NOT_FILTERABLE = {"Category": ("productOffering", "subCategory")}


def _trim_enums(node: Any) -> None:
    """Drop the spaces around the enum values of a specification, in place: the official
    files carry typos such as ``"aborted "`` (ProductStatusType of TMF622, 637, 663 and 679),
    which no client sends and which the services compare as ``"aborted"``. The shipped JSON
    stays as the TM Forum publishes it; what it means is fixed where it is read."""
    if isinstance(node, dict):
        enum = node.get("enum")
        if isinstance(enum, list):
            node["enum"] = [v.strip() if isinstance(v, str) else v for v in enum]
        for value in node.values():
            _trim_enums(value)
    elif isinstance(node, list):
        for value in node:
            _trim_enums(value)


_DRAFT4_ENUM = Draft4Validator.VALIDATORS["enum"]


def _enum(validator: Any, enums: Any, instance: Any, schema: Any) -> Iterator[ValidationError]:
    """Draft 4's ``enum``, its message naming the closest allowed value (``'aborted '`` →
    did you mean 'aborted'?)."""
    for error in _DRAFT4_ENUM(validator, enums, instance, schema):
        hint = did_you_mean(instance.strip() or instance, [v for v in enums if isinstance(v, str)]) \
            if isinstance(instance, str) else None
        if hint is not None:
            error.message += f" (did you mean {hint!r}?)"
        yield error


# (jsonschema's extend is untyped; it makes a Draft 4 validator class with this one keyword replaced)
_Validator: type[Draft4Validator] = validators.extend(Draft4Validator, {"enum": _enum})  # type: ignore[no-untyped-call]

def _format_checker() -> FormatChecker:
    """date-time and date only: the other formats of the TMF files (uri, base64, float) stay
    annotations, as they were (the callbacks a hub takes are checked by the hub's own schema)."""
    checker = FormatChecker(formats=())
    checker.checks("date-time", raises=NotInCalendar)(is_date_time)
    checker.checks("date", raises=NotInCalendar)(is_date)
    return checker


FORMAT_CHECKER = _format_checker()


class TmfSpec:
    """One Swagger 2.0 document of the TM Forum."""

    def __init__(self, file: str, prefix: str = ""):
        self.file, self.prefix = file, prefix

    @cached_property
    def document(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(
            resources.files("bssrules.api.specs").joinpath(self.file).read_text(encoding="utf-8"))
        _trim_enums(document)
        return document

    @property
    def definitions(self) -> dict[str, Any]:
        definitions: dict[str, Any] = self.document["definitions"]
        return definitions

    @lru_cache(maxsize=None)  # noqa: B019 - specs live as long as the process
    def validator(self, definition: str) -> Draft4Validator:
        """A validator for one definition, resolving ``#/definitions/…`` references."""
        return _Validator({"definitions": self.definitions, "$ref": f"#/definitions/{definition}"})

    @lru_cache(maxsize=None)  # noqa: B019
    def body_validator(self, definition: str) -> Draft4Validator:
        """:meth:`validator` with ``format: date-time`` and ``date`` checked (FORMAT_CHECKER):
        the request bodies of the TMF resources. (POST /usage keeps :meth:`validator`: its
        usageDate is judged by the rating service, and a bad one stored as a rejected usage.)"""
        return _Validator({"definitions": self.definitions, "$ref": f"#/definitions/{definition}"},
                          format_checker=FORMAT_CHECKER)

    def _paths(self, schema: dict[str, Any], prefix: str, depth: int) -> Iterator[tuple[str, dict[str, Any]]]:
        """Each dotted path to a value (arrays flattened) and the schema of that value."""
        if "$ref" in schema:
            schema = self.definitions[schema["$ref"].rsplit("/", 1)[1]]
        if schema.get("type") == "array":
            yield from self._paths(schema.get("items", {}), prefix, depth)
            return
        properties = schema.get("properties")
        if not properties:
            yield prefix, schema
            return
        if depth == 0:
            return
        for name, sub in properties.items():
            yield from self._paths(sub, f"{prefix}.{name}" if prefix else name, depth - 1)

    def _filterable(self, definition: str, depth: int) -> Iterator[tuple[str, dict[str, Any]]]:
        return ((path, schema) for path, schema in self._paths(self.definitions[definition], "", depth)
                if path and not path.endswith(("href", "@referredType"))
                and not path.startswith(_NOT_FILTERABLE.get(definition, ("\0",))))

    @lru_cache(maxsize=None)  # noqa: B019
    def attribute_types(self, definition: str, depth: int = 3) -> dict[str, str]:
        """Every filterable dotted attribute path of a definition (arrays flattened) and its JSON type."""
        types = {path: schema.get("type", "string") for path, schema in self._filterable(definition, depth)}
        types.update(EXTENSION_ATTRIBUTES.get(definition, {}))
        return types

    @lru_cache(maxsize=None)  # noqa: B019
    def attribute_values(self, definition: str, depth: int = 3) -> dict[str, tuple[str, ...]]:
        """The filterable attributes whose values the definition enumerates (a ticket's
        ``status``, a qualification item's ``state``), and those values: a filter on any other
        value finds nothing, whatever is stored."""
        return {path: tuple(str(v) for v in schema["enum"]) for path, schema in self._filterable(definition, depth)
                if isinstance(schema.get("enum"), list) and path not in EXTENSION_ATTRIBUTES.get(definition, {})}

    @lru_cache(maxsize=None)  # noqa: B019
    def top_level_attributes(self, definition: str) -> frozenset[str]:
        """The attributes ``fields=`` may name."""
        extensions = {path.split(".")[0] for path in EXTENSION_ATTRIBUTES.get(definition, {})}
        return frozenset(self.definitions[definition]["properties"]) | extensions

    def ref(self, definition: str) -> str:
        """Where a definition sits among our OpenAPI components."""
        return f"#/components/schemas/{self.prefix}{definition}"

    def components(self) -> dict[str, Any]:
        """The definitions as OpenAPI 3 components (names prefixed, references rewritten)."""
        text = json.dumps(self.definitions).replace('"#/definitions/', f'"#/components/schemas/{self.prefix}')
        return {f"{self.prefix}{name}": schema for name, schema in json.loads(text).items()}


def json_response(schema: dict[str, Any], description: str) -> dict[str, Any]:
    """An OpenAPI response with a JSON body of ``schema``."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


ERROR_REASONS = ((400, "Bad Request"), (404, "Not Found"), (405, "Method Not Allowed"), (409, "Conflict"),
                 (413, "Payload Too Large"), (415, "Unsupported Media Type"), (422, "Unprocessable Entity"), (500, "Internal Server Error"))


def error_responses(spec_: "TmfSpec") -> dict[int | str, dict[str, Any]]:
    """The error responses of an operation, each a TMF Error of that API."""
    return {status: json_response({"$ref": spec_.ref("Error")}, reason) for status, reason in ERROR_REASONS}


@lru_cache(maxsize=None)
def spec(file: str, prefix: str = "") -> TmfSpec:
    """The shared instance of one specification."""
    return TmfSpec(file, prefix)


TMF620 = spec(TMF620_FILE)


# The TMF620 helpers the catalog API was written against.
def tmf620() -> dict[str, Any]:
    return TMF620.document


def definitions() -> dict[str, Any]:
    return TMF620.definitions


def validator(definition: str) -> Draft4Validator:
    return TMF620.validator(definition)


def attribute_types(definition: str, depth: int = 3) -> dict[str, str]:
    return TMF620.attribute_types(definition, depth)


def attribute_paths(definition: str) -> frozenset[str]:
    """The attribute paths filters may use."""
    return frozenset(TMF620.attribute_types(definition))


def top_level_attributes(definition: str) -> frozenset[str]:
    return TMF620.top_level_attributes(definition)


def openapi_components() -> dict[str, Any]:
    """The TMF620 definitions as OpenAPI 3 components (references rewritten)."""
    return TMF620.components()
