"""Benchmark reports: accuracy-vs-trials summaries, the stable ``results.json``, Markdown, a plot.

A benchmark run of one method on one target table for one seed is a :class:`RunResult`. Its
*accuracy after k trials* is the best objective found in the first ``k`` trials divided by the best
objective in the whole table (``best_so_far[k-1] / table_best``). While nothing has succeeded yet
the best-so-far is NaN, which counts as accuracy 0; a run shorter than ``k`` trials keeps its last
value.

:func:`summarise` aggregates per method and per (method, target); :func:`results_json` produces the
machine-readable schema other tools read (checkpoint keys are strings)::

    {"summary": {METHOD: {"6": {"mean_accuracy": x, "p_ge_0_9": x, "p_ge_0_95": x}, ...,
                          "mean_trials_to_0_95": x | null, "infeasible_trials_mean": x}},
     "runs": [{"method", "target", "seed", "accuracy_at": {"6": x, ...}, "trials_to_0_95": n|null}],
     "latency": {"1440": {"p50_ms": x, "p95_ms": x, ...}, "large": {...}},
     "per_target": {METHOD: {TARGET: {"6": mean_accuracy, ...}}},
     "meta": {...}}                                              # only when given

:func:`markdown_table`, :func:`plot_accuracy` and :func:`write_report` render the same numbers for
people. The plot uses the Agg canvas directly (no pyplot, no global backend switch).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from falcon_operator.core.errors import DataError

__all__ = [
    "LEVEL_HIGH",
    "LEVEL_LOW",
    "CheckpointStats",
    "GroupStats",
    "RunResult",
    "Summary",
    "accuracy_at",
    "latency_stats",
    "markdown_table",
    "plot_accuracy",
    "results_json",
    "summarise",
    "trials_to",
    "write_report",
]

LEVEL_LOW = 0.9
LEVEL_HIGH = 0.95
#: Slack for ``accuracy >= level`` so that e.g. 0.57 / 0.6 counts as reaching 0.95.
_EPS = 1e-9
_DECIMALS = 6


@dataclass(frozen=True)
class RunResult:
    """One method on one target table for one seed.

    ``best_so_far[k]`` is the best objective after ``k + 1`` trials (NaN while no trial has
    succeeded); ``table_best`` is the best objective in the whole table (must be finite and > 0).
    """

    method: str
    target: str
    seed: int
    best_so_far: tuple[float, ...]
    table_best: float
    infeasible_trials: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.method, str) or not self.method:
            raise DataError(f"method must be a non-empty string, got {self.method!r}")
        if not isinstance(self.target, str) or not self.target:
            raise DataError(f"target must be a non-empty string, got {self.target!r}")
        try:
            values = tuple(float(v) for v in self.best_so_far)
        except (TypeError, ValueError) as exc:
            raise DataError(f"best_so_far must be a sequence of numbers: {exc}") from exc
        object.__setattr__(self, "best_so_far", values)
        if not math.isfinite(self.table_best) or self.table_best <= 0:
            raise DataError(f"table_best must be finite and > 0, got {self.table_best!r}")
        if self.infeasible_trials < 0:
            raise DataError(f"infeasible_trials must be >= 0, got {self.infeasible_trials}")

    @property
    def n_trials(self) -> int:
        return len(self.best_so_far)


def _check_k(k: int) -> int:
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"a trial count must be an integer >= 1, got {k!r}")
    return k


def accuracy_at(run: RunResult, k: int) -> float:
    """Accuracy after ``k`` trials: ``best_so_far[k-1] / table_best``; NaN or no trials → 0."""
    _check_k(k)
    if not run.best_so_far:
        return 0.0
    value = run.best_so_far[min(k, run.n_trials) - 1]
    if math.isnan(value):
        return 0.0
    return value / run.table_best


def trials_to(run: RunResult, level: float = LEVEL_HIGH) -> int | None:
    """The first ``k`` (1-based) with ``accuracy_at(run, k) >= level``, or ``None`` if never."""
    for k in range(1, run.n_trials + 1):
        if accuracy_at(run, k) >= level - _EPS:
            return k
    return None


def _normalise_checkpoints(checkpoints: Sequence[int]) -> tuple[int, ...]:
    cps = tuple(sorted({_check_k(k) for k in checkpoints}))
    if not cps:
        raise ValueError("at least one checkpoint is needed")
    return cps


@dataclass(frozen=True)
class CheckpointStats:
    """Aggregates over a group of runs at one checkpoint."""

    mean_accuracy: float
    p_ge_0_9: float  #: fraction of runs with accuracy >= 0.9
    p_ge_0_95: float  #: fraction of runs with accuracy >= 0.95


@dataclass(frozen=True)
class GroupStats:
    """Aggregates over the runs of one method (optionally restricted to one target)."""

    n_runs: int
    at: Mapping[int, CheckpointStats]
    mean_trials_to_0_95: float | None  #: over the runs that reached 0.95; None if none did
    frac_reached_0_95: float
    infeasible_trials_mean: float


@dataclass(frozen=True)
class Summary:
    """Per-method and per-(method, target) aggregates at the given checkpoints.

    ``methods`` and ``per_target`` (method → target → stats) are keyed in name order.
    """

    checkpoints: tuple[int, ...]
    methods: Mapping[str, GroupStats]
    per_target: Mapping[str, Mapping[str, GroupStats]]

    def ranked_methods(self, k: int | None = None) -> tuple[str, ...]:
        """Methods by mean accuracy at ``k`` (default: the first checkpoint), best first."""
        k = self.checkpoints[0] if k is None else k
        if k not in self.checkpoints:
            raise ValueError(f"{k} is not a checkpoint of this summary {self.checkpoints}")
        return tuple(sorted(self.methods, key=lambda m: (-self.methods[m].at[k].mean_accuracy, m)))

    def targets(self) -> tuple[str, ...]:
        return tuple(sorted({t for by_target in self.per_target.values() for t in by_target}))


def _group_stats(runs: Sequence[RunResult], checkpoints: tuple[int, ...]) -> GroupStats:
    n = len(runs)
    at: dict[int, CheckpointStats] = {}
    for k in checkpoints:
        accs = [accuracy_at(r, k) for r in runs]
        at[k] = CheckpointStats(
            mean_accuracy=sum(accs) / n,
            p_ge_0_9=sum(a >= LEVEL_LOW - _EPS for a in accs) / n,
            p_ge_0_95=sum(a >= LEVEL_HIGH - _EPS for a in accs) / n,
        )
    reached = [t for t in (trials_to(r, LEVEL_HIGH) for r in runs) if t is not None]
    return GroupStats(
        n_runs=n,
        at=at,
        mean_trials_to_0_95=sum(reached) / len(reached) if reached else None,
        frac_reached_0_95=len(reached) / n,
        infeasible_trials_mean=sum(r.infeasible_trials for r in runs) / n,
    )


def summarise(runs: Sequence[RunResult], checkpoints: Sequence[int]) -> Summary:
    """Aggregate ``runs`` per method and per (method, target) at each checkpoint."""
    cps = _normalise_checkpoints(checkpoints)
    by_method: dict[str, list[RunResult]] = {}
    by_pair: dict[tuple[str, str], list[RunResult]] = {}
    for run in runs:
        by_method.setdefault(run.method, []).append(run)
        by_pair.setdefault((run.method, run.target), []).append(run)
    methods = {m: _group_stats(by_method[m], cps) for m in sorted(by_method)}
    per_target: dict[str, dict[str, GroupStats]] = {m: {} for m in methods}
    for method, target in sorted(by_pair):
        per_target[method][target] = _group_stats(by_pair[(method, target)], cps)
    return Summary(checkpoints=cps, methods=methods, per_target=per_target)


# --------------------------------------------------------------------------------------------
# JSON


def _num(x: float | None) -> float | None:
    """Round for JSON; non-finite becomes ``None`` (JSON has no NaN)."""
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), _DECIMALS)


def _jsonable(value: object) -> Any:
    """Best-effort conversion of ``meta`` values into plain JSON types."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return _num(value)
    if isinstance(value, np.generic):
        return _jsonable(value.item())
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset | np.ndarray):
        return [_jsonable(v) for v in value]
    return str(value)


