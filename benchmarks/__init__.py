"""Benchmarks of bssrules: ``python -m benchmarks`` (``make bench``) runs them all."""
