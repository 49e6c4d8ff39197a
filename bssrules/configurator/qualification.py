"""Qualification (TMF679): may this party, through this channel, at this date, buy these
offerings — qualified, unqualified with the reasons of the rules that refused, or an
alternate the rules propose (when that alternate itself qualifies)."""
from __future__ import annotations

import datetime as dt
import difflib
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from bssrules.catalog.catalog import Catalog
from bssrules.configurator.model import Basket, BasketItem
from bssrules.configurator.validate import Violation, not_in_force_label, validate_basket
from bssrules.errors import did_you_mean
from bssrules.rules.book import RuleBook

# Offering checks that make sense without a basket (channel, lifecycle, validity).
QUALIFICATION_CODES = ("notSellable", "notInForce", "channelNotAllowed", "notSellableAlone")
# Whether the caller may see an offering (a partner sees part of the catalog); None: all of it
Visible = Callable[[str], bool]
RuleOf = tuple[str | None, str | None]  # (rule set, rule) of a violation


@dataclass
class ItemQualification:
    """The answer for one requested offering."""

    offering: str
    result: str  # qualified | unqualified | alternate
    reasons: list[dict[str, Any]] = field(default_factory=list)
    alternates: list[str] = field(default_factory=list)


def _unknown(offering_id: str, catalog: Catalog, visible: Visible | None) -> dict[str, Any]:
    """The reason of an offering the catalog does not have, or the caller may not see: the same
    for both (another partner's offering is not there), the suggestion among those it may see."""
    known: Iterable[str] = catalog.offerings
    if visible is not None:  # the near names first (a few look-ups), then those the caller may see among them
        word = offering_id.lower()
        near = [c for c in known if c.lower() == word or sorted(c.lower()) == sorted(word)]
        near += difflib.get_close_matches(offering_id, catalog.offerings, n=50, cutoff=0.6)
        known = [c for c in dict.fromkeys(near) if visible(c)]
    hint = did_you_mean(offering_id, known)
    return {"code": "unknownOffering", "label": f"unknown offering '{offering_id}'"
            + (f" (did you mean '{hint}'?)" if hint else "")}


def _inventory_conflicts(context: Basket, catalog: Catalog, rules: RuleBook | None) -> set[RuleOf]:
    """The (rule set, rule) of the forbidden pairs the party's products break by themselves:
    not the doing of an offering qualified beside them."""
    if rules is None or not context.inventory:
        return set()
    empty = context.model_copy(update={"items": []})
    return {(v.rule_set, v.rule) for v in validate_basket(empty, catalog, rules, explain=False).violations
            if v.code == "incompatible" and v.details.get("type") == "forbidden"}


def _refusal(violation: Violation, catalog: Catalog, offering_id: str, now: dt.datetime,
             already: set[RuleOf]) -> dict[str, Any] | None:
    """The reason a violation of the offering bought alone gives, or None when it does not
    refuse it: what a basket could still mend (a prerequisite bought with it, a required
    resource) is no refusal; an exclusion of, or a forbidden pair with, what the party
    already has is (nothing bought beside it removes what the party has)."""
    if violation.code in QUALIFICATION_CODES:
        label = not_in_force_label(catalog.offerings[offering_id], now) if violation.code == "notInForce" \
            else violation.message
        return {"code": violation.code, "label": label}
    if violation.code == "notEligible":
        reason = {"code": violation.details["reason"], "label": violation.details["label"],
                  "rule": violation.rule, "ruleSet": violation.rule_set}
        if "alternate" in violation.details:
            reason["alternate"] = violation.details["alternate"]
        return reason
    if violation.code == "excluded":  # alone in the basket (with its components): it excludes what the party has
        return {"code": "excluded", "label": violation.message}
    if violation.code == "incompatible" and violation.details.get("type") == "forbidden" \
            and (violation.rule_set, violation.rule) not in already:
        return {"code": "incompatible", "label": violation.message, "rule": violation.rule,
                "ruleSet": violation.rule_set}
    return None


def _reasons(context: Basket, catalog: Catalog, rules: RuleBook | None, offering_id: str,
             visible: Visible | None = None, already: set[RuleOf] | None = None
             ) -> list[dict[str, Any]]:
    """Why the offering cannot be bought alone in ``context``: the offering checks of
    QUALIFICATION_CODES, the eligibility rules that refuse it, and what it cannot go with
    among the party's products (:func:`_refusal`), as the basket validation finds them (its
    public entry point, so that qualification says what a check would)."""
    # first: an id that is not even a catalog id ('', 'a b') is unknown too
    if offering_id not in catalog.offerings or (visible is not None and not visible(offering_id)):
        return [_unknown(offering_id, catalog, visible)]
    basket = context.model_copy(update={"items": [BasketItem(id="q", offering=offering_id)]})
    now = context.as_of or dt.datetime.now(dt.timezone.utc)
    reasons = []
    for violation in validate_basket(basket, catalog, rules, explain=False).violations:
        reason = _refusal(violation, catalog, offering_id, now, already or set())
        if reason is not None:
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
            provide_alternative: bool = True, visible: Visible | None = None) -> list[ItemQualification]:
    """Qualify each offering for the party, channel, date and inventory of ``context``; an
    offering the caller may not see (``visible``) is answered as one the catalog does not have,
    and is never proposed."""
    already = _inventory_conflicts(context, catalog, rules)
    answers = []
    for offering_id in offerings:
        reasons = _reasons(context, catalog, rules, offering_id, visible, already)
        if not reasons:
            answers.append(ItemQualification(offering_id, "qualified"))
            continue
        alternates = []
        if provide_alternative:
            proposed = sorted({r["alternate"] for r in reasons if "alternate" in r})
            alternates = [a for a in proposed if a != offering_id and not _reasons(context, catalog, rules, a, visible,
                                                                                   already)]
        result = "alternate" if alternates else "unqualified"
        answers.append(ItemQualification(offering_id, result, reasons, alternates))
    return answers
