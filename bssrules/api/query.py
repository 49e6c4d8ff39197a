"""Query conventions of the TMF APIs: ``fields=``, ``offset``/``limit`` and attribute filters."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from starlette.datastructures import QueryParams

from bssrules.api import tmfspec
from bssrules.errors import InvalidInput, did_you_mean
from bssrules.jsontext import normalized_number

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
# The databases page with a signed 64-bit OFFSET; no collection comes near it.
MAX_OFFSET = 2**63 - 1
RESERVED = {"fields", "offset", "limit"}
ALWAYS_SHOWN = ("id", "href", "@type")


@dataclass(frozen=True)
class ListQuery:
    fields: tuple[str, ...] | None
    offset: int
    limit: int
    filters: dict[str, list[str]]


def _integer(params: QueryParams, name: str, default: int, low: int, high: int | None = None) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"'{name}' must be an integer, got '{raw}'", path=(name,)) from None
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise InvalidInput(f"'{name}' must be {bound}, got {value}", path=(name,))
    return value


def paging(params: QueryParams) -> tuple[int, int]:
    """``offset`` and ``limit``, checked (a 400 names the one out of range)."""
    return _integer(params, "offset", 0, 0, MAX_OFFSET), _integer(params, "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)


def _resolved(spec: tmfspec.TmfSpec, schema: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """A schema with its reference followed and its array items taken (repeatedly), and the
    name of the definition it is (None: inline)."""
    name = None
    for _ in range(8):  # no TMF definition nests references or arrays deeper
        if "$ref" in schema:
            name = str(schema["$ref"]).rsplit("/", 1)[-1]
            schema = spec.definitions.get(name, {})
        elif schema.get("type") == "array" and isinstance(schema.get("items"), dict):
            schema = schema["items"]
        else:
            break
    return schema, name


_PRICE_KIND = ("priceType", "recurringChargePeriod", "unitOfMeasure")
# What tells an object apart from its siblings where its definition requires nothing that
# does: a price's kind and period, an amount's currency, a quantity's unit (a selected
# ``cartTotalPrice.price.taxIncludedAmount.value`` would be bare numbers, EUR a year and JPY a
# month alike). Kept, as ``id`` is, by a path through them.
IDENTIFYING: dict[str, tuple[str, ...]] = {
    "CartPrice": _PRICE_KIND, "OrderPrice": _PRICE_KIND, "ProductPrice": _PRICE_KIND,
    "PriceAlteration": _PRICE_KIND, "Money": ("unit",), "Quantity": ("units",),
}


def _nested_selection(name: str, definition: str, spec: tmfspec.TmfSpec) -> list[str]:
    """Check a dotted ``fields`` path (TMF630 attribute selection) against the definition and
    return it with what each object on the way keeps: its ``id`` and the attributes its
    definition requires, so that a selected part is still a valid (and identifiable) one."""
    extensions = tmfspec.EXTENSION_ATTRIBUTES.get(definition, {})
    parts = name.split(".")
    if any(path == name or path.startswith(name + ".") for path in extensions):
        # a documented extension (or a part of one): what each of its objects on the way carries
        required = tmfspec.EXTENSION_REQUIRED.get(definition, {})
        prefixes = [".".join(parts[:depth]) for depth in range(1, len(parts))]
        return [name, *[f"{prefix}.{attribute}" for prefix in prefixes for attribute in required.get(prefix, ())]]
    kept: list[str] = []
    schema, kind = _resolved(spec, spec.definitions[definition])
    for depth, part in enumerate(parts):
        properties = schema.get("properties") or {}
        prefix = ".".join(parts[:depth])
        if depth:
            kept += [f"{prefix}.{a}" for a in ("id", *schema.get("required", ()), *IDENTIFYING.get(kind or "", ()))
                     if a in properties]
        if part not in properties:
            hint = did_you_mean(part, properties)
            raise InvalidInput(f"'{name}' is not an attribute of {definition}"
                               + (f": '{prefix}' has no attribute '{part}'" if depth else ""), path=("fields",),
                               suggestion=f"{prefix}.{hint}" if hint and depth else hint)
        schema, kind = _resolved(spec, properties[part])
    return [name, *kept]


def parse_fields(params: QueryParams, definition: str, spec: tmfspec.TmfSpec = tmfspec.TMF620
                 ) -> tuple[str, ...] | None:
    """The attributes ``fields=`` asks for (None: all), each checked against the definition.

    A name is a top-level attribute or a dotted path into one (TMF630 attribute selection:
    ``productOfferingQualificationItem.state``, arrays looked into); a path brings the ``id``
    and the required attributes of each object on its way (see :func:`project`)."""
    raw = params.get("fields")
    if raw is None:
        return None
    known = spec.top_level_attributes(definition)
    names = tuple(f.strip() for f in raw.split(",") if f.strip())
    selected: list[str] = []
    for name in names:
        top = name.split(".")[0]
        if top not in known or any(not part for part in name.split(".")):
            raise InvalidInput(f"'{name}' is not an attribute of {definition}", path=("fields",),
                               suggestion=did_you_mean(top, known))
        selected += _nested_selection(name, definition, spec) if "." in name else [name]
    return tuple(dict.fromkeys(selected))


def _filter_value(key: str, value: str, json_type: str) -> str:
    """The indexed spelling of a filter value: numbers normalised, booleans checked."""
    if json_type in ("number", "integer"):
        try:
            return normalized_number(Decimal(value))
        except (ArithmeticError, ValueError):  # decimal.InvalidOperation is an ArithmeticError
            raise InvalidInput(f"'{key}' is a number; '{value}' is not", path=(key,)) from None
    if json_type == "boolean" and value not in ("true", "false"):
        raise InvalidInput(f"'{key}' is true or false; '{value}' is neither", path=(key,))
    return value


def parse_list_query(params: QueryParams, definition: str, spec: tmfspec.TmfSpec = tmfspec.TMF620) -> ListQuery:
    """Read paging, projection and filters; unknown filter attributes are refused with a suggestion."""
    filters: dict[str, list[str]] = {}
    types = spec.attribute_types(definition)
    for key in params.keys():
        if key in RESERVED:
            continue
        if key not in types:
            raise InvalidInput(f"cannot filter on '{key}': not a filterable attribute of {definition}",
                               path=(key,), suggestion=did_you_mean(key, types))
        values = [v for raw in params.getlist(key) for v in raw.split(",")]
        allowed = spec.attribute_values(definition).get(key, ())
        for value in values if allowed else ():
            if value not in allowed:  # (a misspelt status finds nothing, and looks like none has it)
                raise InvalidInput(f"{key} {value!r} is none of {', '.join(allowed)}", path=(key,),
                                   suggestion=did_you_mean(value, allowed))
        filters[key] = [_filter_value(key, v, types[key]) for v in values]
    return ListQuery(parse_fields(params, definition, spec), *paging(params), filters)


Selection = dict[str, "Selection | None"]  # attribute -> what of it to keep (None: all of it)


def _selection(fields: tuple[str, ...]) -> Selection:
    tree: Selection = {}
    for path in fields:
        node: Selection | None = tree
        parts = path.split(".")
        for depth, part in enumerate(parts):
            assert node is not None
            if depth == len(parts) - 1:
                node[part] = None  # the whole attribute: wins over any part of it
            elif part in node and node[part] is None:
                break  # already kept whole
            else:
                node = node.setdefault(part, {})
    return tree


def _select(value: Any, selection: Selection | None) -> Any:
    if selection is None:
        return value
    if isinstance(value, list):
        return [_select(v, selection) for v in value]
    if isinstance(value, dict):
        return {k: _select(v, selection[k]) for k, v in value.items() if k in selection}
    return value


def project(resource: dict[str, Any], fields: tuple[str, ...] | None) -> dict[str, Any]:
    """Keep only the requested attributes (plus id, href and @type); a dotted path keeps that
    part of an attribute, in every element of an array on its way."""
    if fields is None:
        return resource
    selection: Selection = {**_selection(fields), **{name: None for name in ALWAYS_SHOWN}}
    return {k: _select(v, selection[k]) for k, v in resource.items() if k in selection}


def page_headers(request: Any, query: ListQuery, count: int, total: int) -> dict[str, str]:
    """X-Total-Count, X-Result-Count and, when more remain, a Link to the next page (the
    request's own filters kept, repeated ones included)."""
    from urllib.parse import urlencode

    headers = {"X-Total-Count": str(total), "X-Result-Count": str(count)}
    if query.offset + count < total:
        params = [(k, v) for k, v in request.query_params.multi_items() if k not in ("offset", "limit")]
        params += [("offset", str(query.offset + count)), ("limit", str(query.limit))]
        headers["Link"] = f'<{request.url.path}?{urlencode(params)}>; rel="next"'
    return headers
