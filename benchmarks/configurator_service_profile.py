"""Where the time of one checkProductConfiguration goes behind HTTP: the configurator
benchmark's project loaded into SQLite, its parties created through the API (in process),
then either

* the check's use case (``services.configuration.check_configuration`` on a unit of work
  of its own, as the route runs it, with the worker's runtime cache), the JSON answer
  rendered as the route renders it (the default); or
* with ``--http``, the whole server side of the request: the ASGI app (middleware, auth,
  routing, the body read and parse, the use case, the answer) called in process through
  ``httpx.ASGITransport`` on one event loop, the use case run inline instead of in the
  thread pool so that one profiler sees all of it,

profiled with cProfile on the benchmark's request bodies (each answer checked: HTTP 200).

``python -m benchmarks.configurator_service_profile [--http] [--quick] [--count N] [--top N] [--save FILE]``

What it leaves out is what the JSON floor measures too (uvicorn's HTTP parsing and
sockets): the ratio to the floor is what is left of the rest.
"""
from __future__ import annotations

import asyncio
import cProfile
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable


def _inline_thread_pool() -> Callable[[], None]:
    """Run the use cases on the event loop's thread (for the profiler); returns the undo."""
    from bssrules.api import deps

    kept = deps.run_in_threadpool

    async def inline(function: Any, *args: Any, **kwargs: Any) -> Any:
        return function(*args, **kwargs)

    deps.run_in_threadpool = inline  # type: ignore[assignment]

    def undo() -> None:
        deps.run_in_threadpool = kept  # type: ignore[assignment]

    return undo


def _http_requests(app: Any, path: str, bodies: list[bytes]) -> Callable[[range], None]:
    """A function posting the bodies of a range to the app in process (one event loop)."""
    import httpx

    loop = asyncio.new_event_loop()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")
    headers = {"content-type": "application/json"}

    async def post(indexes: range) -> None:
        for i in indexes:
            response = await client.post(path, content=bodies[i % len(bodies)], headers=headers)
            if response.status_code != 200:
                raise RuntimeError(f"HTTP {response.status_code}: {response.text[:300]}")

    return lambda indexes: loop.run_until_complete(post(indexes))


def main(argv: list[str]) -> None:
    from fastapi.testclient import TestClient

    from benchmarks.configurator_bench import CHECK_PATH, FULL, QUICK, create_parties, load_database, prepare, \
        to_request
    from bssrules.api.app import create_app
    from bssrules.api.responses import TMFJSONResponse
    from bssrules.services.configuration import check_configuration
    from bssrules.store import UnitOfWork

    sizes = QUICK if "--quick" in argv else FULL
    count = int(argv[argv.index("--count") + 1]) if "--count" in argv else 300
    top = int(argv[argv.index("--top") + 1]) if "--top" in argv else 40
    http = "--http" in argv
    with tempfile.TemporaryDirectory(prefix="bssrules-bench-") as temp:
        work = Path(temp)
        prepared = prepare(sizes, work / "project")
        url = f"sqlite:///{work / 'bench.db'}"
        load_database(url, prepared.project)
        os.environ["BSSRULES_AUTH"], os.environ["BSSRULES_DELIVERY"] = "off", "off"
        app = create_app(url)
        bodies = [json.dumps(to_request(b)).encode("utf-8") for b in prepared.baskets]
        with TestClient(app) as client:
            create_parties(client, prepared.buyers, prepared.payers_only)
            engine, cache = app.state.engine, app.state.runtime_cache

            if http:
                undo = _inline_thread_pool()
                post = _http_requests(app, CHECK_PATH, bodies)

                def run(indexes: range) -> None:
                    post(indexes)
            else:
                undo = None

                def run(indexes: range) -> None:
                    for i in indexes:
                        body = json.loads(bodies[i % len(bodies)])
                        with UnitOfWork(engine) as uow:
                            result = check_configuration(uow, cache.get, body)
                        TMFJSONResponse(result)

            try:
                run(range(20))
                started = time.perf_counter()
                run(range(count))
                plain = (time.perf_counter() - started) / count
                profiler = cProfile.Profile()
                started = time.perf_counter()
                profiler.enable()
                run(range(count))
                profiler.disable()
                profiled = (time.perf_counter() - started) / count
            finally:
                if undo is not None:
                    undo()
    what = "the ASGI app (in process, use case inline)" if http else "check_configuration + answer rendering"
    print(f"{what} on {count} requests: {plain * 1e3:.2f} ms per request "
          f"({profiled * 1e3:.2f} ms under the profiler)")
    if "--save" in argv:  # for pstats / snakeviz
        profiler.dump_stats(argv[argv.index("--save") + 1])
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)


if __name__ == "__main__":
    main(sys.argv[1:])
