"""TMF621 Trouble Ticket: create (routed by the routing rule sets), list, retrieve, and
changes by merge patch (status, notes, redirect)."""
from __future__ import annotations

from fastapi import APIRouter, Request, Response

from bssrules.services import tickets as service
from bssrules.api.deps import JSON_TYPES, PATCH_TYPES, in_unit_of_work, json_body
from bssrules.api.openapi_parts import FIELDS, PAGING, filtering, request_body
from bssrules.api.query import page_headers, parse_fields, parse_list_query, project
from bssrules.api.responses import TMFJSONResponse, location
from bssrules.api.tmfspec import error_responses, json_response, spec

TMF621 = spec("TMF621-TroubleTicket-v4.0.0.swagger.json", "TMF621_")
DEFINITION = "TroubleTicket"


def ticket_router() -> APIRouter:
    router = APIRouter(prefix=f"{service.API}/{service.KIND}", tags=[service.KIND])
    one = {"$ref": TMF621.ref(DEFINITION)}
    errors = error_responses(TMF621)

    @router.post("", operation_id=f"create{DEFINITION}", summary="Open a ticket (routed by the rules)",
                 status_code=201, response_class=TMFJSONResponse, responses={201: json_response(one, "Created"), **errors},
                 openapi_extra=request_body(TMF621.ref(f"{DEFINITION}_Create"), JSON_TYPES))
    async def create(request: Request) -> Response:
        body = await json_body(request, JSON_TYPES, f"{DEFINITION}_Create", spec=TMF621, closed=True)
        cache = request.app.state.runtime_cache
        ticket = await in_unit_of_work(request, lambda uow: service.create_ticket(uow, cache.get(uow), body))
        return TMFJSONResponse(ticket, status_code=201, headers={"Location": location(ticket["href"])})

    @router.get("", operation_id=f"list{DEFINITION}", summary="List tickets", response_class=TMFJSONResponse,
                description=filtering(DEFINITION),
                responses={200: json_response({"type": "array", "items": one}, "Success"), **errors},
                openapi_extra={"parameters": [FIELDS, *PAGING]})
    async def list_(request: Request) -> Response:
        query = parse_list_query(request.query_params, DEFINITION, TMF621)
        items, total = await in_unit_of_work(request, service.list_tickets, query.filters, query.offset, query.limit)
        return TMFJSONResponse([project(i, query.fields) for i in items],
                               headers=page_headers(request, query, len(items), total))

    @router.get("/{id}", operation_id=f"retrieve{DEFINITION}", summary="Retrieve a ticket",
                response_class=TMFJSONResponse, responses={200: json_response(one, "Success"), **errors},
                openapi_extra={"parameters": [FIELDS]})
    async def retrieve(request: Request, id: str) -> Response:
        fields = parse_fields(request.query_params, DEFINITION, TMF621)
        return TMFJSONResponse(project(await in_unit_of_work(request, service.get_ticket, id), fields))

    @router.patch("/{id}", operation_id=f"patch{DEFINITION}", summary="Work a ticket: status, notes, redirect",
                  response_class=TMFJSONResponse, responses={200: json_response(one, "Updated"), **errors},
                  openapi_extra=request_body(TMF621.ref(f"{DEFINITION}_Update"), PATCH_TYPES))
    async def patch(request: Request, id: str) -> Response:
        body = await json_body(request, PATCH_TYPES, f"{DEFINITION}_Update", merge_patch=True, spec=TMF621, closed=True)
        cache = request.app.state.runtime_cache
        return TMFJSONResponse(await in_unit_of_work(
            request, lambda uow: service.change_ticket(uow, cache.get(uow), id, body)))

    return router
