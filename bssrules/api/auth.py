"""Authentication and API bundles: every API request names a partner's key, and may call
only the operations of that partner's API bundle.

``Authorization: Bearer <key>`` or ``X-API-Key: <key>``. No key, or a key that is unknown,
revoked or malformed: 401 (with ``WWW-Authenticate``). An operation outside the bundle:
403. The partner then travels with the request into the unit of work, where the
repositories show it only its own resources (another partner's is a 404).
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

from fastapi import FastAPI, Request, Response
from starlette.concurrency import run_in_threadpool

from bssrules.services import partners
from bssrules.api.deps import unit_of_work_factory
from bssrules.api.errors import error_response

log = logging.getLogger("bssrules.api")


def presented_key(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return request.headers.get("x-api-key")


def install_auth(app: FastAPI) -> None:
    """Guard every TMF API path (the OpenAPI document and docs stay open)."""

    @app.middleware("http")
    async def authenticate(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        api = partners.api_of(request.url.path)
        if api is None or not app.state.auth_required:
            return await call_next(request)
        key = presented_key(request)
        challenge = {"WWW-Authenticate": 'Bearer realm="bssrules"'}
        if not key:
            return error_response(401, "unauthorized", "send your API key: Authorization: Bearer <key> "
                                                       "(or X-API-Key: <key>)", headers=challenge)

        def lookup() -> Any:
            with unit_of_work_factory(request)() as uow:
                return partners.authenticate(uow, key)

        principal = await run_in_threadpool(lookup)
        if principal is None:
            return error_response(401, "unauthorized", "this API key is unknown or revoked", headers=challenge)
        operation = partners.operation_of(request.method, request.url.path)
        if not principal.may(api, operation):
            return error_response(403, "forbidden", f"the API bundle of partner '{principal.id}' does not include "
                                                    f"{operation} on {api}")
        request.state.principal = principal
        return await call_next(request)
