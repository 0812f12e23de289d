"""Settings of one trial run: frozen dataclasses, one section per concern (kopf style).

Every field has a default and a docstring; ``__post_init__`` validates, so an invalid ``Settings``
cannot exist (a bad value raises ``SettingsError``, exit code 2). The CLI builds a ``Settings``
from its flags; tests build them directly.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

from falcon_trial.errors import SettingsError

Protocol = Literal["http", "grpc"]
PROTOCOLS: tuple[Protocol, ...] = ("http", "grpc")
DEFAULT_TERMINATION_LOG = "/dev/termination-log"
MAX_CONCURRENCY = 1024


def split_url(url: str) -> tuple[str, bool]:
    """``(host:port[/path], tls)`` of a server URL with an optional http/https/grpc scheme."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    if scheme not in ("", "http", "https", "grpc") or not rest or "://" in rest:
        raise SettingsError(f"unsupported server URL {url!r} (expected http://host:port)")
    return rest.rstrip("/"), scheme == "https"


def _positive(name: str, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise SettingsError(f"{name} must be a positive number, got {value!r}")


def _at_least(name: str, value: int, low: int) -> None:
    if value < low:
        raise SettingsError(f"{name} must be at least {low}, got {value!r}")


@dataclasses.dataclass(frozen=True)
class ServerSettings:
    """Where the server is and how long to wait for it."""

    url: str = "http://127.0.0.1:8000"
    """Server address: ``http://host:port`` (``https://`` for TLS) or ``host:port``."""
    protocol: Protocol = "http"
    """``http`` (always available) or ``grpc`` (needs ``tritonclient[grpc]``)."""
    model: str = ""
    """Model name as the server knows it (required)."""
    model_version: str = ""
    """Model version; empty means the server's choice (latest)."""
    ready_timeout_s: float = 120.0
    """Deadline for ``/v2/health/ready`` to answer ready."""
    ready_poll_s: float = 0.5
    """Pause between two readiness probes."""
    request_timeout_s: float = 30.0
    """Connection and network timeout of one request."""

    def __post_init__(self) -> None:
        if not self.model:
            raise SettingsError("a model name is required (--model)")
        if self.protocol not in PROTOCOLS:
            raise SettingsError(f"protocol must be one of {PROTOCOLS}, got {self.protocol!r}")
        split_url(self.url)
        _positive("ready timeout", self.ready_timeout_s)
        _positive("readiness poll interval", self.ready_poll_s)
        _positive("request timeout", self.request_timeout_s)


@dataclasses.dataclass(frozen=True)
class InputSettings:
    """How random request inputs are shaped and filled."""

    batch_size: int = 1
    """Value of the dynamic batch dimension (models with ``max_batch_size > 0``)."""
    dynamic_dim: int = 16
    """Value of every other ``-1`` dimension (sequence length, image size, ...)."""
    int_high: int = 2
    """Integer inputs are drawn from ``[0, int_high)``: 0/1 is valid as an id, a mask or a
    segment id of any vocabulary. Not used for INT8/UINT8, which cover their whole range."""
    bytes_length: int = 16
    """Length of each random BYTES element."""
    seed: int = 0
    """Seed of the random inputs (generated once and reused by every request)."""

    def __post_init__(self) -> None:
        _at_least("batch size", self.batch_size, 1)
        _at_least("dynamic dimension", self.dynamic_dim, 1)
        _at_least("integer input range", self.int_high, 1)
        _at_least("bytes length", self.bytes_length, 0)


@dataclasses.dataclass(frozen=True)
class MeasureSettings:
    """Warm-up, windows and the stability rule."""

    warmup_s: float = 3.0
    """Load before the first window; its requests are not measured."""
    window_s: float = 3.0
    """Length of one measurement window (it is extended until one request completes)."""
    max_windows: int = 10
    """Bound on windows per measurement; still unstable then means exit code 6."""
    stable_windows: int = 3
    """How many last windows must agree."""
    tolerance: float = 0.10
    """They agree when ``max <= (1 + tolerance) * min`` for throughput and for p99."""
    max_error_fraction: float = 0.5
    """A window where more than this fraction of requests failed aborts the measurement."""

    def __post_init__(self) -> None:
        if not (math.isfinite(self.warmup_s) and self.warmup_s >= 0):
            raise SettingsError(f"warm-up must be >= 0 seconds, got {self.warmup_s!r}")
        _positive("window length", self.window_s)
        _at_least("stable windows", self.stable_windows, 1)
        _at_least("max windows", self.max_windows, self.stable_windows)
        _positive("stability tolerance", self.tolerance)
        if not 0 <= self.max_error_fraction < 1:
            raise SettingsError(
                f"max error fraction must be in [0, 1), got {self.max_error_fraction!r}"
            )


@dataclasses.dataclass(frozen=True)
class LoadSettings:
    """Closed-loop load: a fixed concurrency, or a sweep that stops at the knee."""

    concurrency: int = 1
    """Number of closed-loop workers (one request in flight each), when not sweeping."""
    sweep_max: int | None = None
    """Sweep 1, 2, 4, ... up to this concurrency (included) instead of a fixed one."""
    min_gain: float = 0.05
    """The sweep stops when doubling the concurrency gains less than this in throughput."""
    slo_p99_ms: float | None = None
    """The sweep stops when p99 exceeds this; also reported as ``slo_met``."""
    error_backoff_s: float = 0.01
    """A worker pauses this long after a failed request (no busy loop on a dead server)."""

    def __post_init__(self) -> None:
        _at_least("concurrency", self.concurrency, 1)
        if self.concurrency > MAX_CONCURRENCY:
            raise SettingsError(f"concurrency must be at most {MAX_CONCURRENCY}")
        if self.sweep_max is not None:
            _at_least("sweep maximum", self.sweep_max, 1)
            if self.sweep_max > MAX_CONCURRENCY:
                raise SettingsError(f"sweep maximum must be at most {MAX_CONCURRENCY}")
        if not (math.isfinite(self.min_gain) and self.min_gain >= 0):
            raise SettingsError(f"minimum sweep gain must be >= 0, got {self.min_gain!r}")
        if self.slo_p99_ms is not None:
            _positive("p99 SLO", self.slo_p99_ms)
        if not (math.isfinite(self.error_backoff_s) and self.error_backoff_s >= 0):
            raise SettingsError(f"error back-off must be >= 0, got {self.error_backoff_s!r}")


@dataclasses.dataclass(frozen=True)
class ReportSettings:
    """Where the JSON report goes."""

    termination_log: str = DEFAULT_TERMINATION_LOG
    """Kubernetes termination-message path."""
    termination_log_required: bool = False
    """True when the path was given explicitly: failing to write it is then an error (exit 9);
    otherwise a missing or read-only default location is skipped silently."""
    max_bytes: int = 4000
    """Size bound of the termination-log report (Kubernetes keeps at most 4096 bytes)."""
    quiet: bool = False
    """No progress lines on stderr."""

    def __post_init__(self) -> None:
        _at_least("report size bound", self.max_bytes, 512)


@dataclasses.dataclass(frozen=True)
class Settings:
    """Everything one ``falcon-trial`` run needs."""

    server: ServerSettings
    inputs: InputSettings = dataclasses.field(default_factory=InputSettings)
    measure: MeasureSettings = dataclasses.field(default_factory=MeasureSettings)
    load: LoadSettings = dataclasses.field(default_factory=LoadSettings)
    report: ReportSettings = dataclasses.field(default_factory=ReportSettings)
