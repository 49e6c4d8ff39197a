"""The examples of docs/pricing.md are true.

The page's fenced blocks, by their info string:

* ```yaml rules — a complete rules file. When its first line is ``# with: examples/NAME/catalog``
  it is loaded beside that catalog, else alone. It must load (errors fail), without warnings,
  and the rule tests it holds must pass.
* ```yaml rating — a rating scenario for the last ```yaml rules block above it:

  - ``subscribers``: id -> ``{classification, partyId, offering, activeOfferings, payers, splitBilling}``;
  - ``buckets``: a list of ``{id, subscriber, unit, remaining, precedence, services, validFrom,
    validTo, floor}`` (``floor: null`` is no floor; without ``floor``, 0);
  - ``accumulators``: the totals before, a list of ``{accumulator, subscriber, period, volume,
    amount, reached}``;
  - ``records``: a list of ``{id, subscriber, service, start, volume, unit, type, roaming, country}``;
  - ``expect``: for EVERY record, by id, what rating makes of it — any of ``status``, ``ruleSet``,
    ``rule``, ``provisioningId``, ``amount``, ``ratedVolume``, ``refusedVolume``, ``prepaid``, ``billed``,
    ``charges`` (payer role -> amount, all of them), ``buckets`` (bucket id -> taken, all of
    them), ``events`` (``accumulator/threshold`` of each event, all of them), ``reasons``
    (the codes, all of them);
  - ``state``: what the state is after — ``buckets`` (id -> remaining) and ``accumulators``
    (a list like the one above; ``reached`` is checked when given).

  Numbers are compared by their text: ``2.50`` is not ``2.5``.
* ```yaml rate — ``rate`` (as in a usage rule) and ``charges``: volume -> the rounded charge.
* ```python — run as a script from the root of the project (where ``examples/`` is); what it
  prints must be exactly the ```text block right after it.

Any other block, and a ```text block not right after a ```python one, fails the page.
"""
from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from bssrules.errors import InvalidSource
from bssrules.pricing.rates import charge
from bssrules.pricing.rating import rate_records
from bssrules.pricing.usage import (
    AccumulatorKey, AccumulatorTotal, Bucket, RatedUsage, RatingState, Subscriber, UsageRecord,
)
from bssrules.rules.project import Project, load_project_texts
from bssrules.rules.model import Rate
from bssrules.rules.testing import run_tests
from bssrules.yaml_source import parse_text

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "pricing.md"
TESTED = {"yaml rules", "yaml rating", "yaml rate", "python", "text"}

_FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)
_WITH = re.compile(r"^# with: (examples/[a-z_]+/catalog)[ \t]*$")


@dataclass(frozen=True)
class Block:
    info: str
    text: str
    line: int
    index: int

    @property
    def where(self) -> str:
        return f"line {self.line}"


def fenced_blocks(path: Path) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    return [Block(m.group(1).strip(), m.group(2), text.count("\n", 0, m.start()) + 1, i)
            for i, m in enumerate(_FENCE.finditer(text))]


BLOCKS = fenced_blocks(DOC)
RULES = [b for b in BLOCKS if b.info == "yaml rules"]
RATINGS = [b for b in BLOCKS if b.info == "yaml rating"]
RATES = [b for b in BLOCKS if b.info == "yaml rate"]
SCRIPTS = [b for b in BLOCKS if b.info == "python"]


def data_of(block: Block) -> Any:
    doc, problems = parse_text(block.text, f"{DOC.name}:{block.line}")
    assert doc is not None and not problems, f"the block at {block.where} is not YAML: {problems}"
    return doc.data


