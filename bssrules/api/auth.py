"""Authentication and API bundles: every API request names a partner's key, and may call
only the operations of that partner's API bundle.

``Authorization: Bearer <key>`` or ``X-API-Key: <key>``. No key, or a key that is unknown,
revoked or malformed: 401 (with ``WWW-Authenticate``). An operation outside the bundle:
403. The partner then travels with the request into the unit of work, where the
repositories show it only its own resources (another partner's is a 404).

``POST /usage`` (one usage or a batch) takes its partner from the keys the worker has
checked before (:mod:`bssrules.services.known_keys`), without a lookup: the usage's own
first round trip reads the partner's version, and a usage whose partner changed since is
rolled back and authenticated in full (:func:`authenticate_again`). Every other route looks
the key up on every request.

A pure ASGI middleware (no ``BaseHTTPMiddleware``: that one runs every request in a task
of its own and pipes the body and the answer through memory streams, about half a
millisecond of a worker's time per request on the online charging path).
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from bssrules.services import partners
from bssrules.services.known_keys import KeptPrincipal, KnownKeys, fingerprint
from bssrules.services.ports import Principal
from bssrules.services.usage import API as USAGE_API
from bssrules.api.errors import error_response

log = logging.getLogger("bssrules.api")

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="bssrules"'}
_USAGE_PATH = f"{USAGE_API}/usage"  # POST: the online charging path, whose keys a worker keeps


def _header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header (``name`` in lower case), as Starlette decodes it."""
    for key, value in scope.get("headers") or ():
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def presented_key(scope: Scope) -> str | None:
    """The key a request presents: ``Authorization: Bearer <key>``, else ``X-API-Key``."""
    header = _header(scope, b"authorization") or ""
    if header[:7].lower() == "bearer ":
        return header[7:].strip()
    return _header(scope, b"x-api-key")


class Authentication:
    """Pure ASGI middleware guarding every TMF API path (the OpenAPI document and docs stay
    open); the partner found is put in the request's state (``request.state.principal``)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        application: Any = scope.get("app")
        path = scope.get("path", "")
        api = partners.api_of(path)
        if api is None or application is None or not application.state.auth_required:
            await self.app(scope, receive, send)
            return
        key = presented_key(scope)
        if not key:
            await error_response(401, "unauthorized", "send your API key: Authorization: Bearer <key> "
                                                      "(or X-API-Key: <key>)", headers=_CHALLENGE)(scope, receive, send)
            return

        kept_under = None
        principal: Principal | None = None
        if path == _USAGE_PATH and scope["method"] == "POST":
            parts = partners.key_parts(key)
            kept_under = fingerprint(*parts) if parts is not None else None
            known: KnownKeys = application.state.known_keys
            principal = known.get(kept_under) if kept_under is not None else None
            if principal is None and kept_under is not None:
                principal = await _look_up(application, key, kept_under)
        else:
            principal = await _look_up(application, key, None)
        if principal is None:
            await error_response(401, "unauthorized", "this API key is unknown or revoked",
                                 headers=_CHALLENGE)(scope, receive, send)
            return
        operation = partners.operation_of(scope["method"], path)
        if not principal.may(api, operation):
            await error_response(403, "forbidden", f"the API bundle of partner '{principal.id}' does not include "
                                                   f"{operation} on {api}")(scope, receive, send)
            return
        scope.setdefault("state", {})["principal"] = principal  # what request.state.principal reads
        await self.app(scope, receive, send)


async def _look_up(application: Any, key: str, kept_under: tuple[str, str] | None) -> Principal | None:
    """The partner of ``key``, looked up in full; kept by the worker under ``kept_under``
    (when given and found)."""
    def lookup() -> Principal | None:
        with application.state.unit_of_work() as uow:
            if kept_under is None:
                return partners.authenticate(uow, key)
            return partners.authenticate_kept(uow, key)

    principal = await run_in_threadpool(lookup)
    if kept_under is not None and isinstance(principal, KeptPrincipal):
        application.state.known_keys.put(kept_under, principal)
    return principal


async def authenticate_again(scope: Scope) -> Principal | Response:
    """A request whose kept key's partner changed since (nothing was written): the key
    forgotten and looked up in full, as the other routes do. The partner (its own, as it is
    now) or the answer to send: 401 (the key is revoked, or its partner gone), 403."""
    application: Any = scope["app"]
    key = presented_key(scope) or ""
    parts = partners.key_parts(key)
    kept_under = fingerprint(*parts) if parts is not None else None
    if kept_under is not None:
        application.state.known_keys.forget(kept_under)
    principal = await _look_up(application, key, kept_under)
    if principal is None:
        return error_response(401, "unauthorized", "this API key is unknown or revoked", headers=_CHALLENGE)
    api, path = partners.api_of(scope.get("path", "")), scope.get("path", "")
    operation = partners.operation_of(scope["method"], path)
    if api is None or not principal.may(api, operation):
        return error_response(403, "forbidden", f"the API bundle of partner '{principal.id}' does not include "
                                                f"{operation} on {api}")
    # this request goes on as every other route's does: authenticated by the lookup just made
    plain = Principal(principal.id, principal.role, principal.bundle)
    scope.setdefault("state", {})["principal"] = plain
    return plain


def install_auth(app: FastAPI) -> None:
    """Guard every TMF API path (the OpenAPI document and docs stay open)."""
    app.state.known_keys = KnownKeys()
    app.add_middleware(Authentication)
