"""Helpers of the e2e test cluster (see docs/testing.md)."""