def _latency_json(latency: Mapping[str, Mapping[str, float]]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name, stats in latency.items():
        missing = [key for key in ("p50_ms", "p95_ms") if key not in stats]
        if missing:
            raise DataError(f"latency entry {name!r} lacks {', '.join(missing)}")
        entry: dict[str, Any] = {}
        for key, value in stats.items():
            entry[key] = int(value) if key == "n" else _num(value)
        out[str(name)] = entry
    return out


def results_json(
    runs: Sequence[RunResult],
    checkpoints: Sequence[int],
    latency: Mapping[str, Mapping[str, float]],
    *,
    meta: Mapping[str, object] | None = None,
) -> dict[str, Any]:
    """The stable, JSON-serialisable results document (see the module docstring for the schema)."""
    summary = summarise(runs, checkpoints)
    cps = summary.checkpoints
    summary_json: dict[str, Any] = {}
    for method, stats in summary.methods.items():
        entry: dict[str, Any] = {
            str(k): {
                "mean_accuracy": _num(stats.at[k].mean_accuracy),
                "p_ge_0_9": _num(stats.at[k].p_ge_0_9),
                "p_ge_0_95": _num(stats.at[k].p_ge_0_95),
            }
            for k in cps
        }
        entry["mean_trials_to_0_95"] = _num(stats.mean_trials_to_0_95)
        entry["infeasible_trials_mean"] = _num(stats.infeasible_trials_mean)
        summary_json[method] = entry
    runs_json = [
        {
            "method": r.method,
            "target": r.target,
            "seed": int(r.seed),
            "accuracy_at": {str(k): _num(accuracy_at(r, k)) for k in cps},
            "trials_to_0_95": trials_to(r, LEVEL_HIGH),
        }
        for r in sorted(runs, key=lambda r: (r.method, r.target, r.seed))
    ]
    per_target = {
        method: {
            target: {str(k): _num(stats.at[k].mean_accuracy) for k in cps}
            for target, stats in by_target.items()
        }
        for method, by_target in summary.per_target.items()
    }
    doc: dict[str, Any] = {
        "summary": summary_json,
        "runs": runs_json,
        "latency": _latency_json(latency),
        "per_target": per_target,
    }
    if meta is not None:
        doc["meta"] = _jsonable(meta)
    return doc


# --------------------------------------------------------------------------------------------
# Markdown


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], *, left: int = 1) -> list[str]:
    """A GitHub table; the first ``left`` columns are left-aligned, the rest right-aligned."""
    align = [":---" if i < left else "---:" for i in range(len(header))]
    return [_row(header), _row(align), *(_row(r) for r in rows)]


