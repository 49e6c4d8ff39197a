"""A strict contract check of response bodies against the official TMF620 v4.1.0 definitions.

The Swagger document shipped with the package (``bssrules/api/specs``) is read straight from
the file, not through the code under test. Its definitions are made strict: every definition
reachable from our resources (Catalog, Category, ProductSpecification, ProductOffering,
ProductOfferingPrice, Error and the Ref/option/value sub-definitions they use) gets
``additionalProperties: false``, so an attribute the standard does not document fails the
check. The only exceptions are the documented extensions in :data:`EXTENSIONS`.

:func:`assert_conforms` checks one body against one definition; :func:`contract_for` says which
contract a response of the API must meet (by method, path and status) and
:func:`check_response` applies it. A mismatch raises :class:`ContractViolation` (an
``AssertionError``) listing every problem with its JSON path.
"""
from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

import httpx
from jsonschema import Draft4Validator, FormatChecker
from jsonschema.exceptions import ValidationError

SPEC_FILE = (Path(__file__).resolve().parents[2] / "bssrules" / "api" / "specs"
             / "TMF620-ProductCatalog-v4.1.0.swagger.json")
BASE_PATH = "/tmf-api/productCatalogManagement/v4"
RESOURCES = {
    "catalog": "Catalog", "category": "Category", "productSpecification": "ProductSpecification",
    "productOffering": "ProductOffering", "productOfferingPrice": "ProductOfferingPrice",
}
ROOT_DEFINITIONS = (*RESOURCES.values(), "Error")
# The extensions bssrules documents (bssrules/catalog/tmf.py); nothing else may be added.
EXTENSIONS: dict[str, dict[str, dict[str, Any]]] = {
    "ProductOffering": {"partnerEligible": {"type": "boolean"}},
    "BundledProductOffering": {"charged": {"type": "boolean"}},
    "ProductSpecificationCharacteristic": {"defaultValue": {}, "unitOfMeasure": {"type": "string"}},
    "ProductOfferingTerm": {"atEnd": {"type": "string", "enum": ["renew", "end"]},
                            "earlyTermination": {"type": "object"}},
    "ProductOfferingPrice": {"usageType": {"type": "string"}, "allowance": {"type": "array"}},
}
_REF = re.compile(r'"\$ref":\s*"#/definitions/([^"]+)"')
_MAX_BODY_SHOWN = 1500


class ContractViolation(AssertionError):
    """A response that does not meet the TMF620 contract."""


@dataclass(frozen=True)
class Contract:
    """What a response body must be: a definition (one resource or an array of them), an
    empty body, or (for ``/openapi.json``) an OpenAPI 3 document."""

    definition: str | None
    many: bool = False
    empty: bool = False
    openapi: bool = False

    def __str__(self) -> str:
        if self.empty:
            return "an empty body"
        if self.openapi:
            return "an OpenAPI 3 document"
        return f"an array of TMF620 {self.definition}" if self.many else f"TMF620 {self.definition}"


EMPTY = Contract(None, empty=True)
OPENAPI = Contract(None, openapi=True)


@lru_cache(maxsize=1)
def official_definitions() -> dict[str, Any]:
    """The definitions of the official TMF620 v4.1.0 Swagger document, as published."""
    return json.loads(SPEC_FILE.read_text(encoding="utf-8"))["definitions"]


def _reachable(definitions: dict[str, Any], roots: tuple[str, ...]) -> set[str]:
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop()
        if name not in seen:
            seen.add(name)
            todo += _REF.findall(json.dumps(definitions[name]))
    return seen


@lru_cache(maxsize=1)
def strict_definitions() -> dict[str, Any]:
    """The official definitions with ``additionalProperties: false`` on every object
    definition our resources use, plus the documented extensions."""
    definitions = copy.deepcopy(official_definitions())
    for name in _reachable(definitions, ROOT_DEFINITIONS):
        if "properties" in definitions[name]:
            definitions[name]["additionalProperties"] = False
    for name, extra in EXTENSIONS.items():
        clash = set(extra) & set(definitions[name]["properties"])
        assert not clash, f"{name} now defines {clash}: no longer an extension, update EXTENSIONS"
        definitions[name]["properties"].update(copy.deepcopy(extra))
    return definitions


@lru_cache(maxsize=None)
def validator(definition: str, many: bool = False) -> Draft4Validator:
    """A strict Draft 4 validator (formats checked: date-time needs rfc3339-validator)."""
    definitions = strict_definitions()
    if definition not in definitions:
        raise KeyError(f"no definition '{definition}' in TMF620 v4.1.0")
    reference = {"$ref": f"#/definitions/{definition}"}
    schema = {"definitions": definitions, **({"type": "array", "items": reference} if many else reference)}
    format_checker = FormatChecker()
    assert "date-time" in format_checker.checkers, "install rfc3339-validator: date-time would go unchecked"
    return Draft4Validator(schema, format_checker=format_checker)


