"""The trial runner's report, typed: what ``falcon-trial`` writes and the operator reads back.

Schema ``falcon-trial/v1`` (docs/trial-runner.md). ``report.py`` builds a :class:`RunnerReport`
and writes ``to_dict()``'s JSON; the operator reads a pod's termination message with
:func:`parse_report`. ``from_dict`` also reads the shortened forms the termination log may hold
(``"trimmed": true``: no per-window lists, sweep steps cut down or gone, and at worst only
``schema``, ``status`` and ``exit_code``), so everything a trimmed report may lack is optional.
A report that does not follow the schema is a :class:`SchemaError` saying where, never a
``KeyError``. This module imports nothing else of falcon_trial: the operator imports it (and only
it) from falcon_trial.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

SCHEMA = "falcon-trial/v1"

#: the error kind of a model the server tried to load and could not (falcon_trial.errors)
MODEL_LOAD_FAILED = "model-load-failed"


class SchemaError(ValueError):
    """A report that is not JSON, or does not follow the schema (the message says where)."""


class Status(enum.StrEnum):
    OK = "ok"  #: measurement stable
    UNSTABLE = "unstable"  #: did not stabilise in --max-windows; the result is still reported
    ERROR = "error"  #: the run failed; ``error`` says how


def _get(data: Mapping[str, Any], key: str, where: str, types: Any, *, need: bool = False) -> Any:
    """``data[key]`` checked against ``types`` (None allowed unless ``need``)."""
    if key not in data or data[key] is None:
        if need:
            raise SchemaError(f"{where}.{key} is missing")
        return None
    value = data[key]
    if isinstance(value, bool) and bool not in (types if isinstance(types, tuple) else (types,)):
        raise SchemaError(f"{where}.{key} is {value!r}, not a number")
    if not isinstance(value, types):
        raise SchemaError(f"{where}.{key} is {value!r} ({type(value).__name__})")
    return value


_NUM = (int, float)


def _num(data: Mapping[str, Any], key: str, where: str) -> float | None:
    value = _get(data, key, where, _NUM)
    return None if value is None else float(value)


def _obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise SchemaError(f"{where} is not an object")
    return value


@dataclass(frozen=True)
class ModelRef:
    """The model asked for; after a successful run also what the server declared."""

    name: str
    version: str
    platform: str | None = None
    max_batch_size: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "version": self.version}
        if self.platform is not None:
            out["platform"] = self.platform
        if self.max_batch_size is not None:
            out["max_batch_size"] = self.max_batch_size
        return out

    @staticmethod
    def from_dict(data: Mapping[str, Any], where: str = "model") -> ModelRef:
        return ModelRef(
            name=_get(data, "name", where, str, need=True),
            version=_get(data, "version", where, str) or "",
            platform=_get(data, "platform", where, str),
            max_batch_size=_get(data, "max_batch_size", where, int),
        )


@dataclass(frozen=True)
class LoadRef:
    """How the load was driven: protocol, ``fixed`` or ``sweep``, concurrency, batch size."""

    protocol: str
    mode: str
    concurrency: int
    batch_size: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "protocol": self.protocol,
            "mode": self.mode,
            "concurrency": self.concurrency,
            "batch_size": self.batch_size,
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any], where: str = "load") -> LoadRef:
        return LoadRef(
            protocol=_get(data, "protocol", where, str, need=True),
            mode=_get(data, "mode", where, str, need=True),
            concurrency=_get(data, "concurrency", where, int, need=True),
            batch_size=_get(data, "batch_size", where, int, need=True),
        )


@dataclass(frozen=True)
class WindowFigures:
    """One measurement window: throughput, p99, successes and errors."""

    rps: float | None
    p99_ms: float | None
    n: int
    errors: int

    def to_dict(self) -> dict[str, Any]:
        return {"rps": self.rps, "p99_ms": self.p99_ms, "n": self.n, "errors": self.errors}

    @staticmethod
    def from_dict(data: Mapping[str, Any], where: str) -> WindowFigures:
        return WindowFigures(
            rps=_num(data, "rps", where),
            p99_ms=_num(data, "p99_ms", where),
            n=_get(data, "n", where, int, need=True),
            errors=_get(data, "errors", where, int, need=True),
        )


_STATS = ("throughput_rps", "p50_ms", "p90_ms", "p99_ms", "mean_ms")


@dataclass(frozen=True)
class MeasurementReport:
    """A measurement at one concurrency (``result``, or a sweep step); latencies in ms.

    A latency is None when no request succeeded; a trimmed step keeps only the concurrency,
    stability, throughput, p99 and errors, and ``windows`` is None when it was trimmed away.
    """

    concurrency: int
    stable: bool
    throughput_rps: float | None = None
    p50_ms: float | None = None
    p90_ms: float | None = None
    p99_ms: float | None = None
    mean_ms: float | None = None
    requests: int | None = None
    errors: int | None = None
    duration_s: float | None = None
    throughput_ips: float | None = None
    windows: tuple[WindowFigures, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"concurrency": self.concurrency, "stable": self.stable}
        out.update({k: getattr(self, k) for k in _STATS})
        out.update(requests=self.requests, errors=self.errors, duration_s=self.duration_s)
        out["throughput_ips"] = self.throughput_ips
        if self.windows is not None:
            out["windows"] = [w.to_dict() for w in self.windows]
        return out

    @staticmethod
    def from_dict(data: Mapping[str, Any], where: str) -> MeasurementReport:
        windows = _get(data, "windows", where, list)
        return MeasurementReport(
            concurrency=_get(data, "concurrency", where, int, need=True),
            stable=_get(data, "stable", where, bool, need=True),
            **{k: _num(data, k, where) for k in _STATS},
            requests=_get(data, "requests", where, int),
            errors=_get(data, "errors", where, int),
            duration_s=_num(data, "duration_s", where),
            throughput_ips=_num(data, "throughput_ips", where),
            windows=None
            if windows is None
            else tuple(
                WindowFigures.from_dict(_obj(w, f"{where}.windows[{i}]"), f"{where}.windows[{i}]")
                for i, w in enumerate(windows)
            ),
        )


@dataclass(frozen=True)
class SweepReport:
    """A sweep: the knee's concurrency, why it stopped, and its steps (None once trimmed)."""

    knee: int
    reason: str
    steps: tuple[MeasurementReport, ...] | None
    steps_omitted: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"knee": self.knee, "reason": self.reason}
        if self.steps is not None:
            out["steps"] = [s.to_dict() for s in self.steps]
        if self.steps_omitted is not None:
            out["steps_omitted"] = self.steps_omitted
        return out

    @staticmethod
    def from_dict(data: Mapping[str, Any], where: str = "sweep") -> SweepReport:
        steps = _get(data, "steps", where, list)
        return SweepReport(
            knee=_get(data, "knee", where, int, need=True),
            reason=_get(data, "reason", where, str, need=True),
            steps=None
            if steps is None
            else tuple(
                MeasurementReport.from_dict(_obj(s, f"{where}.steps[{i}]"), f"{where}.steps[{i}]")
                for i, s in enumerate(steps)
            ),
            steps_omitted=_get(data, "steps_omitted", where, int),
        )