def _fmt_acc(x: float) -> str:
    return f"{x:.3f}"


def _fmt_p(x: float) -> str:
    return f"{x:.2f}"


def _fmt_trials(stats: GroupStats) -> str:
    pct = f"{100 * stats.frac_reached_0_95:.0f}%"
    if stats.mean_trials_to_0_95 is None:
        return f"— ({pct})"
    return f"{stats.mean_trials_to_0_95:.1f} ({pct})"


def _fmt_ms(x: float) -> str:
    return f"{x:.2f} ms"


def markdown_table(
    summary: Summary,
    checkpoints: Sequence[int],
    *,
    latency: Mapping[str, Mapping[str, float]] | None = None,
    title: str = "Falcon benchmark",
) -> str:
    """A Markdown report: an overall table, a per-target table and (if given) latency lines.

    Methods are ordered by mean accuracy at the first (smallest) checkpoint, best first.
    """
    cps = _normalise_checkpoints(checkpoints)
    unknown = [k for k in cps if k not in summary.checkpoints]
    if unknown:
        raise ValueError(f"checkpoints {unknown} are not in the summary {summary.checkpoints}")
    lines = [f"# {title}", ""]
    if not summary.methods:
        lines += ["_No runs._", ""]
    else:
        ranked = summary.ranked_methods(cps[0])
        header = [
            "Method",
            "Runs",
            *(f"Acc @{k}" for k in cps),
            *(f"P(≥0.9) @{k}" for k in cps),
            *(f"P(≥0.95) @{k}" for k in cps),
            "Trials to 0.95 (reached)",
            "Infeasible trials",
        ]
        rows = []
        for method in ranked:
            s = summary.methods[method]
            rows.append(
                [
                    _cell(method),
                    str(s.n_runs),
                    *(_fmt_acc(s.at[k].mean_accuracy) for k in cps),
                    *(_fmt_p(s.at[k].p_ge_0_9) for k in cps),
                    *(_fmt_p(s.at[k].p_ge_0_95) for k in cps),
                    _fmt_trials(s),
                    f"{s.infeasible_trials_mean:.1f}",
                ]
            )
        lines += ["## Overall", "", *_table(header, rows), ""]

        header = ["Target", "Method", "Runs", *(f"Acc @{k}" for k in cps)]
        rows = []
        for target in summary.targets():
            for method in ranked:
                stats = summary.per_target[method].get(target)
                if stats is None:
                    continue
                rows.append(
                    [
                        _cell(target),
                        _cell(method),
                        str(stats.n_runs),
                        *(_fmt_acc(stats.at[k].mean_accuracy) for k in cps),
                    ]
                )
        lines += ["## Per target (mean accuracy)", "", *_table(header, rows, left=2), ""]

    if latency:
        lines += ["## Decision latency", ""]
        for name, lat in latency.items():
            parts = [f"p50 {_fmt_ms(lat['p50_ms'])}", f"p95 {_fmt_ms(lat['p95_ms'])}"]
            if "max_ms" in lat:
                parts.append(f"max {_fmt_ms(lat['max_ms'])}")
            if "n" in lat:
                parts.append(f"n={int(lat['n'])}")
            lines.append(f"- `{name}`: " + ", ".join(parts))
        lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Plot


