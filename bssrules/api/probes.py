"""The probes an orchestrator (Kubernetes, a load balancer) calls, open without a key and not
part of any TMF API: ``GET /health`` — the process answers (liveness: restart it when it does
not) — and ``GET /ready`` — it reaches its database (readiness: send it requests only then;
503 with the TMF error body, and what the database said, when it does not)."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from bssrules import __version__
from bssrules.api.responses import TMFJSONResponse, error_response
from bssrules.store.db import one_line


def probe_router() -> APIRouter:
    router = APIRouter()

    @router.get("/health", include_in_schema=False)
    async def health() -> Response:
        return TMFJSONResponse({"status": "up", "version": __version__})

    @router.get("/ready", include_in_schema=False)
    async def ready(request: Request) -> Response:
        engine: Any = request.app.state.engine

        def probe() -> None:
            with engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")

        try:
            await run_in_threadpool(probe)
        except Exception as exc:  # noqa: BLE001 - whatever the database or its driver raised: not ready
            said = one_line(exc)[:300] or type(exc).__name__  # (no SQL, no driver's page links)
            return error_response(503, "databaseUnavailable", f"the database does not answer: {said}")
        return TMFJSONResponse({"status": "ready", "version": __version__})

    return router
