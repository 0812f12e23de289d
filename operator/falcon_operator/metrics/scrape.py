"""Read Triton's ``/metrics`` over HTTP (standard library only) and measure a window.

Scraping is blocking; from asyncio code run it in an executor. The snapshot's ``taken_at`` is
the midpoint of the request on the monotonic clock, which halves the bias a slow scrape adds.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable, Collection

from falcon_operator.metrics.errors import ScrapeError
from falcon_operator.metrics.measurement import WindowMeasurement
from falcon_operator.metrics.snapshot import Snapshot, parse_metrics
from falcon_operator.metrics.window import OnReset, measure_window

DEFAULT_PORT = 8002
DEFAULT_TIMEOUT_S = 5.0
MAX_BODY_BYTES = 64 * 1024 * 1024


def metrics_url(host: str, *, port: int = DEFAULT_PORT) -> str:
    """``http://HOST:PORT/metrics`` (IPv6 literals bracketed)."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}/metrics"


def scrape(
    url: str, *, timeout: float = DEFAULT_TIMEOUT_S, clock: Callable[[], float] = time.monotonic
) -> Snapshot:
    """One snapshot of the metrics at ``url``; :class:`ScrapeError` when it cannot be read."""
    start = clock()
    request = urllib.request.Request(url, headers={"Accept": "text/plain"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(MAX_BODY_BYTES + 1)
            charset = response.headers.get_content_charset() or "utf-8"
    except urllib.error.HTTPError as exc:
        raise ScrapeError(f"{url}: HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise ScrapeError(f"{url}: cannot connect: {exc.reason}") from exc
    except TimeoutError as exc:
        raise ScrapeError(f"{url}: no answer within {timeout:g} s") from exc
    except OSError as exc:  # connection reset mid-body, and the like
        raise ScrapeError(f"{url}: {exc}") from exc
    if len(body) > MAX_BODY_BYTES:
        raise ScrapeError(f"{url}: body larger than {MAX_BODY_BYTES} bytes")
    try:
        text = body.decode(charset)
    except (UnicodeDecodeError, LookupError) as exc:
        raise ScrapeError(f"{url}: body is not {charset} text") from exc
    return parse_metrics(text, taken_at=(start + clock()) / 2)


class TritonMetrics:
    """A Triton metrics endpoint: take snapshots, or measure a window of ``seconds``."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self.timeout = timeout
        self.clock = clock

    def snapshot(self) -> Snapshot:
        return scrape(self.url, timeout=self.timeout, clock=self.clock)

    def measure(
        self,
        seconds: float,
        *,
        model: str,
        version: str | None = None,
        gpu_uuids: Collection[str] | None = None,
        on_reset: OnReset = "delta",
        sleep: Callable[[float], None] = time.sleep,
    ) -> WindowMeasurement:
        """Scrape, wait ``seconds``, scrape again, and measure ``model`` over that window."""
        before = self.snapshot()
        sleep(seconds)
        after = self.snapshot()
        return measure_window(
            before, after, model=model, version=version, gpu_uuids=gpu_uuids, on_reset=on_reset
        )
