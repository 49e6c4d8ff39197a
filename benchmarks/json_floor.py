"""The JSON-endpoint floor of the configurator benchmark: what one uvicorn worker does for a
FastAPI endpoint that parses a checkProductConfiguration body and answers a body of the size
of a validation, and nothing else (no database, no catalog, no rules).

``uvicorn benchmarks.json_floor:create_app --factory`` serves it; the configurator benchmark
posts the very bodies it posts to bssrules, with the same clients, in the same run, and
prints bssrules' throughput as a share of this one.
"""
from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request, Response

PATH = "/floor/checkProductConfiguration"


def answer(body: Any) -> dict[str, Any]:
    """A validation-sized answer: the answer bssrules gives a valid basket (its median answer
    in the benchmark), with the count of cart items looked at (each one is read)."""
    items = body.get("cartItem") if isinstance(body, dict) else None
    checked = sum(1 for item in items if isinstance(item, dict) and item.get("productOffering")) \
        if isinstance(items, list) else 0
    return {"@type": "CheckProductConfiguration", "state": "done", "checkResult": "valid", "valid": True,
            "violation": [], "checkedItems": checked}


def create_app() -> FastAPI:
    """The floor's FastAPI app (a factory, as bssrules' is)."""
    app = FastAPI(title="json floor")

    @app.post(PATH)
    async def check(request: Request) -> Response:
        body = json.loads(await request.body())
        return Response(json.dumps(answer(body)).encode("utf-8"), media_type="application/json")

    @app.get("/floor/up")
    async def up() -> Response:
        return Response(b"{}", media_type="application/json")

    return app