def project_of(block: Block) -> Project:
    texts = {"rules.yaml": block.text}
    first = block.text.splitlines()[0] if block.text else ""
    match = _WITH.match(first)
    if match:
        folder = ROOT / match.group(1)
        assert folder.is_dir(), f"{match.group(1)} (block at {block.where}) is not a folder"
        texts.update({f"catalog/{p.name}": p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.yaml"))})
    try:
        return load_project_texts(texts)
    except InvalidSource as exc:
        pytest.fail(f"the rules example at {block.where} is refused:\n{exc}")


def rules_above(block: Block) -> Block:
    above = [b for b in RULES if b.index < block.index]
    assert above, f"the rating example at {block.where} has no ```yaml rules block above it"
    return above[-1]


# ------------------------------------------------------------------------------ the page


def test_page_has_examples() -> None:
    assert len(RULES) >= 3 and len(RATINGS) >= 5 and RATES and SCRIPTS
    text = DOC.read_text(encoding="utf-8")
    for code in ("malformed", "unknownSubscriber", "noApplicableRate", "notApplicable", "unitMismatch",
                 "insufficientBalance", "noSplitBilling", "noPayer", "noBillingAccount"):
        assert f"`{code}`" in text, f"the page explains the rejection {code}"
    scenarios = "\n".join(b.text for b in RATINGS + RULES)
    for shown in ("floor: null", "floor: -", "action: block", "action: notify", "action: changeRate", "shares:",
                  "period: day", "period: month", "measure: volume", "measure: amount", "validTo:", "usage.offering",
                  "crossing: rateUpToCap", "refusedVolume:"):
        assert shown in scenarios, f"an example shows {shown}"


def test_every_block_is_known() -> None:
    unknown = [f"```{b.info} at {b.where}" for b in BLOCKS if b.info not in TESTED]
    assert not unknown, f"blocks neither tested nor allowed: {unknown}"
    for block in BLOCKS:
        if block.info == "text":
            assert block.index > 0 and BLOCKS[block.index - 1].info == "python", (
                f"the ```text block at {block.where} must follow a ```python block")
        if block.info == "python":
            following = BLOCKS[block.index + 1] if block.index + 1 < len(BLOCKS) else None
            assert following is not None and following.info == "text", (
                f"the ```python block at {block.where} must be followed by the ```text it prints")


_LINK = re.compile(r"\]\(([^)#\s]*)(?:#([^)\s]+))?\)")
_HEADING = re.compile(r"^#{1,6} (.+)$", re.MULTILINE)


def anchors(path: Path) -> set[str]:
    """The anchors of a page's headings, as GitHub makes them (outside fenced blocks)."""
    text = _FENCE.sub("", path.read_text(encoding="utf-8"))
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in _HEADING.findall(text)}


def test_links_lead_somewhere() -> None:
    broken = []
    for target, anchor in _LINK.findall(_FENCE.sub("", DOC.read_text(encoding="utf-8"))):
        if target.startswith(("http://", "https://")):
            continue
        page = DOC.parent / target if target else DOC
        if not page.is_file():
            broken.append(f"{target}: no such page")
        elif anchor and anchor not in anchors(page):
            broken.append(f"{target}#{anchor}: no such heading")
    assert not broken, broken


# ----------------------------------------------------------------------------- rules files


@pytest.mark.parametrize("block", RULES, ids=[b.where for b in RULES])
def test_rules_example_is_valid(block: Block) -> None:
    project = project_of(block)
    assert len(project.rules) > 0
    warnings = project.warnings
    assert not warnings, f"the rules example at {block.where} has warnings:\n" + "\n".join(map(str, warnings))
    failed = [f"{r.test.name}: {'; '.join(r.problems)}" for r in run_tests(project.rules) if not r.passed]
    assert not failed, f"rule tests of the example at {block.where} fail:\n" + "\n".join(failed)


# ----------------------------------------------------------------------------- rates


@pytest.mark.parametrize("block", RATES, ids=[b.where for b in RATES])
def test_rate_example_charges_what_the_page_says(block: Block) -> None:
    data = data_of(block)
    assert set(data) == {"rate", "charges"}, f"the rate example at {block.where} has a rate and charges"
    rate = Rate.model_validate(data["rate"])
    actual = {str(volume): str(charge(rate, Decimal(str(volume)))) for volume in data["charges"]}
    expected = {str(volume): str(amount) for volume, amount in data["charges"].items()}
    assert actual == expected, f"the rate example at {block.where}"


# ----------------------------------------------------------------------------- ratings


def _instant(value: Any, where: str) -> dt.datetime | None:
    if value is None:
        return None
    instant = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    assert instant.tzinfo is not None, f"{where}: {value} needs a time zone"
    return instant


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value))


