"""``bssrules rate``'s cluster options checked as the rest of the command line (exit 2, before
the project is loaded or a cluster asked): a scheduler address that is no address (``http://``,
no port) went on to load the project and compile the kernels, then failed with exit 1; and
``--partitions`` without a cluster was silently ignored."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.test_rate_command import folder, kernels, rate  # noqa: F401 (fixtures)


@pytest.mark.parametrize("address", ["http://127.0.0.1:8786", "tcp://scheduler", "scheduler", "tcp://host:0",
                                     "tcp://host:99999", "tcp://:8786"])
def test_a_scheduler_address_that_is_none_is_a_command_line_error(folder: Path, address: str) -> None:  # noqa: F811
    result = rate(folder, "--scheduler", address, output="rated")
    assert result.exit_code == 2, result.output
    assert f"--scheduler {address!r} is no scheduler address: give tcp://HOST:PORT" in result.output


def test_partitions_without_a_cluster_are_refused(folder: Path) -> None:  # noqa: F811
    result = rate(folder, "--partitions", "3")
    assert result.exit_code == 2, result.output
    assert "--partitions is for a cluster (--workers or --scheduler)" in result.output
    assert not (folder / "rated.csv").exists()
