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


def parse_fields(params: QueryParams, definition: str, spec: tmfspec.TmfSpec = tmfspec.TMF620
                 ) -> tuple[str, ...] | None:
    """The attributes ``fields=`` asks for (None: all), each checked against the definition."""
    raw = params.get("fields")
    if raw is None:
        return None
    known = spec.top_level_attributes(definition)
    names = tuple(f.strip() for f in raw.split(",") if f.strip())
    for name in names:
        if name not in known:
            raise InvalidInput(f"'{name}' is not an attribute of {definition}", path=("fields",),
                               suggestion=did_you_mean(name, known))
    return names


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
        filters[key] = [_filter_value(key, v, types[key]) for v in values]
    return ListQuery(parse_fields(params, definition, spec), *paging(params), filters)


def project(resource: dict[str, Any], fields: tuple[str, ...] | None) -> dict[str, Any]:
    """Keep only the requested attributes (plus id, href and @type)."""
    if fields is None:
        return resource
    keep = set(fields) | set(ALWAYS_SHOWN)
    return {k: v for k, v in resource.items() if k in keep}


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