def _known(item: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(item) - allowed
    assert not unknown, f"{where}: unknown fields {sorted(unknown)}"


def scenario(block: Block) -> tuple[list[UsageRecord], dict[str, Subscriber], RatingState, dict[str, Any]]:
    data = data_of(block)
    where = f"the rating example at {block.where}"
    _known(data, {"subscribers", "buckets", "accumulators", "records", "expect", "state"}, where)
    subscribers = {}
    for sid, s in (data.get("subscribers") or {}).items():
        s = s or {}
        _known(s, {"classification", "partyId", "offering", "activeOfferings", "payers", "splitBilling"}, where)
        subscribers[sid] = Subscriber(sid, party_id=s.get("partyId"), classification=s.get("classification"),
                                      offering=s.get("offering"),
                                      active_offerings=tuple(s.get("activeOfferings") or ()),
                                      payers=dict(s.get("payers") or {}), split_billing=s.get("splitBilling"))
    buckets = {}
    for b in data.get("buckets") or []:
        _known(b, {"id", "subscriber", "unit", "remaining", "precedence", "services", "validFrom", "validTo", "floor"},
               where)
        buckets[b["id"]] = Bucket(b["id"], b["subscriber"], b["unit"], _decimal(b["remaining"]),
                                  precedence=b.get("precedence", 100), services=tuple(b.get("services") or ()),
                                  valid_from=_instant(b.get("validFrom"), where),
                                  valid_to=_instant(b.get("validTo"), where),
                                  floor=_decimal(b["floor"]) if b.get("floor") is not None
                                  else (None if "floor" in b else Decimal(0)))
    totals = {}
    for a in data.get("accumulators") or []:
        _known(a, {"accumulator", "subscriber", "period", "volume", "amount", "reached"}, where)
        totals[AccumulatorKey(a["accumulator"], a["subscriber"], str(a["period"]))] = AccumulatorTotal(
            _decimal(a.get("volume", 0)), _decimal(a.get("amount", 0)), tuple(a.get("reached") or ()))
    records = []
    for r in data["records"]:
        _known(r, {"id", "subscriber", "service", "start", "volume", "unit", "type", "roaming", "country"}, where)
        records.append(UsageRecord(str(r["id"]), r["subscriber"], r["service"], _instant(r["start"], where),
                                   _decimal(r["volume"]), unit=r.get("unit"), type=r.get("type"),
                                   roaming=r.get("roaming"), country=r.get("country")))
    return records, subscribers, RatingState(buckets, totals), data


def _text(value: Any) -> str:
    return str(value)


def outcome(result: RatedUsage, expected: dict[str, Any]) -> dict[str, Any]:
    """What rating made of a record, in the page's terms, for the fields the page states."""
    actual: dict[str, Any] = {
        "status": result.status, "ruleSet": result.rule_set, "rule": result.rule,
        "provisioningId": result.provisioning_id, "amount": _text(result.amount),
        "ratedVolume": _text(result.rated_volume), "refusedVolume": _text(result.refused_volume),
        "prepaid": _text(result.prepaid), "billed": _text(result.billed),
        "charges": {c.payer: _text(c.amount) for c in result.charges},
        "buckets": {b: _text(n) for b, n in result.buckets},
        "events": [f"{e.accumulator.split('/', 1)[1]}/{e.threshold}" for e in result.events],
        "reasons": [r["code"] for r in result.reasons],
    }
    unknown = set(expected) - set(actual)
    assert not unknown, f"unknown expectations {sorted(unknown)}"
    return {k: actual[k] for k in expected}


def stated(expected: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in expected.items():
        if key in ("charges", "buckets"):
            out[key] = {str(k): _text(v) for k, v in (value or {}).items()}
        elif key in ("events", "reasons"):
            out[key] = list(value or [])
        elif key in ("amount", "ratedVolume", "refusedVolume", "prepaid", "billed"):
            out[key] = _text(value)
        else:
            out[key] = value
    return out


@pytest.mark.parametrize("block", RATINGS, ids=[b.where for b in RATINGS])
def test_rating_example_rates_as_the_page_says(block: Block) -> None:
    project = project_of(rules_above(block))
    records, subscribers, state, data = scenario(block)
    results, new_state = rate_records(records, subscribers, project.rules, state)
    expect = {str(k): v for k, v in (data.get("expect") or {}).items()}
    assert sorted(expect) == sorted(r.id for r in records), (
        f"the rating example at {block.where} states the outcome of every record, and only of them")
    problems = []
    for result in results:
        wanted = stated(expect[result.record.id])
        got = outcome(result, wanted)
        if got != wanted:
            problems.append(f"{result.record.id}: the page says {wanted}\n{' ' * len(result.record.id)}  rating gives "
                            f"{got} (reasons: {result.reasons})")
    after = data.get("state") or {}
    for bucket_id, value in (after.get("buckets") or {}).items():
        if _text(new_state.buckets[bucket_id].remaining) != _text(value):
            problems.append(f"bucket {bucket_id}: the page says {value} remain, rating leaves "
                            f"{new_state.buckets[bucket_id].remaining}")
    for a in after.get("accumulators") or []:
        key = AccumulatorKey(a["accumulator"], a["subscriber"], str(a["period"]))
        total = new_state.accumulators.get(key)
        if total is None:
            problems.append(f"accumulator {key}: the page shows it, rating has none")
            continue
        for name in ("volume", "amount"):
            if name in a and _text(getattr(total, name)) != _text(a[name]):
                problems.append(f"accumulator {key}: the page says {name} {a[name]}, rating {getattr(total, name)}")
        if "reached" in a and list(total.reached) != list(a["reached"] or []):
            problems.append(f"accumulator {key}: the page says reached {a['reached']}, rating {list(total.reached)}")
    assert not problems, f"the rating example at {block.where} of {DOC.name}:\n" + "\n".join(problems)


# ----------------------------------------------------------------------------- scripts


@pytest.mark.parametrize("block", SCRIPTS, ids=[b.where for b in SCRIPTS])
def test_python_example_prints_what_the_page_shows(block: Block) -> None:
    result = subprocess.run([sys.executable, "-c", block.text], cwd=ROOT, capture_output=True, text=True,
                            encoding="utf-8", timeout=120)
    assert result.returncode == 0, f"the script at {block.where} fails:\n{result.stderr}"
    shown = BLOCKS[block.index + 1]
    assert result.stdout.splitlines() == shown.text.splitlines(), f"the output of the script at {block.where}"
