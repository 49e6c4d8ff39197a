"""Pricing: order valuation, usage rating and bills.

- :mod:`~bssrules.pricing.valuation`: the one-time and recurring value of a basket, with the
  discount rule sets in force;
- :mod:`~bssrules.pricing.usage`: the values rating works on (usage records, subscribers,
  buckets, accumulator totals, rated usage, the rating state);
- :mod:`~bssrules.pricing.units`: units of volume and exact conversion between them;
- :mod:`~bssrules.pricing.rates`: what a flat or tiered rate charges for a volume;
- :mod:`~bssrules.pricing.rating`: the reference rating of usage records (rules, buckets,
  accumulators and their thresholds, prepaid balances, split billing);
- :mod:`~bssrules.pricing.caps`: capped rating, the part of a record up to a ``block``
  threshold with ``crossing: rateUpToCap`` (the rest refused, with the threshold's reason);
- :mod:`~bssrules.pricing.vectorized`: conditions and usage and split billing decisions as
  polars expressions, for whole columns of records;
- :mod:`~bssrules.pricing.bulk` and the ``bulk_*`` modules: bulk rating of chunks and of
  files of any size, with the results of the reference rating, one module per stage
  (``bulk_frames`` exact columns, ``bulk_kernels`` compiled scans, ``bulk_order`` /
  ``bulk_decide`` / ``bulk_scan`` / ``bulk_output`` the chunk pipeline, ``bulk_read`` /
  ``bulk_write`` / ``bulk_io`` files); the docstring of ``bulk`` draws the pipeline;
- :mod:`~bssrules.pricing.billing`: the bill of a billing account for a period (pro-rated
  recurring fees, one-time fees, discounts, usage).
"""
