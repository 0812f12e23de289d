"""``results.md``: the benchmark's numbers for people, with their 95 % intervals.

An overall table (mean accuracy ``m [low, high]`` at each checkpoint, shares of runs at ≥ 0.9 and
≥ 0.95, median trials to 0.9 and 0.95 with the share of runs that got there), the paired
comparison with Falcon (its wins/ties/losses on the same target and seed, and the mean
difference Falcon − method with its interval), a per-target table and the decision latency.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from falcon_operator.bench.runs import normalise_checkpoints
from falcon_operator.bench.stats import Interval, TrialsTo
from falcon_operator.bench.summary import GroupStats, Summary


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], *, left: int = 1) -> list[str]:
    """A GitHub table; the first ``left`` columns are left-aligned, the rest right-aligned."""
    align = [":---" if i < left else "---:" for i in range(len(header))]
    return [_row(header), _row(align), *(_row(r) for r in rows)]


def fmt_interval(ci: Interval, *, signed: bool = False) -> str:
    """``0.983 [0.970, 0.994]`` (``+0.012 [-0.004, +0.030]`` when ``signed``)."""
    f = "{:+.3f}" if signed else "{:.3f}"
    return f"{f.format(ci.mean)} [{f.format(ci.low)}, {f.format(ci.high)}]"


def _fmt_mean_trials(stats: GroupStats) -> str:
    pct = f"{100 * stats.frac_reached_0_95:.0f}%"
    if stats.mean_trials_to_0_95 is None:
        return f"— ({pct})"
    return f"{stats.mean_trials_to_0_95:.1f} ({pct})"


def _fmt_median(t: TrialsTo) -> str:
    median = "not reached" if t.median is None else str(t.median)
    return f"{median} ({100 * t.reached:.0f}%)"


def _overall(summary: Summary, ranked: Sequence[str], cps: tuple[int, ...]) -> list[str]:
    header = [
        "Method",
        "Runs",
        *(f"Acc @{k} [95% CI]" for k in cps),
        *(f"P(≥0.9) @{k}" for k in cps),
        *(f"P(≥0.95) @{k}" for k in cps),
        "Median trials to 0.9 (reached)",
        "Median trials to 0.95 (reached)",
        "Mean trials to 0.95 of runs reaching it",
        "Infeasible trials",
    ]
    rows = []
    for method in ranked:
        s = summary.methods[method]
        rows.append(
            [
                _cell(method),
                str(s.n_runs),
                *(fmt_interval(s.at[k].ci95) for k in cps),
                *(f"{s.at[k].p_ge_0_9:.2f}" for k in cps),
                *(f"{s.at[k].p_ge_0_95:.2f}" for k in cps),
                _fmt_median(s.trials_to_0_9),
                _fmt_median(s.trials_to_0_95),
                _fmt_mean_trials(s),
                f"{s.infeasible_trials_mean:.1f}",
            ]
        )
    return ["## Overall", "", *_table(header, rows), ""]


def _paired(summary: Summary, ranked: Sequence[str], cps: tuple[int, ...]) -> list[str]:
    ref = _cell(summary.reference)
    header = [
        "Method",
        *(f"{ref} W/T/L @{k}" for k in cps),
        *(f"{ref} − method @{k} [95% CI]" for k in cps),
    ]
    rows = []
    for method in ranked:
        by_k = summary.paired.get(method)
        if by_k is None:
            continue
        rows.append(
            [
                _cell(method),
                *(f"{by_k[k].wins}/{by_k[k].ties}/{by_k[k].losses}" for k in cps),
                *(fmt_interval(by_k[k].diff, signed=True) for k in cps),
            ]
        )
    intro = (
        f"Paired on the same (target, seed): {ref}'s wins/ties/losses, and the mean accuracy "
        f"difference {ref} − method (an interval above 0: {ref} is significantly better)."
    )
    return [f"## Paired against {ref}", "", intro, "", *_table(header, rows), ""]


def _per_target(summary: Summary, ranked: Sequence[str], cps: tuple[int, ...]) -> list[str]:
    header = ["Target", "Method", "Runs", *(f"Acc @{k} [95% CI]" for k in cps)]
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
                    *(fmt_interval(stats.at[k].ci95) for k in cps),
                ]
            )
    return ["## Per target (mean accuracy)", "", *_table(header, rows, left=2), ""]


def _latency(latency: Mapping[str, Mapping[str, float]]) -> list[str]:
    lines = ["## Decision latency", ""]
    for name, lat in latency.items():
        parts = [f"p50 {lat['p50_ms']:.2f} ms", f"p95 {lat['p95_ms']:.2f} ms"]
        if "max_ms" in lat:
            parts.append(f"max {lat['max_ms']:.2f} ms")
        if "n" in lat:
            parts.append(f"n={int(lat['n'])}")
        if "cpu_p95_ms" in lat:
            parts.append(f"CPU time p95 {lat['cpu_p95_ms']:.2f} ms")
        setting = []
        if "candidates" in lat:
            setting.append(f"{int(lat['candidates']):,} candidates")
        if "picks" in lat:
            setting.append(f"{int(lat['picks'])} per ask")
        if "max_history" in lat:
            setting.append(f"histories of 0–{int(lat['max_history'])} trials")
        if "infeasible_share" in lat:
            setting.append(f"{lat['infeasible_share']:.0%} infeasible")
        if "peak_rss_mb" in lat:
            memory = f"peak memory {lat['peak_rss_mb']:.0f} MB"
            if "rss_before_mb" in lat:
                memory += f" ({lat['rss_before_mb']:.0f} MB before the first suggestion)"
            setting.append(memory)
        tail = f" ({'; '.join(setting)})" if setting else ""
        lines.append(f"- `{name}`: " + ", ".join(parts) + tail)
    return [*lines, ""]


def latency_markdown(latency: Mapping[str, Mapping[str, float]], *, title: str) -> str:
    """The decision-latency section alone, under ``title`` (``falcon bench --latency-only``)."""
    return "\n".join([f"# {title}", "", *_latency(latency)])


def markdown_table(
    summary: Summary,
    checkpoints: Sequence[int],
    *,
    latency: Mapping[str, Mapping[str, float]] | None = None,
    title: str = "Falcon benchmark",
) -> str:
    """The Markdown report (see the module docstring).

    Methods are ordered by mean accuracy at the first (smallest) checkpoint, best first.
    """
    cps = normalise_checkpoints(checkpoints)
    unknown = [k for k in cps if k not in summary.checkpoints]
    if unknown:
        raise ValueError(f"checkpoints {unknown} are not in the summary {summary.checkpoints}")
    lines = [f"# {title}", ""]
    if not summary.methods:
        lines += ["_No runs._", ""]
    else:
        ranked = summary.ranked_methods(cps[0])
        lines += _overall(summary, ranked, cps)
        if summary.paired:
            lines += _paired(summary, ranked, cps)
        lines += _per_target(summary, ranked, cps)
    if latency:
        lines += _latency(latency)
    return "\n".join(lines)
