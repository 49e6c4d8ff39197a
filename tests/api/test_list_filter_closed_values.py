"""A list filter on an attribute whose values the TMF definition enumerates (a ticket's
``status``, a usage's ``status``, a product's ``status``, an order's ``state``) refuses a value
outside that list with 400 and the value meant: ``status=closd`` answered an empty list, which
reads as "no closed ticket" (a helper's review of tickets). The values of the list still filter,
several at once."""
from __future__ import annotations

from typing import Any

import pytest

from bssrules.api import tmfspec
from bssrules.api.tickets import TMF621
from bssrules.api.usage import TMF635
from tests.api.session_app import keyed_app_on_engine  # noqa: F401  (the world's fixture)
from tests.api.test_tmf621_tickets import TICKET, World, world  # noqa: F401  (the world's fixture)


def _error(world: World, params: dict[str, str]) -> tuple[int, str]:
    response = world.client.get(TICKET, params=params, headers={"Authorization": f"Bearer {world.admin}"})
    return response.status_code, response.json()["message"]


@pytest.mark.parametrize("value, message", [
    ("closd", "status 'closd' is none of acknowledged, rejected, pending, held, inProgress, cancelled, closed, "
              "resolved (did you mean 'closed'?)"),
    ("inProgress,Resolved", "status 'Resolved' is none of acknowledged, rejected, pending, held, inProgress, "
                            "cancelled, closed, resolved (did you mean 'resolved'?)"),
    ("", "status '' is none of acknowledged, rejected, pending, held, inProgress, cancelled, closed, resolved"),
])
def test_a_ticket_status_outside_its_list_is_refused(world: World, value: str, message: str) -> None:
    world.open("call-center", "connectivity")
    assert _error(world, {"status": value}) == (400, message)


def test_the_statuses_of_the_list_filter(world: World) -> None:
    opened = world.open("call-center", "connectivity")
    assert [t["id"] for t in world.ok("GET", TICKET, "admin", params={"status": "acknowledged"})] == [opened["id"]]
    assert [t["id"] for t in world.ok("GET", TICKET, "admin", params={"status": "closed,acknowledged"})] == [
        opened["id"]]
    assert world.ok("GET", TICKET, "admin", params={"status": "closed"}) == []


@pytest.mark.parametrize("spec, definition, attribute, values", [
    (TMF621, "TroubleTicket", "status", {"acknowledged", "closed", "resolved"}),
    (TMF635, "Usage", "status", {"rated", "rejected"}),
])
def test_the_closed_lists_are_those_of_the_official_definitions(spec: Any, definition: str, attribute: str,
                                                                values: set[str]) -> None:
    assert values <= set(spec.attribute_values(definition)[attribute])
    # an open attribute (a free text) has no list: any value filters
    assert "description" not in spec.attribute_values(definition)
    assert "lifecycleStatus" not in tmfspec.TMF620.attribute_values("ProductOffering")