def _json_path(error: ValidationError) -> str:
    path = "$"
    for part in error.absolute_path:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _leaf_errors(error: ValidationError) -> Iterator[ValidationError]:
    if error.context:
        for sub in error.context:
            yield from _leaf_errors(sub)
    else:
        yield error


def problems(body: Any, definition: str, *, many: bool = False) -> list[str]:
    """Every way ``body`` breaks the strict definition, as ``$.path: message`` lines."""
    errors = sorted((leaf for e in validator(definition, many).iter_errors(body) for leaf in _leaf_errors(e)),
                    key=lambda e: (list(map(str, e.absolute_path)), e.message))
    return [f"{_json_path(e)}: {e.message}  [{_rule(e)}]" for e in errors]


@lru_cache(maxsize=1)
def _schema_names() -> dict[int, str]:
    """Which definition (or definition.property) each strict subschema object is, for messages."""
    names: dict[int, str] = {}
    for name, definition in strict_definitions().items():
        names[id(definition)] = name
        for prop, schema in definition.get("properties", {}).items():
            names[id(schema)] = f"{name}.{prop}"
    return names


def _rule(error: ValidationError) -> str:
    where = _schema_names().get(id(error.schema))
    return f"{where}: {error.validator}" if where else str(error.validator)


def _shown(body: Any) -> str:
    text = json.dumps(body, indent=2, default=str)
    return text if len(text) <= _MAX_BODY_SHOWN else text[:_MAX_BODY_SHOWN] + "\n… (truncated)"


def assert_conforms(body: Any, definition: str, *, many: bool = False, what: str = "the body") -> None:
    """Fail with every problem listed when ``body`` is not a strict TMF620 ``definition``
    (or, with ``many``, an array of them)."""
    __tracebackhide__ = True
    found = problems(body, definition, many=many)
    if found:
        target = f"an array of TMF620 {definition}" if many else f"TMF620 {definition}"
        raise ContractViolation(
            f"{what} does not conform to {target} ({len(found)} problem{'s' if len(found) > 1 else ''}):\n"
            + "\n".join(f"  - {p}" for p in found) + f"\nbody:\n{_shown(body)}")


def contract_for(method: str, path: str, status: int) -> Contract:
    """The contract a response of the API must meet; unknown combinations fail loudly so that
    no response escapes the check."""
    __tracebackhide__ = True
    method = method.upper()
    if status >= 400:
        return Contract("Error")
    if path == "/openapi.json" and method == "GET" and status == 200:
        return OPENAPI
    match = re.fullmatch(re.escape(BASE_PATH) + r"/([^/]+)(/[^/]+)?", path)
    if match and match.group(1) in RESOURCES:
        definition, item = RESOURCES[match.group(1)], match.group(2) is not None
        if method == "GET" and status == 200:
            return Contract(definition, many=not item)
        if method == "POST" and not item and status == 201:
            return Contract(definition)
        if method == "PATCH" and item and status == 200:
            return Contract(definition)
        if method == "DELETE" and item and status == 204:
            return EMPTY
    raise ContractViolation(f"no TMF620 contract for {method} {path} answered {status}: "
                            "the API must not answer this way (or teach tests/api/tmf_contract.py the new route)")


def check_response(response: httpx.Response) -> Contract:
    """Check one API response against its contract; return the contract applied."""
    __tracebackhide__ = True
    request = response.request
    where = f"{request.method} {request.url.path}{'?' + request.url.query.decode() if request.url.query else ''}"
    contract = contract_for(request.method, request.url.path, response.status_code)
    response.read()
    if contract.empty:
        if response.content:
            raise ContractViolation(f"{where} → {response.status_code} must have an empty body, got "
                                    f"{response.content[:200]!r}")
        return contract
    content_type = response.headers.get("content-type", "")
    if content_type.split(";")[0].strip() != "application/json":
        raise ContractViolation(f"{where} → {response.status_code} must be application/json, got "
                                f"'{content_type}': {response.content[:200]!r}")
    try:
        body = response.json()
    except ValueError as exc:
        raise ContractViolation(f"{where} → {response.status_code} is not JSON ({exc}): "
                                f"{response.content[:200]!r}") from None
    if contract.openapi:
        if not (isinstance(body, dict) and str(body.get("openapi", "")).startswith("3.")
                and isinstance(body.get("paths"), dict)):
            raise ContractViolation(f"{where} → {response.status_code} is not an OpenAPI 3 document")
        return contract
    assert contract.definition is not None
    assert_conforms(body, contract.definition, many=contract.many,
                    what=f"the body of {where} → {response.status_code}")
    return contract
