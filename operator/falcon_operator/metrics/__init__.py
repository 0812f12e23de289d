"""Triton's Prometheus metrics: scrape ``/metrics``, and turn two snapshots into a measurement.

- :mod:`~falcon_operator.metrics.snapshot` — parse one scrape (:class:`Snapshot`).
- :mod:`~falcon_operator.metrics.window` — counter deltas between two snapshots
  (:func:`measure_window`), counter resets detected.
- :mod:`~falcon_operator.metrics.measurement` — the frozen :class:`WindowMeasurement`.
- :mod:`~falcon_operator.metrics.scrape` — HTTP scraping with urllib (:class:`TritonMetrics`).

See docs/metrics.md for what a window measures.
"""

from falcon_operator.metrics.errors import (
    CounterResetError,
    MetricsError,
    MetricsFormatError,
    ScrapeError,
    SeriesMissingError,
)
from falcon_operator.metrics.measurement import GpuReading, WindowMeasurement
from falcon_operator.metrics.scrape import TritonMetrics, metrics_url, scrape, scrape_settled
from falcon_operator.metrics.snapshot import Sample, Snapshot, parse_metrics
from falcon_operator.metrics.window import measure_window

__all__ = [
    "CounterResetError",
    "GpuReading",
    "MetricsError",
    "MetricsFormatError",
    "Sample",
    "ScrapeError",
    "SeriesMissingError",
    "Snapshot",
    "TritonMetrics",
    "WindowMeasurement",
    "measure_window",
    "metrics_url",
    "parse_metrics",
    "scrape",
    "scrape_settled",
]
