"""SLA management in the style of TMF623: ``sla``, ``slaMeasurement`` (post a metric's
value; the rule engine raises the violations), ``slaViolation`` and ``slaReport``."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from bssrules.services import sla as service
from bssrules.api import bodies
from bssrules.api.answers import many, one
from bssrules.api.deps import JSON_TYPES, in_unit_of_work, json_body
from bssrules.api.openapi_parts import PAGED, PAGING, query_parameter, request_body
from bssrules.api.query import ListQuery, page_headers, paging
from bssrules.api.responses import TMFJSONResponse, location
from bssrules.api.tmfspec import json_response
from bssrules.errors import InvalidInput, did_you_mean

SLA_FILTERS = ("name", "ruleSet.id", "relatedParty.id", "state")
VIOLATION_FILTERS = ("sla.id", "severity", "metric", "rule", "ruleSet")
_SEVERITIES = "critical, major, minor or warning"
# The filters whose values are a closed list: a value outside it (severity=critcal) matches
# nothing, and an empty list would read as "no critical violation".
_CLOSED_VALUES = {"severity": service.SEVERITIES, "state": service.STATES}


def _list_declaration(filters: tuple[str, ...], notes: dict[str, str]) -> dict[str, Any]:
    """The description and parameters of a list that filters on ``filters`` only (``_query``)."""
    description = (f"Filter by {', '.join(filters)}: equality, commas separate alternatives (a repeated parameter "
                   "counts once: its last value); any other query parameter but offset, limit and fields is a 400 "
                   "(fields is ignored: whole resources come). " + PAGED)
    parameters = [query_parameter(name, notes.get(name, f"Only those whose {name} is one of these (comma-separated)"),
                                  schema=_closed_schema(name)) for name in filters]
    return {"description": description, "openapi_extra": {"parameters": [*parameters, *PAGING]}}


def _closed_schema(name: str) -> dict[str, Any] | None:
    """A closed list's values, declared (one value; commas join several, which the schema cannot say);
    None for an open one (a string)."""
    known = _CLOSED_VALUES.get(name)
    return {"type": "string", "enum": list(known)} if known is not None else None


def _query(request: Request, filterable: tuple[str, ...]) -> ListQuery:
    params = request.query_params
    filters = {k: v.split(",") for k, v in params.items() if k not in ("offset", "limit", "fields")}
    unknown = sorted(set(filters) - set(filterable))
    if unknown:
        raise InvalidInput(f"cannot filter on {unknown[0]!r}; filter on {', '.join(filterable)}", path=(unknown[0],))
    _refuse_values_outside_their_list(filters)
    return ListQuery(None, *paging(params), filters)


def _refuse_values_outside_their_list(filters: dict[str, list[str]]) -> None:
    for name, values in filters.items():
        known = _CLOSED_VALUES.get(name)
        wrong = [v for v in values if known is not None and v not in known]
        if known is not None and wrong:
            raise InvalidInput(f"{name} {wrong[0]!r} is none of {', '.join(known)}", path=(name,),
                               suggestion=did_you_mean(wrong[0], known))


def sla_router() -> APIRouter:
    router = APIRouter(prefix=service.API, tags=["sla"])

    @router.post("/sla", operation_id="createSla", status_code=201, response_class=TMFJSONResponse,
                 summary="Agree an SLA: its rule set of thresholds and its provider and consumer",
                 responses={201: json_response(one("ServiceLevelAgreement"), "Agreed")},
                 openapi_extra=request_body(bodies.ref("Sla_Create"), JSON_TYPES))
    async def create(request: Request) -> Response:
        body = await json_body(request, JSON_TYPES, None)
        cache = request.app.state.runtime_cache
        sla = await in_unit_of_work(request, lambda uow: service.create_sla(uow, cache.get(uow), body))
        return TMFJSONResponse(sla, status_code=201, headers={"Location": location(sla["href"])})

    @router.get("/sla", operation_id="listSla", response_class=TMFJSONResponse, summary="List SLAs",
                responses={200: json_response(many("ServiceLevelAgreement"), "Success")},
                **_list_declaration(SLA_FILTERS, {"state": "Only SLAs in these states (comma-separated): active; another is a 400"}))
    async def list_slas(request: Request) -> Response:
        query = _query(request, SLA_FILTERS)
        items, total = await in_unit_of_work(request, service.list_of, "sla", query.filters, query.offset, query.limit)
        return TMFJSONResponse(items, headers=page_headers(request, query, len(items), total))

    @router.get("/sla/{id}", operation_id="retrieveSla", response_class=TMFJSONResponse, summary="Retrieve an SLA",
                responses={200: json_response(one("ServiceLevelAgreement"), "Success")})
    async def retrieve(request: Request, id: str) -> Response:
        return TMFJSONResponse(await in_unit_of_work(request, service.get_sla, id))

    @router.post("/slaMeasurement", operation_id="createSlaMeasurement", status_code=201,
                 response_class=TMFJSONResponse, summary="Post a metric's value; answers the violations it raised",
                 responses={201: json_response(one("SlaMeasurement"), "Measured: the violations it raised")},
                 openapi_extra=request_body(bodies.ref("SlaMeasurement_Create"), JSON_TYPES))
    async def measure(request: Request) -> Response:
        body = await json_body(request, JSON_TYPES, None)
        cache = request.app.state.runtime_cache
        return TMFJSONResponse(await in_unit_of_work(request, lambda uow: service.measure(uow, cache.get(uow), body)),
                               status_code=201)

    @router.get("/slaViolation", operation_id="listSlaViolation", response_class=TMFJSONResponse,
                summary="List SLA violations", responses={200: json_response(many("SlaViolation"), "Success")},
                **_list_declaration(VIOLATION_FILTERS, {
                    "severity": f"Only violations of these severities (comma-separated): {_SEVERITIES}; another is a 400",
                    "ruleSet": "Only violations decided by these SLA rule sets (comma-separated ids)",
                    "rule": "Only violations of these rules (comma-separated ids)"}))
    async def list_violations(request: Request) -> Response:
        query = _query(request, VIOLATION_FILTERS)
        items, total = await in_unit_of_work(request, service.list_of, "slaViolation", query.filters, query.offset,
                                             query.limit)
        return TMFJSONResponse(items, headers=page_headers(request, query, len(items), total))

    @router.get("/slaViolation/{id}", operation_id="retrieveSlaViolation", response_class=TMFJSONResponse,
                summary="Retrieve an SLA violation", responses={200: json_response(one("SlaViolation"), "Success")})
    async def retrieve_violation(request: Request, id: str) -> Response:
        return TMFJSONResponse(await in_unit_of_work(request, service.get_violation, id))

    @router.get("/slaReport", operation_id="retrieveSlaReport", response_class=TMFJSONResponse,
                summary="Violations of an SLA in a month, per rule and severity",
                description="One answer, not a list; other query parameters are ignored.",
                responses={200: json_response(one("SlaReport"), "Success")},
                openapi_extra={"parameters": [
                    query_parameter("sla", "The SLA's id", required=True),
                    query_parameter("period", "The month, YYYY-MM (UTC)", required=True, schema=bodies.MONTH)]})
    async def report(request: Request) -> Response:
        sla, period = request.query_params.get("sla"), request.query_params.get("period")
        if not sla or not period:
            raise InvalidInput("name the SLA and the month: ?sla=<id>&period=YYYY-MM", path=("sla",))
        return TMFJSONResponse(await in_unit_of_work(request, service.report, sla, period))

    return router