def plot_accuracy(
    runs: Sequence[RunResult],
    path: str | Path,
    *,
    max_trials: int | None = None,
    title: str = "Accuracy vs number of trials",
) -> Path:
    """Save a PNG (120 dpi): per method, mean accuracy vs trials with a 10–90 percentile band."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    if not runs:
        raise DataError("no runs to plot")
    horizon = max(1, *(r.n_trials for r in runs)) if max_trials is None else _check_k(max_trials)
    ks = np.arange(1, horizon + 1)
    by_method: dict[str, list[RunResult]] = {}
    for run in runs:
        by_method.setdefault(run.method, []).append(run)
    curves: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    for method, group in by_method.items():
        acc = np.array([[accuracy_at(r, int(k)) for k in ks] for r in group], dtype=float)
        lo, hi = np.percentile(acc, [10.0, 90.0], axis=0)
        curves[method] = (acc.mean(axis=0), lo, hi)
    # Legend order follows the final mean accuracy, best first.
    order = sorted(curves, key=lambda m: (-float(curves[m][0][-1]), m))

    fig = Figure(figsize=(8.0, 5.0))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    for method in order:
        mean, lo, hi = curves[method]
        width = 2.4 if method == "falcon" else 1.6
        marker = "o" if horizon <= 40 else ""
        (line,) = ax.plot(ks, mean, label=method, linewidth=width, marker=marker, markersize=3)
        ax.fill_between(ks, lo, hi, color=line.get_color(), alpha=0.15, linewidth=0)
    ax.axhline(LEVEL_HIGH, color="0.5", linestyle=":", linewidth=1.0)
    lowest = min(float(c[0].min()) for c in curves.values())
    highest = max(float(c[0].max()) for c in curves.values())
    ax.set_ylim(bottom=lowest - 0.02, top=max(1.001, highest + 0.005))
    ax.set_xlim(0.5, horizon + 0.5)
    ax.set_xlabel("number of trials")
    ax.set_ylabel("accuracy (best found / table best)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=120, format="png")
    return out


# --------------------------------------------------------------------------------------------
# Files and latency


def write_report(
    out_dir: str | Path,
    runs: Sequence[RunResult],
    checkpoints: Sequence[int],
    latency: Mapping[str, Mapping[str, float]],
    *,
    meta: Mapping[str, object] | None = None,
) -> dict[str, Path]:
    """Write ``results.json``, ``results.md`` and ``accuracy.png`` into ``out_dir`` (created).

    Returns the paths keyed ``"json"``, ``"markdown"`` and ``"plot"``.
    """
    if not runs:
        raise DataError("no runs to report")
    cps = _normalise_checkpoints(checkpoints)
    directory = Path(out_dir)
    directory.mkdir(parents=True, exist_ok=True)
    paths = {
        "json": directory / "results.json",
        "markdown": directory / "results.md",
        "plot": directory / "accuracy.png",
    }
    doc = results_json(runs, cps, latency, meta=meta)
    paths["json"].write_text(json.dumps(doc, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    summary = summarise(runs, cps)
    paths["markdown"].write_text(markdown_table(summary, cps, latency=latency), encoding="utf-8")
    horizon = max(cps[-1], *(r.n_trials for r in runs))
    plot_accuracy(runs, paths["plot"], max_trials=horizon)
    return paths


def latency_stats(samples_seconds: Sequence[float]) -> dict[str, float]:
    """p50, p95 (linear interpolation) and max in milliseconds, plus the sample count ``n``."""
    samples = np.asarray(samples_seconds, dtype=float)
    if samples.size == 0:
        raise DataError("no latency samples")
    if not np.all(np.isfinite(samples)):
        raise DataError("latency samples must be finite")
    ms = samples * 1000.0
    p50, p95 = np.percentile(ms, [50.0, 95.0])
    return {
        "p50_ms": float(p50),
        "p95_ms": float(p95),
        "max_ms": float(ms.max()),
        "n": float(samples.size),
    }
