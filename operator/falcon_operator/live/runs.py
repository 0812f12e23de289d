"""What one method measured on one model in the head-to-head: its steps, in order, and wall time.

Every method of ``make bench-live`` (our searches and Triton Model Analyzer's modes) ends as a
:class:`MethodRun`: the configurations it measured, in the order it measured them, each with
its objective (throughput per core when the p99 met the SLO, else None), and the wall time of
the whole run. The report's figures are computed from these alone, so a run saved to JSON can be
reported again without measuring anything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from falcon_operator.core.errors import DataError


@dataclass(frozen=True)
class Step:
    """One measured configuration."""

    config: Mapping[str, int]
    objective: float | None  #: throughput per core under the SLO; None: failed or broke it
    rps: float = 0.0
    p99_ms: float = 0.0
    note: str = ""  #: why it failed, when it did


@dataclass(frozen=True)
class Referee:
    """One re-measurement of a method's recommendation by the referee (no SLO applied)."""

    per_core: float  #: requests/s per core (0: it failed to run)
    p99_ms: float
    ran: bool = True

    def meets(self, slo_p99_ms: float) -> bool:
        return self.ran and self.per_core > 0 and self.p99_ms <= slo_p99_ms


@dataclass(frozen=True)
class MethodRun:
    """A method's whole run on one model."""

    model: str
    method: str
    space: str  #: "common" (the knobs both tools search) or "full" (our live space)
    steps: tuple[Step, ...]
    wall_s: float
    #: the measuring tool: "falcon-trial" or "perf_analyzer" (Model Analyzer)
    measured_by: str = "falcon-trial"
    #: re-measurements of the best configuration by the referee (falcon-trial)
    referee: tuple[Referee, ...] = field(default=())

    def best_after(self, n: int) -> float | None:
        """The best objective among the first ``n`` measurements (None: none met the SLO)."""
        values = [s.objective for s in self.steps[:n] if s.objective is not None]
        return max(values) if values else None

    @property
    def best(self) -> Step | None:
        """The best measured step (the method's recommendation)."""
        ok = [s for s in self.steps if s.objective is not None]
        return max(ok, key=lambda s: s.objective or 0.0) if ok else None

    def reached(self, target: float) -> int | None:
        """How many measurements it took to measure ``target`` or better (None: never)."""
        for i, s in enumerate(self.steps, start=1):
            if s.objective is not None and s.objective >= target:
                return i
        return None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> MethodRun:
        try:
            steps = tuple(Step(**s) for s in data["steps"])
            return MethodRun(str(data["model"]), str(data["method"]), str(data["space"]), steps,
                             float(data["wall_s"]), str(data.get("measured_by", "falcon-trial")),
                             tuple(Referee(**r) for r in data.get("referee", ())))  # fmt: skip
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"not a head-to-head run: {exc}") from exc


def save(run: MethodRun, path: Path) -> None:
    """Write ``run`` as JSON (atomically)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(run.to_dict(), indent=1, sort_keys=True) + "\n")
    tmp.replace(path)


def load(path: Path) -> MethodRun:
    try:
        return MethodRun.from_dict(json.loads(path.read_text()))
    except (OSError, ValueError) as exc:
        raise DataError(f"{path}: {exc}") from exc


def load_all(folder: Path) -> list[MethodRun]:
    """Every run saved under ``folder`` (``<model>/<method>.json``)."""
    return [load(p) for p in sorted(folder.glob("*/*.json"))]


def cv(values: Sequence[float]) -> float | None:
    """Coefficient of variation (sample standard deviation / mean; None under 2 values)."""
    if len(values) < 2:
        return None
    mean = sum(values) / len(values)
    var = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return (var**0.5) / mean if mean > 0 else None
