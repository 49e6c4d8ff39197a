"""The allocators are tuned for bulk rating before polars loads, and only when nobody chose.

:mod:`bssrules.pricing.bulk_memory` sets polars' jemalloc options in the environment, which
polars reads once, when it is imported: so it must run first. These tests check it does in a
fresh interpreter (through :mod:`bssrules.pricing.bulk_io` and through ``bssrules rate``),
and that it leaves alone what the user set, and everything with ``BSSRULES_ALLOCATOR=default``.
"""
from __future__ import annotations

import os
import subprocess
import sys

from bssrules.pricing import bulk_memory


def _fresh(code: str, **environment: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("_RJEM_MALLOC_CONF", "BSSRULES_ALLOCATOR")}
    env.update(environment)
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300,
                          check=True)
    return done.stdout.strip()


def test_bulk_io_tunes_polars_allocator_before_polars_loads() -> None:
    out = _fresh("import os, bssrules.pricing.bulk_io as b; print(b.bulk_memory.TUNED, os.environ['_RJEM_MALLOC_CONF'])")
    assert "jemalloc" in out
    # polars puts its own settings first and ours after them: ours win
    assert out.endswith(f"dirty_decay_ms:500,muzzy_decay_ms:1000,{bulk_memory.JEMALLOC_CONF}")


def test_the_rate_command_loads_bulk_io_before_polars() -> None:
    code = ("import os\nfrom typer.testing import CliRunner\nfrom bssrules.cli import app\n"
            "CliRunner().invoke(app, ['rate'])\nprint(os.environ.get('_RJEM_MALLOC_CONF'))")
    assert _fresh(code).endswith(bulk_memory.JEMALLOC_CONF)


def test_a_setting_of_the_user_is_kept() -> None:
    out = _fresh("import os, bssrules.pricing.bulk_io as b; print(b.bulk_memory.TUNED, os.environ['_RJEM_MALLOC_CONF'])",
                 _RJEM_MALLOC_CONF="dirty_decay_ms:100", MALLOC_ARENA_MAX="4")
    assert out == "[] dirty_decay_ms:500,muzzy_decay_ms:1000,dirty_decay_ms:100"


def test_default_leaves_both_allocators_alone() -> None:
    environ = {"BSSRULES_ALLOCATOR": "default"}
    assert bulk_memory.tune(environ) == []
    assert environ == {"BSSRULES_ALLOCATOR": "default"}


def test_too_late_for_jemalloc_once_polars_is_loaded() -> None:
    import polars  # noqa: F401 - loaded, as in a process that imported it before bulk rating

    environ: dict[str, str] = {"MALLOC_ARENA_MAX": "4"}  # and glibc left alone: the user set it
    assert bulk_memory.tune(environ) == []
    assert "_RJEM_MALLOC_CONF" not in environ


def test_what_polars_put_in_a_parent_process_is_no_choice_of_the_user() -> None:
    # a process started by one that had loaded polars inherits polars' own setting
    out = _fresh("import os, bssrules.pricing.bulk_io as b; print(b.bulk_memory.TUNED, os.environ['_RJEM_MALLOC_CONF'])",
                 _RJEM_MALLOC_CONF="dirty_decay_ms:500,muzzy_decay_ms:1000")
    assert "jemalloc" in out and out.endswith(bulk_memory.JEMALLOC_CONF)
