"""``fields=`` and the filters of TMF635 usage take every documented extension of a usage,
part by part (TMF630 attribute selection), both tiers: ``ratedBy.refused`` (the part a cap
refused), ``ratedBy.bucket``, ``ratedProductUsage.billingAccount`` (who pays each part) and
``event.period`` / ``event.value`` were refused with 400 — "'ratedBy.refused' is not an
attribute of Usage (did you mean 'relatedParty'?)" — while ``ratedBy`` whole was taken."""
from __future__ import annotations

from typing import Any

import pytest

from tests.api.test_tmf635_usage import USAGE, _listed, _ok, _roaming, _usage, http  # noqa: F401 (the fixture)


def _one(http: Any, usage: str, fields: str) -> dict[str, Any]:  # noqa: F811
    return dict(_ok(http.get(f"{USAGE}/{usage}", params={"fields": fields}), 200))


def test_the_parts_of_the_extensions_are_selected(http: Any) -> None:  # noqa: F811
    _ok(http.post(USAGE, json=[_usage("u-1"), _roaming("u-5", 900)]))
    rated = _one(http, "u-1", "ratedProductUsage.billingAccount.id")
    # (a selected part keeps what its object always carries: a payer part names its role)
    assert [p["billingAccount"] for p in rated["ratedProductUsage"]] == [{"id": "ba-ana", "role": "payer"}]
    assert set(rated) == {"id", "href", "@type", "ratedProductUsage"}
    event = _one(http, "u-5", "event.period")
    assert [set(e) for e in event["event"]] == [{"eventType", "accumulator", "threshold", "action", "value", "period"}]
    assert _one(http, "u-1", "ratedBy.ratedVolume")["ratedBy"].keys() == {"ruleSet", "rule", "ratedVolume"}
    for fields in ("ratedBy.refused", "ratedBy.refused.volume", "ratedBy.bucket.id", "ratedBy.bucket"):
        # (taken, and empty of what u-1 has not: no cap refused any of it, no bucket paid it)
        assert _one(http, "u-1", fields)["ratedBy"] == {"ruleSet": "mobile-usage", "rule": "home-data"}


def test_the_list_is_filtered_on_who_pays(http: Any) -> None:  # noqa: F811
    _ok(http.post(USAGE, json=[_usage("u-1"), _roaming("u-5", 900), _usage("u-3", volume=-1)]))
    assert _listed(http, **{"ratedProductUsage.billingAccount.id": "ba-ana"}) == ["u-1", "u-5"]
    assert _listed(http, **{"ratedProductUsage.billingAccount.id": "ba-other"}) == []


@pytest.mark.parametrize("fields", ["ratedBy.refusd", "ratedProductUsage.billingAcount.id"])
def test_a_misspelt_part_is_still_a_400(http: Any, fields: str) -> None:  # noqa: F811
    assert http.get(USAGE, params={"fields": fields}).status_code == 400