@dataclass(frozen=True)
class RequestTotals:
    """Every request of the run (warm-up and all steps): succeeded, failed, unfinished."""

    succeeded: int
    failed: int
    unfinished: int

    @property
    def requests(self) -> int:
        return self.succeeded + self.failed + self.unfinished

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "unfinished": self.unfinished,
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any], where: str = "totals") -> RequestTotals:
        return RequestTotals(
            succeeded=_get(data, "succeeded", where, int, need=True),
            failed=_get(data, "failed", where, int) or 0,
            unfinished=_get(data, "unfinished", where, int) or 0,
        )


@dataclass(frozen=True)
class ErrorInfo:
    """Why a run failed: the error kind (falcon_trial.errors) and its message."""

    kind: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message}

    @staticmethod
    def from_dict(data: Mapping[str, Any], where: str = "error") -> ErrorInfo:
        return ErrorInfo(
            kind=_get(data, "kind", where, str, need=True),
            message=_get(data, "message", where, str) or "",
        )


def _part(data: Mapping[str, Any], key: str, parse: Any) -> Any:
    return None if data.get(key) is None else parse(_obj(data[key], key), key)


@dataclass(frozen=True)
class RunnerReport:
    """One run's report. A completed run (``ok``/``unstable``) has ``result`` and ``totals``;
    a failed one (``error``) has ``error``; a trimmed copy may lack any part but the status."""

    status: Status
    exit_code: int
    model: ModelRef | None = None
    load: LoadRef | None = None
    slo_p99_ms: float | None = None
    result: MeasurementReport | None = None
    slo_met: bool | None = None
    sweep: SweepReport | None = None
    totals: RequestTotals | None = None
    ready_wait_s: float | None = None
    elapsed_s: float | None = None
    error: ErrorInfo | None = None
    trimmed: bool = False
    schema: str = SCHEMA

    def __post_init__(self) -> None:
        if self.schema != SCHEMA:
            raise SchemaError(f"report schema {self.schema!r}, expected {SCHEMA!r}")
        if self.status is Status.ERROR and self.error is None and not self.trimmed:
            raise SchemaError("an error report needs its error")

    def to_dict(self) -> dict[str, Any]:
        """The report's JSON form (the runner writes it; keys in the documented order)."""
        out: dict[str, Any] = {"schema": self.schema}
        if self.model is not None:
            out["model"] = self.model.to_dict()
        if self.load is not None:
            out["load"] = self.load.to_dict()
            out["slo_p99_ms"] = self.slo_p99_ms
        out["status"] = self.status.value
        out["exit_code"] = self.exit_code
        if self.result is not None:
            out["result"] = self.result.to_dict()
            out["slo_met"] = self.slo_met
        if self.sweep is not None:
            out["sweep"] = self.sweep.to_dict()
        if self.totals is not None:
            out["totals"] = self.totals.to_dict()
        if self.result is not None:
            out["ready_wait_s"] = self.ready_wait_s
            out["elapsed_s"] = self.elapsed_s
        if self.error is not None:
            out["error"] = self.error.to_dict()
        if self.trimmed:
            out["trimmed"] = True
        return out

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> RunnerReport:
        """A report from its JSON object (full or trimmed); SchemaError when malformed."""
        data = _obj(data, "the report")
        schema = data.get("schema")
        if schema != SCHEMA:
            raise SchemaError(f"report schema {schema!r}, expected {SCHEMA!r}")
        status = _get(data, "status", "report", str, need=True)
        try:
            parsed = Status(status)
        except ValueError:
            raise SchemaError(f"report status {status!r} is none of ok, unstable, error") from None
        return RunnerReport(
            status=parsed,
            exit_code=_get(data, "exit_code", "report", int, need=True),
            model=_part(data, "model", ModelRef.from_dict),
            load=_part(data, "load", LoadRef.from_dict),
            slo_p99_ms=_num(data, "slo_p99_ms", "report"),
            result=_part(data, "result", MeasurementReport.from_dict),
            slo_met=_get(data, "slo_met", "report", bool),
            sweep=_part(data, "sweep", SweepReport.from_dict),
            totals=_part(data, "totals", RequestTotals.from_dict),
            ready_wait_s=_num(data, "ready_wait_s", "report"),
            elapsed_s=_num(data, "elapsed_s", "report"),
            error=_part(data, "error", ErrorInfo.from_dict),
            trimmed=bool(_get(data, "trimmed", "report", bool)),
        )


def parse_report(text: str) -> RunnerReport:
    """A report from its JSON text (a pod's termination message); SchemaError when malformed."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise SchemaError(f"the report is not JSON: {exc}") from None
    return RunnerReport.from_dict(data)
