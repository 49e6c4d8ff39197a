"""What the rating tests that hold the reference and bulk rating to the same results share: a
rule book from a YAML text, instants, a subscriber, and ``rate`` — the records rated by
:func:`rate_records` and by :func:`rate_chunk`, which must agree, result by result and state
for state."""
from __future__ import annotations

import datetime as dt

from bssrules.pricing.bulk import BulkState, rate_chunk, rated_usages, records_frame, subscribers_frame
from bssrules.pricing.rating import rate_records
from bssrules.pricing.usage import RatedUsage, RatingState, Subscriber, UsageRecord
from bssrules.rules.book import RuleBook
from bssrules.rules.project import load_project_texts

PAUL = Subscriber("paul", payers={"payer": "BA-PAUL"})


def book_of(text: str) -> RuleBook:
    return load_project_texts({"rules.yaml": text}).rules


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def rate(book: RuleBook, records: list[UsageRecord], state: RatingState = RatingState(),
         subscribers: dict[str, Subscriber] | None = None) -> tuple[dict[str, RatedUsage], RatingState]:
    """Rated by the reference, and in bulk too: both must give the same."""
    subscribers = subscribers or {"paul": PAUL}
    results, new_state = rate_records(records, subscribers, book, state)
    frame, bulk_state = rate_chunk(records_frame(records), subscribers_frame(subscribers), book,
                                   BulkState.from_rating_state(state))
    assert rated_usages(frame) == results
    assert bulk_state.to_rating_state() == new_state
    return {r.record.id: r for r in results}, new_state
