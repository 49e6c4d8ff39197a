"""TMF632 party, TMF629 customer, TMF666 billing account, TMF637 product inventory, TMF663
shopping cart: one
router per resource, with the conventions of the catalog API (fields, filters, paging,
merge patch, TMF error bodies) and bodies checked against each API's own definition.
Shopping carts come back priced (``services.carts``)."""
from __future__ import annotations

from typing import Any, Awaitable

from fastapi import APIRouter, Request, Response

from bssrules.services import carts, terminations
from bssrules.services import resources as tmf_resources
from bssrules.api.deps import JSON_TYPES, PATCH_TYPES, in_unit_of_work, json_body
from bssrules.api.openapi_parts import FIELDS, PAGING, filtering, request_body
from bssrules.api.query import page_headers, parse_fields, parse_list_query, project
from bssrules.api.responses import TMFJSONResponse, location
from bssrules.api.tmfspec import TmfSpec, error_responses, json_response, spec
from bssrules.services.resources import KINDS, ResourceKind

SPECS: dict[str, TmfSpec] = {
    "/tmf-api/party/v4": spec("TMF632-Party-v4.0.0.swagger.json", "TMF632_"),
    "/tmf-api/customerManagement/v4": spec("TMF629-Customer-v4.0.0.swagger.json", "TMF629_"),
    "/tmf-api/accountManagement/v4": spec("TMF666-Account-v4.1.0.swagger.json", "TMF666_"),
    "/tmf-api/productInventory/v4": spec("TMF637-ProductInventory-v4.0.0.swagger.json", "TMF637_"),
    "/tmf-api/shoppingCart/v4": spec("TMF663-ShoppingCart-v4.0.0.swagger.json", "TMF663_"),
}



def _use_case(request: Request, kind: ResourceKind, name: str, *args: Any) -> Awaitable[Any]:
    """Run ``services.resources.<name>`` for ``kind`` — or, for shopping carts, the use case
    of ``services.carts`` of that name, which prices the cart with the runtime of now."""
    if kind.name == carts.KIND.name:
        cache = request.app.state.runtime_cache
        cart_use_case = getattr(carts, name)
        return in_unit_of_work(request, lambda uow: cart_use_case(uow, cache.get(uow), *args))
    return in_unit_of_work(request, getattr(tmf_resources, name), kind, *args)


def resource_router(kind: ResourceKind) -> APIRouter:
    """list / retrieve / create / patch / delete for one document resource."""
    tmf = SPECS[kind.api]
    definition = kind.type
    create_fields = tuple(tmf.definitions[f"{definition}_Create"]["properties"])
    update_fields = tuple(tmf.definitions[f"{definition}_Update"]["properties"])
    errors = error_responses(tmf)
    router = APIRouter(prefix=f"{kind.api}/{kind.name}", tags=[kind.name])
    one = {"$ref": tmf.ref(definition)}

    @router.get("", operation_id=f"list{definition}", summary=f"List or find {definition} objects",
                description=filtering(definition), response_class=TMFJSONResponse,
                responses={200: json_response({"type": "array", "items": one}, "Success"), **errors},
                openapi_extra={"parameters": [FIELDS, *PAGING]})
    async def list_resources(request: Request) -> Response:
        query = parse_list_query(request.query_params, definition, tmf)
        items, total = await _use_case(request, kind, "list_page", query.filters, query.offset, query.limit)
        headers = page_headers(request, query, len(items), total)
        return TMFJSONResponse([project(i, query.fields) for i in items], headers=headers)

    @router.get("/{id}", operation_id=f"retrieve{definition}", summary=f"Retrieve a {definition} by id",
                response_class=TMFJSONResponse, responses={200: json_response(one, "Success"), **errors},
                openapi_extra={"parameters": [FIELDS]})
    async def retrieve_resource(request: Request, id: str) -> Response:
        fields = parse_fields(request.query_params, definition, tmf)
        return TMFJSONResponse(project(await _use_case(request, kind, "get", id), fields))

    @router.post("", operation_id=f"create{definition}", summary=f"Create a {definition}", status_code=201,
                 response_class=TMFJSONResponse, responses={201: json_response(one, "Created"), **errors},
                 openapi_extra=request_body(tmf.ref(f"{definition}_Create"), JSON_TYPES))
    async def create_resource(request: Request) -> Response:
        body = await json_body(request, JSON_TYPES, f"{definition}_Create", spec=tmf)
        created = await _use_case(request, kind, "create", body, create_fields)
        return TMFJSONResponse(created, status_code=201, headers={"Location": location(created["href"])})

    @router.patch("/{id}", operation_id=f"patch{definition}", summary=f"Update partially a {definition}",
                  response_class=TMFJSONResponse, responses={200: json_response(one, "Updated"), **errors},
                  openapi_extra=request_body(tmf.ref(f"{definition}_Update"), PATCH_TYPES))
    async def patch_resource(request: Request, id: str) -> Response:
        body = await json_body(request, PATCH_TYPES, f"{definition}_Update", merge_patch=True, spec=tmf)
        return TMFJSONResponse(await _use_case(request, kind, "patch", id, body, update_fields))

    @router.delete("/{id}", operation_id=f"delete{definition}", summary=f"Delete a {definition}", status_code=204,
                   responses={204: {"description": "Deleted"}, **errors})
    async def delete_resource(request: Request, id: str) -> Response:
        if kind.name == "product":  # a bundle's product goes with its components (services.terminations)
            await in_unit_of_work(request, terminations.delete_product, id)
        else:
            await in_unit_of_work(request, tmf_resources.delete, kind, id)
        return Response(status_code=204)

    return router


def resource_routers() -> list[APIRouter]:
    return [resource_router(kind) for kind in KINDS.values()]


def components() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for tmf in SPECS.values():
        out.update(tmf.components())
    return out
