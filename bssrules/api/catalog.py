"""TMF620 Product Catalog Management: one router per resource, all with the same conventions."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from bssrules.services import catalog as services
from bssrules.api.deps import JSON_TYPES, PATCH_TYPES, in_unit_of_work, json_body
from bssrules.api.openapi_parts import FIELDS, PAGING, filtering, request_body
from bssrules.api.query import page_headers, parse_fields, parse_list_query, project
from bssrules.api.responses import TMFJSONResponse, location
from bssrules.api.tmfspec import TMF620, error_responses, json_response
from bssrules.catalog.tmf import TMF_TYPES

BASE_PATH = "/tmf-api/productCatalogManagement/v4"


def _ref(definition: str) -> dict[str, Any]:
    return {"$ref": TMF620.ref(definition)}


_ERRORS = error_responses(TMF620)


def resource_router(kind: str) -> APIRouter:
    """list / retrieve / create / patch / delete for one TMF620 resource kind."""
    definition = TMF_TYPES[kind]
    router = APIRouter(prefix=f"/{kind}", tags=[kind])

    @router.get("", operation_id=f"list{definition}", summary=f"List or find {definition} objects",
                description=filtering(definition), response_class=TMFJSONResponse,
                responses={200: json_response({"type": "array", "items": _ref(definition)}, "Success"), **_ERRORS},
                openapi_extra={"parameters": [FIELDS, *PAGING]})
    async def list_resources(request: Request) -> Response:
        query = parse_list_query(request.query_params, definition)
        items, total = await in_unit_of_work(request, services.list_resources, kind, query.filters,
                                             query.offset, query.limit, BASE_PATH)
        headers = page_headers(request, query, len(items), total)
        return TMFJSONResponse([project(i, query.fields) for i in items], headers=headers)

    @router.get("/{id}", operation_id=f"retrieve{definition}", summary=f"Retrieve a {definition} by id",
                response_class=TMFJSONResponse, responses={200: json_response(_ref(definition), "Success"), **_ERRORS},
                openapi_extra={"parameters": [FIELDS]})
    async def retrieve_resource(request: Request, id: str) -> Response:
        fields = parse_fields(request.query_params, definition)
        resource = await in_unit_of_work(request, services.get_resource, kind, id, BASE_PATH)
        return TMFJSONResponse(project(resource, fields))

    @router.post("", operation_id=f"create{definition}", summary=f"Create a {definition}", status_code=201,
                 response_class=TMFJSONResponse, responses={201: json_response(_ref(definition), "Created"), **_ERRORS},
                 openapi_extra=request_body(TMF620.ref(f"{definition}_Create"), JSON_TYPES))
    async def create_resource(request: Request) -> Response:
        body = await json_body(request, JSON_TYPES, f"{definition}_Create")
        resource = await in_unit_of_work(request, services.create_resource, kind, body, BASE_PATH)
        return TMFJSONResponse(resource, status_code=201, headers={"Location": location(resource["href"])})

    @router.patch("/{id}", operation_id=f"patch{definition}", summary=f"Update partially a {definition}",
                  response_class=TMFJSONResponse, responses={200: json_response(_ref(definition), "Updated"), **_ERRORS},
                  openapi_extra=request_body(TMF620.ref(f"{definition}_Update"), PATCH_TYPES))
    async def patch_resource(request: Request, id: str) -> Response:
        body = await json_body(request, PATCH_TYPES, f"{definition}_Update", merge_patch=True)
        resource = await in_unit_of_work(request, services.patch_resource, kind, id, body, BASE_PATH)
        return TMFJSONResponse(resource)

    @router.delete("/{id}", operation_id=f"delete{definition}", summary=f"Delete a {definition}",
                   status_code=204, responses={204: {"description": "Deleted"}, **_ERRORS})
    async def delete_resource(request: Request, id: str) -> Response:
        cache = request.app.state.runtime_cache  # the stored rule sets, compiled once per revision
        await in_unit_of_work(request, lambda uow: services.delete_resource(uow, kind, id, cache.get(uow).rules))
        return Response(status_code=204)

    return router


def catalog_router() -> APIRouter:
    """The whole TMF620 API under its path prefix."""
    router = APIRouter(prefix=BASE_PATH)
    for kind in services.TMF620_KINDS:
        router.include_router(resource_router(kind))
    return router
