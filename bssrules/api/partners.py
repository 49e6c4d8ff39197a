"""Partner management (admin only): register partners with their API bundle, issue and
revoke API keys. A key is returned once, in the ``apiKey`` field of the answer."""
from __future__ import annotations

from fastapi import APIRouter, Request, Response

from bssrules.services import partners as service
from bssrules.api.answers import many, one
from bssrules.api.deps import JSON_TYPES, PATCH_TYPES, in_unit_of_work, json_body
from bssrules.api.errors import error_response
from bssrules.api.openapi_parts import PAGED, PAGING
from bssrules.api.query import ListQuery, page_headers, paging
from bssrules.api.responses import TMFJSONResponse, location
from bssrules.api.tmfspec import json_response


_IDS = {"type": "array", "items": {"type": "string"}}
_BUNDLE = {
    "type": "object", "required": ["api"], "description": "The TMF APIs the partner may call, and on each the "
    "operations (all of them when not given)",
    "properties": {"name": {"type": "string"}, "api": {"type": "array", "minItems": 1, "items": {
        "type": "object", "required": ["name"], "additionalProperties": False,
        "properties": {"name": {"type": "string", "enum": list(service.APIS)},
                       "operations": {"type": "array", "items": {"type": "string", "enum": list(service.OPERATIONS)}}}}}}}
_PARTY = {"type": "object", "required": ["id"], "additionalProperties": False,
          "description": "The individual or organization the partner acts for (a customer with a key of its "
          "own, e.g. a driver reading her bill): its billing accounts, their bills and its products are the "
          "partner's to read",
          "properties": {"id": {"type": "string", "minLength": 1},
                         "@referredType": {"type": "string", "enum": ["Individual", "Organization"]}}}
_DESCRIBED = {"name": {"type": "string", "minLength": 1}, "description": {"type": "string"},
              "party": _PARTY,
              "catalog": {**_IDS, "description": "The catalogs the partner owns"},
              "channel": {**_IDS, "description": "The sales channels the partner sells through"},
              "apiBundle": _BUNDLE}
PARTNER_CREATE = {"type": "object", "required": ["id", "name"], "additionalProperties": False, "properties": {
    "id": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"},
    "role": {"type": "string", "enum": ["partner", "admin"], "default": "partner"},
    "@type": {"type": "string"}, **_DESCRIBED}}
PARTNER_UPDATE = {"type": "object", "additionalProperties": False,
                  "properties": {"@type": {"type": "string"}, **_DESCRIBED,
                                 "party": {"anyOf": [_PARTY, {"type": "null"}],
                                           "description": "null: it acts for no party any more"}}}


def _body(schema: dict[str, object], media_types: tuple[str, ...]) -> dict[str, object]:
    return {"requestBody": {"required": True, "content": {m: {"schema": schema} for m in media_types}}}


def _admin_only(request: Request) -> Response | None:
    principal = getattr(request.state, "principal", None)
    if request.app.state.auth_required and (principal is None or not principal.is_admin):
        return error_response(403, "forbidden", "only an administrator manages partners")
    return None


def partner_router() -> APIRouter:
    router = APIRouter(prefix=service.API, tags=["partner"])

    @router.post("/partner", operation_id="createPartner", status_code=201, response_class=TMFJSONResponse,
                 summary="Register a partner with its API bundle; the answer holds its first API key",
                 responses={201: json_response(one("Partner_Created"), "Registered: the partner and its first key")},
                 openapi_extra=_body(PARTNER_CREATE, JSON_TYPES))
    async def create(request: Request) -> Response:
        denied = _admin_only(request)
        if denied:
            return denied
        body = await json_body(request, JSON_TYPES, None)
        partner, key = await in_unit_of_work(request, service.create_partner, body)
        return TMFJSONResponse({**partner, "apiKey": key}, status_code=201,
                               headers={"Location": location(partner["href"])})

    @router.get("/partner", operation_id="listPartner", response_class=TMFJSONResponse, summary="List partners",
                responses={200: json_response(many("Partner"), "Success")},
                description="Other query parameters are ignored. " + PAGED, openapi_extra={"parameters": PAGING})
    async def list_(request: Request) -> Response:
        denied = _admin_only(request)
        if denied:
            return denied
        query = ListQuery(None, *paging(request.query_params), {})
        items, total = await in_unit_of_work(request, service.list_partners, query.offset, query.limit)
        return TMFJSONResponse(items, headers=page_headers(request, query, len(items), total))

    @router.get("/partner/{id}", operation_id="retrievePartner", response_class=TMFJSONResponse,
                summary="Retrieve a partner", responses={200: json_response(one("Partner"), "Success")})
    async def retrieve(request: Request, id: str) -> Response:
        denied = _admin_only(request)
        if denied:
            return denied
        return TMFJSONResponse(await in_unit_of_work(request, service.get_partner, id))

    @router.patch("/partner/{id}", operation_id="patchPartner", response_class=TMFJSONResponse,
                  summary="Change a partner's name, description, party, channels, catalogs or API bundle",
                  responses={200: json_response(one("Partner"), "Updated")},
                  openapi_extra=_body(PARTNER_UPDATE, PATCH_TYPES))
    async def patch(request: Request, id: str) -> Response:
        denied = _admin_only(request)
        if denied:
            return denied
        body = await json_body(request, PATCH_TYPES, None)
        return TMFJSONResponse(await in_unit_of_work(request, service.patch_partner, id, body))

    @router.post("/partner/{id}/key", operation_id="createPartnerKey", status_code=201,
                 response_class=TMFJSONResponse, summary="Issue another API key (to rotate keys)",
                 responses={201: json_response(one("PartnerKey"), "Issued: the key, shown this once")})
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
