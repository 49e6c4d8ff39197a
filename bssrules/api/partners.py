"""Partner management (admin only): register partners with their API bundle, issue and
revoke API keys. A key is returned once, in the ``apiKey`` field of the answer."""
from __future__ import annotations

from fastapi import APIRouter, Request, Response

from bssrules import partners as service
from bssrules.api.deps import JSON_TYPES, in_unit_of_work, json_body
from bssrules.api.errors import error_response
from bssrules.api.query import ListQuery, page_headers, paging
from bssrules.api.responses import TMFJSONResponse


def _admin_only(request: Request) -> Response | None:
    principal = getattr(request.state, "principal", None)
    if request.app.state.auth_required and (principal is None or not principal.is_admin):
        return error_response(403, "forbidden", "only an administrator manages partners")
    return None


def partner_router() -> APIRouter:
    router = APIRouter(prefix=service.API, tags=["partner"])

    @router.post("/partner", operation_id="createPartner", status_code=201, response_class=TMFJSONResponse,
                 summary="Register a partner with its API bundle; the answer holds its first API key")
    async def create(request: Request) -> Response:
        denied = _admin_only(request)
        if denied:
            return denied
        body = await json_body(request, JSON_TYPES, None)
        partner, key = await in_unit_of_work(request, service.create_partner, body)
        return TMFJSONResponse({**partner, "apiKey": key}, status_code=201, headers={"Location": partner["href"]})

    @router.get("/partner", operation_id="listPartner", response_class=TMFJSONResponse, summary="List partners")
    async def list_(request: Request) -> Response:
        denied = _admin_only(request)
        if denied:
            return denied
        query = ListQuery(None, *paging(request.query_params), {})
        items, total = await in_unit_of_work(request, service.list_partners, query.offset, query.limit)
        return TMFJSONResponse(items, headers=page_headers(request, query, len(items), total))

    @router.get("/partner/{id}", operation_id="retrievePartner", response_class=TMFJSONResponse,
                summary="Retrieve a partner")
    async def retrieve(request: Request, id: str) -> Response:
        denied = _admin_only(request)
        if denied:
            return denied
        return TMFJSONResponse(await in_unit_of_work(request, service.get_partner, id))

    @router.post("/partner/{id}/key", operation_id="createPartnerKey", status_code=201,
                 response_class=TMFJSONResponse, summary="Issue another API key (to rotate keys)")
    async def new_key(request: Request, id: str) -> Response:
        denied = _admin_only(request)
        if denied:
            return denied
        key = await in_unit_of_work(request, service.new_key, id)
        return TMFJSONResponse({"partner": id, "apiKey": key}, status_code=201)

    @router.delete("/partner/{id}/key/{key_id}", operation_id="revokePartnerKey", status_code=204,
                   summary="Revoke an API key")
    async def revoke(request: Request, id: str, key_id: str) -> Response:
        denied = _admin_only(request)
        if denied:
            return denied
        await in_unit_of_work(request, service.revoke_key, id, key_id)
        return Response(status_code=204)

    return router
