"""Qualification, basket, configuration and order checks: arrives with issue 4."""
