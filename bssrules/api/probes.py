"""The probes an orchestrator (Kubernetes, a load balancer) calls, open without a key and not
part of any TMF API: ``GET /health`` — the process answers (liveness: restart it when it does
not) — and ``GET /ready`` — it reaches its database (readiness: send it requests only then;
503 with the TMF error body, and what the database said, when it does not)."""
from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from bssrules import __version__
from bssrules.api.responses import TMFJSONResponse, error_response


def probe_router() -> APIRouter:
    router = APIRouter()

    @router.get("/health", include_in_schema=False)
    async def health() -> Response:
        return TMFJSONResponse({"status": "up", "version": __version__})

    @router.get("/ready", include_in_schema=False)
    async def ready(request: Request) -> Response:
        # (the app's check of its database, set where the app meets the store: app.py)
        problem = await run_in_threadpool(request.app.state.database_problem)
        if problem is not None:
            return error_response(503, "databaseUnavailable", f"the database does not answer: {problem}")
        return TMFJSONResponse({"status": "ready", "version": __version__})

    return router
