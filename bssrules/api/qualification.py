"""TMF679 Product Offering Qualification: create (qualify now the offerings named, or every
offering of a category), list, retrieve (``fields=`` with dotted paths, as everywhere),
annotate by merge patch (what was qualified, and the answer, stay), delete."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from bssrules.services import qualification as service
from bssrules.api.deps import JSON_TYPES, PATCH_TYPES, in_unit_of_work, json_body
from bssrules.api.openapi_parts import FIELDS, PAGING, filtering, request_body
from bssrules.api.query import page_headers, parse_fields, parse_list_query, project
from bssrules.api.responses import TMFJSONResponse, location
from bssrules.api.tmfspec import error_responses, json_response, spec

TMF679 = spec("TMF679-ProductOfferingQualification-v4.0.0.swagger.json", "TMF679_")
DEFINITION = "ProductOfferingQualification"



def qualification_router() -> APIRouter:
    router = APIRouter(prefix=f"{service.API}/{service.KIND}", tags=[service.KIND])
    one = {"$ref": TMF679.ref(DEFINITION)}
    errors = error_responses(TMF679)

    @router.post("", operation_id=f"create{DEFINITION}",
                 summary="Qualify product offerings (named, or those of a category)", status_code=201,
                 response_class=TMFJSONResponse, responses={201: json_response(one, "Created"), **errors},
                 openapi_extra=request_body(TMF679.ref(f"{DEFINITION}_Create"), JSON_TYPES))
    async def create(request: Request) -> Response:
        body = await json_body(request, JSON_TYPES, f"{DEFINITION}_Create", spec=TMF679, closed=True)
        cache = request.app.state.runtime_cache

        def use_case(uow: Any) -> dict[str, Any]:
            return service.create_qualification(uow, cache.get(uow), body)

        created = await in_unit_of_work(request, use_case)
        return TMFJSONResponse(created, status_code=201, headers={"Location": location(created["href"])})

    @router.get("", operation_id=f"list{DEFINITION}", summary="List qualifications", response_class=TMFJSONResponse,
                description=filtering(DEFINITION),
                responses={200: json_response({"type": "array", "items": one}, "Success"), **errors},
                openapi_extra={"parameters": [FIELDS, *PAGING]})
    async def list_(request: Request) -> Response:
        query = parse_list_query(request.query_params, DEFINITION, TMF679)
        items, total = await in_unit_of_work(request, service.list_qualifications, query.filters, query.offset,
                                             query.limit)
        headers = page_headers(request, query, len(items), total)
        return TMFJSONResponse([project(i, query.fields) for i in items], headers=headers)

    @router.get("/{id}", operation_id=f"retrieve{DEFINITION}", summary="Retrieve a qualification",
                response_class=TMFJSONResponse, responses={200: json_response(one, "Success"), **errors},
                openapi_extra={"parameters": [FIELDS]})
    async def retrieve(request: Request, id: str) -> Response:
        fields = parse_fields(request.query_params, DEFINITION, TMF679)
        return TMFJSONResponse(project(await in_unit_of_work(request, service.get_qualification, id), fields))

    @router.patch("/{id}", operation_id=f"patch{DEFINITION}",
                  summary="Annotate a qualification: description, notes, the requester's dates",
                  description="A JSON merge patch (`null` removes). It may change "
                              f"{', '.join(f'`{n}`' for n in service.PATCHABLE)}. What was qualified "
                              f"({', '.join(f'`{n}`' for n in service.QUESTION)}) and the answer "
                              f"({', '.join(f'`{n}`' for n in service.ANSWER)}) are refused with 400 "
                              "unless sent unchanged: post a new qualification to qualify other offerings. "
                              "A qualification is `done` when it is made, and `done` is final: another "
                              "`state` is a 409.",
                  response_class=TMFJSONResponse, responses={200: json_response(one, "Updated"), **errors},
                  openapi_extra=request_body(TMF679.ref(f"{DEFINITION}_Update"), PATCH_TYPES))
    async def patch(request: Request, id: str) -> Response:
        body = await json_body(request, PATCH_TYPES, f"{DEFINITION}_Update", merge_patch=True, spec=TMF679,
                               closed=True)
        return TMFJSONResponse(await in_unit_of_work(request, service.change_qualification, id, body))

    @router.delete("/{id}", operation_id=f"delete{DEFINITION}", summary="Delete a qualification", status_code=204,
                   responses={204: {"description": "Deleted"}, **errors})
    async def delete(request: Request, id: str) -> Response:
        await in_unit_of_work(request, service.delete_qualification, id)
        return Response(status_code=204)

    return router
