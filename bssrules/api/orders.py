"""TMF622 Product Ordering: create (validated and valued, or refused with 422 and every
violation), list, retrieve, and state changes by merge patch."""
from __future__ import annotations


from fastapi import APIRouter, Request, Response

from bssrules.services import orders as service
from bssrules.api import bodies
from bssrules.api.deps import JSON_TYPES, PATCH_TYPES, in_unit_of_work, json_body
from bssrules.api.openapi_parts import FIELDS, PAGING, filtering, request_body
from bssrules.api.query import page_headers, parse_fields, parse_list_query, project
from bssrules.api.responses import TMFJSONResponse, location
from bssrules.api.tmfspec import error_responses, json_response, spec

TMF622 = spec("TMF622-ProductOrdering-v4.0.0.swagger.json", "TMF622_")
DEFINITION = "ProductOrder"
# A refused order: the TMF Error with every violation, each as the configuration check gives it
REFUSED = {"allOf": [{"$ref": TMF622.ref("Error")}, {"type": "object", "properties": {"violation": {
    "type": "array", "items": {"$ref": bodies.ref("ProductConfigurationViolation")},
    "description": "An order the catalog or the rules refuse: every violation"}}}]}


def order_router() -> APIRouter:
    router = APIRouter(prefix=f"{service.API}/{service.KIND}", tags=[service.KIND])
    one = {"$ref": TMF622.ref(DEFINITION)}
    errors = error_responses(TMF622)

    @router.post("", operation_id=f"create{DEFINITION}", summary="Place an order", status_code=201,
                 response_class=TMFJSONResponse,
                 responses={201: json_response(one, "Created"), 200: json_response(one, "Already placed (same externalId)"),
                            **errors, 422: json_response(REFUSED, "Refused: every violation, nothing stored")},
                 openapi_extra=request_body(TMF622.ref(f"{DEFINITION}_Create"), JSON_TYPES))
    async def create(request: Request) -> Response:
        body = await json_body(request, JSON_TYPES, f"{DEFINITION}_Create", spec=TMF622)
        cache = request.app.state.runtime_cache
        order, created = await in_unit_of_work(request, lambda uow: service.create_order(uow, cache.get(uow), body))
        return TMFJSONResponse(order, status_code=201 if created else 200,
                               headers={"Location": location(order["href"])})

    @router.get("", operation_id=f"list{DEFINITION}", summary="List orders", response_class=TMFJSONResponse,
                description=filtering(DEFINITION),
                responses={200: json_response({"type": "array", "items": one}, "Success"), **errors},
                openapi_extra={"parameters": [FIELDS, *PAGING]})
    async def list_(request: Request) -> Response:
        query = parse_list_query(request.query_params, DEFINITION, TMF622)
        items, total = await in_unit_of_work(request, service.list_orders, query.filters, query.offset, query.limit)
        return TMFJSONResponse([project(i, query.fields) for i in items],
                               headers=page_headers(request, query, len(items), total))

    @router.get("/{id}", operation_id=f"retrieve{DEFINITION}", summary="Retrieve an order",
                response_class=TMFJSONResponse, responses={200: json_response(one, "Success"), **errors},
                openapi_extra={"parameters": [FIELDS]})
    async def retrieve(request: Request, id: str) -> Response:
        fields = parse_fields(request.query_params, DEFINITION, TMF622)
        return TMFJSONResponse(project(await in_unit_of_work(request, service.get_order, id), fields))

    @router.patch("/{id}", operation_id=f"patch{DEFINITION}", summary="Move an order's state",
                  response_class=TMFJSONResponse, responses={200: json_response(one, "Updated"), **errors},
                  openapi_extra=request_body(TMF622.ref(f"{DEFINITION}_Update"), PATCH_TYPES))
    async def patch(request: Request, id: str) -> Response:
        body = await json_body(request, PATCH_TYPES, f"{DEFINITION}_Update", merge_patch=True, spec=TMF622)
        cache = request.app.state.runtime_cache
        return TMFJSONResponse(await in_unit_of_work(
            request, lambda uow: service.change_order(uow, cache.get(uow), id, body)))

    return router
