"""Where the time of one checkProductConfiguration goes behind HTTP: the configurator
benchmark's project loaded into SQLite, its parties created through the API (in process),
then the check's use case (``services.configuration.check_configuration`` on a unit of work
of its own, as the route runs it, with the worker's runtime cache) profiled with cProfile on
the benchmark's request bodies, the JSON answer rendered as the route renders it.

``python -m benchmarks.configurator_service_profile [--quick] [--count N]``

What it leaves out is what the JSON floor measures too (uvicorn, the body read, the
middleware): the ratio to the floor is what is left of the rest.
"""
from __future__ import annotations

import cProfile
import json
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path


def main(argv: list[str]) -> None:
    from fastapi.testclient import TestClient

    from benchmarks.configurator_bench import FULL, QUICK, create_parties, load_database, prepare, to_request
    from bssrules.api.app import create_app
    from bssrules.api.responses import TMFJSONResponse
    from bssrules.services.configuration import check_configuration
    from bssrules.store import UnitOfWork

    sizes = QUICK if "--quick" in argv else FULL
    count = int(argv[argv.index("--count") + 1]) if "--count" in argv else 300
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

            def one(i: int) -> bytes:
                body = json.loads(bodies[i % len(bodies)])
                with UnitOfWork(engine) as uow:
                    result = check_configuration(uow, cache.get, body)
                return bytes(TMFJSONResponse(result).body)

            for i in range(20):
                one(i)
            started = time.perf_counter()
            for i in range(count):
                one(i)
            plain = (time.perf_counter() - started) / count
            profiler = cProfile.Profile()
            started = time.perf_counter()
            profiler.enable()
            for i in range(count):
                one(i)
            profiler.disable()
            profiled = (time.perf_counter() - started) / count
    print(f"check_configuration + answer rendering on {count} requests: {plain * 1e3:.2f} ms per request "
          f"({profiled * 1e3:.2f} ms under the profiler)")
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(40)
    stats.sort_stats("tottime").print_stats(30)


if __name__ == "__main__":
    main(sys.argv[1:])
