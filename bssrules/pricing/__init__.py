"""Order valuation, usage rating, buckets, accumulators, split billing, bills: arrives with issue 5."""
