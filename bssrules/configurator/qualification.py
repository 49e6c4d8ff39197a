"""Qualification (TMF679): may this party, through this channel, at this date, buy these
offerings — qualified, unqualified with the reasons of the rules that refused, or an
alternate the rules propose (when that alternate itself qualifies)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bssrules.catalog.catalog import Catalog
from bssrules.configurator.model import Basket, BasketItem
from bssrules.configurator.validate import validate_basket
from bssrules.errors import did_you_mean
from bssrules.rules.book import RuleBook

# Offering checks that make sense without a basket (channel, lifecycle, validity).
QUALIFICATION_CODES = ("notSellable", "notInForce", "channelNotAllowed", "notSellableAlone")


@dataclass
class ItemQualification:
    """The answer for one requested offering."""

    offering: str
    result: str  # qualified | unqualified | alternate
    reasons: list[dict[str, Any]] = field(default_factory=list)
    alternates: list[str] = field(default_factory=list)


def _reasons(context: Basket, catalog: Catalog, rules: RuleBook | None, offering_id: str) -> list[dict[str, Any]]:
    """Why the offering cannot be bought alone in ``context``: the offering checks of
    QUALIFICATION_CODES and the eligibility rules that refuse it, as the basket validation
    finds them (its public entry point, so that qualification says what a check would)."""
    if offering_id not in catalog.offerings:  # first: an id that is not even a catalog id ('', 'a b') is unknown too
        hint = did_you_mean(offering_id, catalog.offerings)
        return [{"code": "unknownOffering", "label": f"unknown offering '{offering_id}'"
                 + (f" (did you mean '{hint}'?)" if hint else "")}]
    basket = context.model_copy(update={"items": [BasketItem(id="q", offering=offering_id)]})
    reasons: list[dict[str, Any]] = []
    for violation in validate_basket(basket, catalog, rules, explain=False).violations:
        if violation.code in QUALIFICATION_CODES:
            reasons.append({"code": violation.code, "label": violation.message})
        elif violation.code == "notEligible":
            reason = {"code": violation.details["reason"], "label": violation.details["label"],
                      "rule": violation.rule, "ruleSet": violation.rule_set}
            if "alternate" in violation.details:
                reason["alternate"] = violation.details["alternate"]
            reasons.append(reason)
    return reasons


def offerings_in_category(catalog: Catalog, category_id: str) -> list[str]:
    """The offerings of a category and of the categories under it (through ``parent``), by id."""
    within = {category_id}
    while True:  # grow by children until nothing is added (a parent cycle cannot loop)
        grown = within | {c.id for c in catalog.categories.values() if c.parent in within}
        if grown == within:
            break
        within = grown
    return sorted(o.id for o in catalog.offerings.values() if within & set(o.categories))


def qualify(context: Basket, catalog: Catalog, rules: RuleBook | None, offerings: list[str],
            provide_alternative: bool = True) -> list[ItemQualification]:
    """Qualify each offering for the party, channel, date and inventory of ``context``."""
    answers = []
    for offering_id in offerings:
        reasons = _reasons(context, catalog, rules, offering_id)
        if not reasons:
            answers.append(ItemQualification(offering_id, "qualified"))
            continue
        alternates = []
        if provide_alternative:
            proposed = sorted({r["alternate"] for r in reasons if "alternate" in r})
            alternates = [a for a in proposed if a != offering_id and not _reasons(context, catalog, rules, a)]
        answers.append(ItemQualification(offering_id, "alternate" if alternates else "unqualified", reasons, alternates))
    return answers
