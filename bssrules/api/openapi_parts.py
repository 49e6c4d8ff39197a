"""The pieces of our OpenAPI document that every router shares: the query parameters of the
TMF conventions (``fields``, ``offset``, ``limit``), the words on attribute filters, and
request bodies. One definition each, so that the document says the same everywhere and
follows ``api.query`` when it changes."""
from __future__ import annotations

from typing import Any

from bssrules.api.query import DEFAULT_LIMIT, MAX_LIMIT, MAX_OFFSET

FIELDS = {"name": "fields", "in": "query", "required": False, "schema": {"type": "string"},
          "description": "Comma-separated attributes to return (id, href and @type always come); a dotted "
                         "path selects part of one (TMF630: productOfferingQualificationItem.state keeps the "
                         "state of every item, with the id and required attributes of each object on the way); "
                         "an attribute the resource does not have is a 400"}
PAGING = [
    {"name": "offset", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
     "description": "Index of the first resource to return"},
    {"name": "limit", "in": "query", "required": False,
     "schema": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT},
     "description": f"Number of resources to return (default {DEFAULT_LIMIT}, at most {MAX_LIMIT})"},
]
PAGED = ("The answer is one page: `offset` and `limit` choose it; the headers X-Total-Count and "
         "X-Result-Count count the matches and the page, and a Link header (rel=\"next\") names the next page.")


def query_parameter(name: str, description: str, required: bool = False,
                    schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """A query parameter a route reads itself (a string unless ``schema`` says otherwise)."""
    return {"name": name, "in": "query", "required": required, "schema": schema or {"type": "string"},
            "description": description}


def filtering(definition: str) -> str:
    """How the lists read by ``api.query.parse_list_query`` filter, said once for the operation's
    description (the attributes are too many to declare one parameter each)."""
    return (f"Filter by any attribute of {definition}, dotted for a nested one (`relatedParty.id=…`, arrays "
            "are looked into): `name=value` selects the resources whose attribute equals the value; commas "
            "separate alternatives (`state=active,suspended`), and so does a repeated parameter; numbers "
            "compare by value (`1.50` matches 1.5), booleans are `true` or `false`. Several filters must all "
            f"hold. An attribute {definition} does not have is a 400 naming it, with a suggestion. " + PAGED)


def request_body(schema_ref: str, media_types: tuple[str, ...]) -> dict[str, Any]:
    """``openapi_extra`` declaring a required JSON body of the component at ``schema_ref``,
    in each of the ``media_types`` the route reads."""
    return {"requestBody": {"required": True, "content": {m: {"schema": {"$ref": schema_ref}}
                                                          for m in media_types}}}
