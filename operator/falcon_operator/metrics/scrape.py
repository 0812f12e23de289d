"""Read Triton's ``/metrics`` over HTTP (standard library only) and measure a window.

Scraping is blocking; from asyncio code run it in an executor. The snapshot's ``taken_at`` is
the midpoint of the request on the monotonic clock, which halves the bias a slow scrape adds.
"""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from collections.abc import Callable, Collection

from falcon_operator.metrics import names as n
from falcon_operator.metrics.errors import ScrapeError
from falcon_operator.metrics.measurement import WindowMeasurement
from falcon_operator.metrics.snapshot import Snapshot, parse_metrics
from falcon_operator.metrics.window import OnReset, measure_window

DEFAULT_PORT = 8002
DEFAULT_TIMEOUT_S = 5.0
MAX_BODY_BYTES = 64 * 1024 * 1024
#: counters that must stop moving before a scrape after a run counts every request of it
SETTLE_COUNTERS = (n.REQUEST_SUCCESS, n.REQUEST_FAILURE, n.INFERENCE_COUNT)
SETTLE_PAUSE_S = 0.1
SETTLE_MAX_S = 2.0


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


def _request_counts(snapshot: Snapshot, model: str) -> tuple[float, ...]:
    return tuple(
        sum(s.value for s in snapshot.model_samples(c, model=model)) for c in SETTLE_COUNTERS
    )


def scrape_settled(
    url: str,
    *,
    model: str,
    timeout: float = DEFAULT_TIMEOUT_S,
    pause_s: float = SETTLE_PAUSE_S,
    max_wait_s: float = SETTLE_MAX_S,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Snapshot:
    """A snapshot taken once ``model``'s request counters stopped moving.

    Triton counts a request just after it sent the response, so a scrape made right after a
    client's last answer can miss that request (CI once saw 3,009 counted for 3,010 answered).
    This scrapes every ``pause_s`` until two scrapes in a row agree on the model's requests and
    inferences, and returns the later one; after ``max_wait_s`` it returns the last scrape
    (the model is still being served: the caller's check then tells)."""
    last = scrape(url, timeout=timeout, clock=clock)
    deadline = clock() + max_wait_s
    while True:
        sleep(pause_s)
        now = scrape(url, timeout=timeout, clock=clock)
        if _request_counts(now, model) == _request_counts(last, model) or clock() >= deadline:
            return now
        last = now


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

    def settled(self, *, model: str) -> Snapshot:
        """A snapshot once ``model``'s request counters stopped moving (:func:`scrape_settled`)."""
        return scrape_settled(self.url, model=model, timeout=self.timeout, clock=self.clock)

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
