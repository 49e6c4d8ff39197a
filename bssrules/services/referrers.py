"""How a refused delete (409) names the resources that still refer to the one asked for:
the first few the caller sees, then how many in all. A partner is not told the ids of
others' resources, and a plan bought thousands of times makes a message of one line."""
from __future__ import annotations

from typing import Mapping, Sequence

from bssrules.services.ports import UnitOfWork

NAMED_REFERRERS = 5


def referrers_text(uow: UnitOfWork, users: Sequence[tuple[str, str]], type_names: Mapping[str, str]) -> str:
    """``Product 'a', Product 'b' … (12 in all)`` for (kind, id) pairs (not empty): sorted by
    kind then id, the first few the caller sees named (``type_names`` says each kind's TMF
    type), the rest counted; ``3 resources you do not see`` when it sees none."""
    ordered = sorted(set(users))
    seen = [(k, i) for k, i in ordered if uow.resources.scope is None or uow.resources.exists((k,), i)]
    shown = seen[:NAMED_REFERRERS]
    if not shown:  # only others' (a partner asking): how many, not which
        return f"{len(ordered)} resource{'s' if len(ordered) > 1 else ''} you do not see"
    named = ", ".join(f"{type_names.get(k, k)} '{i}'" for k, i in shown)
    return named + (f" … ({len(ordered)} in all)" if len(ordered) > len(shown) else "")


def few(texts: Sequence[str]) -> str:
    """The first few of ``texts`` joined, then how many in all when there are more."""
    more = f" … ({len(texts)} in all)" if len(texts) > NAMED_REFERRERS else ""
    return ", ".join(texts[:NAMED_REFERRERS]) + more
