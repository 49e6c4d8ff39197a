"""The configurator: what a party may buy and how a basket must be put together.

- :mod:`~bssrules.configurator.model`: a basket (or order) in its context — items, party,
  channel, caller, inventory, payers, date;
- :mod:`~bssrules.configurator.validate`: basket validation, every violation at once
  (catalog checks, then the eligibility, compatibility and split billing rule sets in force);
- :mod:`~bssrules.configurator.qualification`: product offering qualification (TMF679):
  qualified or not, with the reasons and an alternate;
- :mod:`~bssrules.configurator.query`: configuration query: what a partial basket can still
  take, and why the rest cannot.
"""
