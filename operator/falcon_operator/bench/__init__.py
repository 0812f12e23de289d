"""Benchmark harness: run strategies against tables and report accuracy and latency."""
