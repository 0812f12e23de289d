"""The errors the metrics package raises; all derive from :class:`MetricsError`.

Each class says whether retrying the same scrape or window later may succeed (``retryable``),
so a controller can map it to "retry" or "permanent failure" without parsing messages.
"""

from __future__ import annotations

from typing import ClassVar

from falcon_operator.core.errors import MetricsError

__all__ = [
    "CounterResetError",
    "MetricsError",
    "MetricsFormatError",
    "ScrapeError",
    "SeriesMissingError",
]


class ScrapeError(MetricsError):
    """The metrics endpoint could not be read: refused, timed out, HTTP error, not text."""

    retryable: ClassVar[bool] = True


class MetricsFormatError(MetricsError, ValueError):
    """The body is not in the Prometheus text exposition format."""

    retryable: ClassVar[bool] = False


class SeriesMissingError(MetricsError):
    """The model (or version) asked for has no series in the scraped metrics."""

    retryable: ClassVar[bool] = False


class CounterResetError(MetricsError):
    """A counter went down inside the window (the server restarted or the model was reloaded).

    Raised only when a window is measured with ``on_reset="raise"``; measuring a fresh window
    after the restart gives a clean measurement.
    """

    retryable: ClassVar[bool] = True

    def __init__(self, message: str, *, metrics: tuple[str, ...]) -> None:
        super().__init__(message)
        self.metrics = metrics
