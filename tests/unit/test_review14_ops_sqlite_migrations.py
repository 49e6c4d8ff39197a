"""Commands (or the workers of ``bssrules serve``) that start together on a new SQLite
database all migrate it, one after the other under SQLite's write lock (was: they created
the same tables at once, and all but one failed: "table catalog_entity already exists")."""
from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

STARTING_TOGETHER = 4
# each a process of its own, as commands and workers are: they begin at the same instant
START = """
import sys, time
from bssrules.store import make_engine
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))
make_engine(sys.argv[1]).dispose()
"""


def test_processes_started_together_on_a_new_sqlite_database_all_migrate_it(tmp_path: Path) -> None:
    database = tmp_path / "bss.db"
    at = time.time() + 5  # (after every process imported bssrules)
    starts = [subprocess.Popen([sys.executable, "-c", START, f"sqlite:///{database}", str(at)],
                               stderr=subprocess.PIPE, text=True) for _ in range(STARTING_TOGETHER)]
    failures = [stderr.strip().splitlines()[-1] for stderr in (start.communicate(timeout=120)[1] for start in starts)
                if stderr.strip()]
    assert failures == [] and [start.returncode for start in starts] == [0] * STARTING_TOGETHER
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT count(*) FROM alembic_version").fetchone() == (1,)
        assert connection.execute("SELECT count(*) FROM catalog_entity").fetchone() == (0,)
