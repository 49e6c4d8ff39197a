"""The workers of a local Dask cluster start with the allocators tuned as ``bssrules rate``'s
own process (:mod:`bssrules.pricing.bulk_memory`): a worker loads polars before any bssrules
module, so the tuning has to be in the environment it starts with."""
from __future__ import annotations

import os
from typing import Any

import pytest

pytest.importorskip("distributed")

from bssrules.pricing import bulk_memory  # noqa: E402
from bssrules.pricing.bulk_dask import cluster_client  # noqa: E402

_NAMES = ("_RJEM_MALLOC_CONF", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_ARENA_MAX")


def _worker_environment() -> dict[str, Any]:
    return {name: os.environ.get(name) for name in _NAMES}


def test_local_cluster_workers_start_with_the_allocators_tuned(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*_NAMES, "BSSRULES_ALLOCATOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("_RJEM_MALLOC_CONF", bulk_memory._POLARS_OWN[1])  # as polars leaves it: nobody's choice
    with cluster_client(workers=1) as client:
        (seen,) = client.run(_worker_environment).values()
    # polars puts its own settings first and ours after them (ours win): so it read ours on loading
    assert seen["_RJEM_MALLOC_CONF"].endswith(bulk_memory.JEMALLOC_CONF)
    assert seen["_RJEM_MALLOC_CONF"] != bulk_memory.JEMALLOC_CONF  # set before polars loaded, not after
    assert seen["MALLOC_MMAP_THRESHOLD_"] == str(32 * 1024 * 1024)
    assert seen["MALLOC_TRIM_THRESHOLD_"] == str(64 * 1024 * 1024)  # over the nanny's own 65536
    assert os.environ["_RJEM_MALLOC_CONF"] == bulk_memory._POLARS_OWN[1]  # this process's environment put back
    assert "MALLOC_TRIM_THRESHOLD_" not in os.environ


def test_worker_environment_keeps_the_users_settings() -> None:
    assert bulk_memory.worker_environment({"BSSRULES_ALLOCATOR": "default"}) == {}
    mine = bulk_memory.worker_environment({"_RJEM_MALLOC_CONF": "dirty_decay_ms:100", "MALLOC_ARENA_MAX": "4"})
    assert mine == {}
    tuned = bulk_memory.worker_environment({})
    assert tuned["_RJEM_MALLOC_CONF"] == bulk_memory.JEMALLOC_CONF
    assert tuned["MALLOC_ARENA_MAX"] == "2"


def test_the_docs_give_the_workers_settings_as_the_code_has_them() -> None:
    from pathlib import Path

    page = (Path(__file__).resolve().parents[2] / "docs" / "bulk-rating.md").read_text(encoding="utf-8")
    for name, value in bulk_memory.worker_environment({}).items():
        assert f"{name}={value}" in page, name
