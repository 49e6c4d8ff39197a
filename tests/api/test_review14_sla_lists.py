"""Review 14, an assurance manager listing SLA violations and SLAs: a filter value outside
the closed list of its attribute (``severity=critcal``, ``state=actve``) matched nothing and
answered an empty list — read as "no critical violation". It is refused (400) with the value
meant; the values of the list, and several of them, still filter.
"""
from __future__ import annotations

import pytest

from tests.api.session_app import keyed_app_on_engine  # noqa: F401  (the world's fixture)
from tests.api.test_sla import SLA, VIOLATION, World, world  # noqa: F401  (the world's fixture)


@pytest.mark.parametrize("path, name, value, message", [
    (VIOLATION, "severity", "critcal", "severity 'critcal' is none of critical, major, minor, warning "
                                       "(did you mean 'critical'?)"),
    (VIOLATION, "severity", "major,Critical", "severity 'Critical' is none of critical, major, minor, warning "
                                              "(did you mean 'critical'?)"),
    (VIOLATION, "severity", "", "severity '' is none of critical, major, minor, warning"),
    (SLA, "state", "actve", "state 'actve' is none of active (did you mean 'active'?)"),
])
def test_a_filter_value_outside_its_list_is_refused(world: World, path: str, name: str, value: str,
                                                    message: str) -> None:
    world.measure("csp", "availability", 97.9, "2026-06-30T12:00:00Z")
    assert world.error("GET", path, "car-maker", params={name: value}) == (400, message)


def test_the_values_of_the_lists_filter(world: World) -> None:
    world.measure("csp", "availability", 97.9, "2026-06-30T12:00:00Z")  # major and critical
    world.measure("csp", "ticketResolutionHours", 30, "2026-06-30T12:00:00Z", None)  # minor
    assert [v["severity"] for v in world.ok("GET", VIOLATION, "car-maker", params={"severity": "critical"})] == [
        "critical"]
    assert sorted(v["severity"] for v in world.ok("GET", VIOLATION, "car-maker",
                                                  params={"severity": "minor,critical"})) == ["critical", "minor"]
    assert world.ok("GET", VIOLATION, "car-maker", params={"severity": "warning"}) == []
    assert [s["id"] for s in world.ok("GET", SLA, "csp", params={"state": "active"})] == ["cc-sla"]
