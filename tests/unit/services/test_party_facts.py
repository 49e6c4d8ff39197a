"""What the rules read of a stored party: classification, segment, country, age as of the decision."""
from __future__ import annotations

import datetime as dt

from hypothesis import given, strategies as st

from bssrules.services.party_facts import age_on, birth_date, party_facts, postal_country

UTC = dt.timezone.utc


def test_age_counts_whole_years_to_the_day_of_the_decision() -> None:
    ana = {"birthDate": "2008-06-15"}
    assert party_facts(ana, True, dt.datetime(2026, 6, 14, 23, 59, tzinfo=UTC))["age"] == 17
    assert party_facts(ana, True, dt.datetime(2026, 6, 15, 0, 0, tzinfo=UTC))["age"] == 18
    # a basket checked as of a past date sees the age the party had then
    assert party_facts(ana, True, dt.datetime(2020, 1, 1, tzinfo=UTC))["age"] == 11


def test_a_leap_day_birthday_counts_on_the_first_of_march_in_a_common_year() -> None:
    born = dt.date(2008, 2, 29)
    assert age_on(born, dt.date(2026, 2, 28)) == 17
    assert age_on(born, dt.date(2026, 3, 1)) == 18
    assert age_on(born, dt.date(2028, 2, 29)) == 20


def test_the_birth_date_is_the_day_written_not_the_utc_day() -> None:
    assert birth_date({"birthDate": "1980-01-01T23:30:00-05:00"}) == dt.date(1980, 1, 1)
    assert birth_date({"birthDate": "1980-01-01T00:30:00+02:00"}) == dt.date(1980, 1, 1)


def test_no_age_for_an_organization_an_unreadable_date_or_one_born_later() -> None:
    when = dt.datetime(2026, 1, 1, tzinfo=UTC)
    assert party_facts({"birthDate": "1980-01-01"}, False, when)["age"] is None
    for unreadable in ("junk", "", 19800101, None, "1980-02-30"):
        assert party_facts({"birthDate": unreadable}, True, when)["age"] is None
    assert party_facts({"birthDate": "2027-01-01"}, True, when)["age"] is None


def test_segment_classification_and_country_from_the_characteristics() -> None:
    party = {"partyCharacteristic": [{"name": "segment", "value": "hospitality"},
                                     {"name": "classification", "value": "VIP"},
                                     {"name": "country", "value": "PT"},
                                     {"name": "segment", "value": "ignored: the first wins"}],
             "contactMedium": [{"mediumType": "postalAddress", "characteristic": {"country": "ES"}}]}
    facts = party_facts(party, False, None)
    assert facts == {"classification": "VIP", "segment": "hospitality", "country": "PT", "age": None}


def test_country_from_the_preferred_postal_address_else_the_first_with_one() -> None:
    media = [{"mediumType": "email", "characteristic": {"emailAddress": "a@b.c", "country": "XX"}},
             {"mediumType": "postalAddress", "characteristic": {"city": "Lisboa"}},
             {"mediumType": "postalAddress", "characteristic": {"country": "ES"}},
             {"mediumType": "postalAddress", "preferred": True, "characteristic": {"country": "PT"}}]
    assert postal_country({"contactMedium": media}) == "PT"
    assert postal_country({"contactMedium": media[:3]}) == "ES"
    assert postal_country({"contactMedium": media[:2]}) is None


def test_values_of_the_wrong_type_are_absent_not_errors() -> None:
    party = {"partyCharacteristic": [{"name": "segment", "value": 3}, {"name": "classification", "value": ""},
                                     "not an object"],
             "contactMedium": "not a list of media"}
    assert party_facts(party, True, None) == {"classification": None, "segment": None, "country": None, "age": None}


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)),
       st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 1, 1)))
def test_age_is_the_largest_whole_number_of_birthdays_passed(born: dt.date, day: dt.date) -> None:
    age = age_on(born, day)
    if day < born:
        assert age is None
        return
    assert age is not None and age >= 0

    def birthday(years: int) -> dt.date:  # the n-th birthday (29 February -> 1 March when there is none)
        try:
            return born.replace(year=born.year + years)
        except ValueError:
            return dt.date(born.year + years, 3, 1)

    assert birthday(age) <= day
    if born.year + age + 1 <= 9999:
        assert day < birthday(age + 1)
