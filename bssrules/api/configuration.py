"""Product configuration check and query, in the spirit of TMF760 v5 (no definition file is
shipped): POST checkProductConfiguration / queryProductConfiguration with either a stored
shopping cart (`shoppingCart.id`) or inline `cartItem`s, plus `relatedParty`, `channel` and
an optional `requestedDate`. The answer is computed, not stored (state `done`); its schema is
``CheckProductConfiguration`` or ``QueryProductConfiguration`` of ``api.bodies``. The check
answers the basket's prices too when asked (``providePrice: true``): those a priced cart
shows (``services.prices``)."""
from __future__ import annotations

import asyncio
import weakref
from typing import Any

from fastapi import APIRouter, Request, Response
from starlette.routing import Route

from bssrules.services import configuration as service
from bssrules.services.runtime import RuntimeNotBuilt
from bssrules.api import bodies
from bssrules.api.deps import JSON_TYPES, in_unit_of_work, in_unit_of_work_here, json_body
from bssrules.api.openapi_parts import request_body
from bssrules.api.responses import TMFJSONResponse
from bssrules.api.tmfspec import TMF620, error_responses, json_response
from bssrules.errors import InvalidInput, did_you_mean

API = "/tmf-api/productConfigurationManagement/v5"
_BODY = request_body(bodies.ref("ProductConfigurationRequest"), JSON_TYPES)
_ERRORS = error_responses(TMF620)  # a TMF Error, the same in every API


# the attributes a check or query reads; others (a TMF extension, instantSync…) are left alone
_READ = frozenset(bodies.SCHEMAS["ProductConfigurationRequest"]["properties"])


async def _body(request: Request) -> dict[str, Any]:
    body: dict[str, Any] = await json_body(request, JSON_TYPES, None)
    _refuse_misspelt(body)
    return body


def _refuse_misspelt(body: dict[str, Any]) -> None:
    """An attribute the check does not read but that is close to one it does (``chanel``,
    ``requestedDte``) is a mistake, not an extension: left alone, the check would answer for
    a basket without that channel or date. Every such attribute is named at once (400)."""
    misspelt = [(name, meant) for name in sorted(body) if name not in _READ and not name.startswith("@")
                for meant in [did_you_mean(name, _READ)] if meant]
    if misspelt:
        name, meant = misspelt[0]
        raise InvalidInput(f"unsupported field {name!r}: a configuration check reads {', '.join(sorted(_READ))}",
                           path=(name,), suggestion=meant,
                           details=[f"{n!r}: did you mean {m!r}?" for n, m in misspelt])


async def check_configuration(request: Request) -> Response:
    """``POST checkProductConfiguration``: the basket checked, every violation at once."""
    body = await _body(request)
    cache = request.app.state.runtime_cache
    async with _admission():
        if _decided_here(request):
            try:
                result = in_unit_of_work_here(request, lambda uow: service.check_configuration(uow, cache.built, body))
            except RuntimeNotBuilt:  # a new revision: compiled in the thread pool, the loop free meanwhile
                result = await in_unit_of_work(request, lambda uow: service.check_configuration(uow, cache.get, body))
        else:
            result = await in_unit_of_work(request, lambda uow: service.check_configuration(uow, cache.get, body))
    return TMFJSONResponse(result)


def _decided_here(request: Request) -> bool:
    """Whether a check runs on the event loop: on SQLite, whose reads are work of this process
    as the decision is (a thread would only take the interpreter lock in turn, its hand-over
    costing as much as the party's read), and with its revision's runtime built (else the
    thread pool builds it: seconds in which the loop serves others). On PostgreSQL the read
    waits on the network: the thread pool, the loop serving others meanwhile."""
    engine = getattr(request.app.state, "engine", None)
    return engine is not None and engine.dialect.name == "sqlite"


def configuration_fast_route() -> Route:
    """``POST checkProductConfiguration`` as a plain Starlette route, matched before the
    others: a partner's basket check goes through neither the matching of a hundred routes
    before it nor FastAPI's request handling (about 0.3 ms of a worker per check, as much
    as a third of the decision). The handler is the one :func:`configuration_router`
    documents in the OpenAPI document; errors reach the same exception handlers, and the
    authentication middleware guards it by its path as every other."""
    return Route(f"{API}/checkProductConfiguration", check_configuration, methods=["POST"], include_in_schema=False)


# Checks and queries are CPU work under one interpreter lock: run side by side in the thread
# pool, eight of them and the event loop all waited for that lock, handed over every few
# milliseconds in no particular order — the loop could not read the next request nor send an
# answer, and a check took as long as eight (measured: under 8 client threads a worker was
# slower than sequentially, p99 400 ms). Admitted one at a time, first come first served,
# the others wait on the event loop without taking a thread, and the loop keeps its turn.
DECIDING_AT_ONCE = 1
_ADMISSION: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()


def _admission() -> asyncio.Semaphore:
    """The admission of the running event loop (a semaphore belongs to one loop)."""
    loop = asyncio.get_running_loop()
    semaphore = _ADMISSION.get(loop)
    if semaphore is None:
        semaphore = _ADMISSION.setdefault(loop, asyncio.Semaphore(DECIDING_AT_ONCE))
    return semaphore


def configuration_router() -> APIRouter:
    router = APIRouter(prefix=API, tags=["productConfiguration"])

    @router.post("/checkProductConfiguration", operation_id="checkProductConfiguration",
                 summary="Validate a basket: every violation at once, with the rules' explanations "
                         "(and its prices, with providePrice)",
                 response_class=TMFJSONResponse, openapi_extra=_BODY,
                 responses={200: json_response({"$ref": bodies.ref("CheckProductConfiguration")}, "Checked"),
                            **_ERRORS})
    async def check(request: Request) -> Response:
        return await check_configuration(request)

    @router.post("/queryProductConfiguration", operation_id="queryProductConfiguration",
                 summary="What a partial basket can still take, and why the rest cannot",
                 response_class=TMFJSONResponse, openapi_extra=_BODY,
                 responses={200: json_response({"$ref": bodies.ref("QueryProductConfiguration")}, "Answered"),
                            **_ERRORS})
    async def query(request: Request) -> Response:
        body = await _body(request)
        cache = request.app.state.runtime_cache
        async with _admission():
            result = await in_unit_of_work(request,
                                           lambda uow: service.query_configuration_options(uow, cache.get, body))
        return TMFJSONResponse(result)

    return router
