"""The report as files: ``index.html`` beside one PNG per plot (report/plots.py).

The page says who won and why, shows the plots, lists every trial and, for every knob value
never tried, why the search skipped it. It is static: open it from disk, or serve the folder.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

from falcon_operator.core.numbers import objective, plain
from falcon_operator.core.objective import Objective
from falcon_operator.core.records import TrialRecord
from falcon_operator.report import plots
from falcon_operator.report.data import ReportData
from falcon_operator.report.messages import no_success, short_config

STYLE = """
body { font-family: sans-serif; max-width: 60em; margin: 2em auto; color: #222; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { border-bottom: 1px solid #ddd; padding: 0.2em 0.6em; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
img { max-width: 100%; border: 1px solid #eee; margin: 0.5em 0; }
.why { background: #f3f7ff; padding: 0.6em; border-left: 4px solid #4a78c2; }
"""

CAPTIONS = {
    "objective.png": "Objective (the search's metric, higher is better: requests per second per "
    "dollar-hour, or 1 / the $/h of the replicas serving the target) of every trial, in order, "
    "and the best so far. Crosses on the axis: trials without an objective.",
    "latency.png": "Throughput against p99 latency of every measured trial; the dashed line is "
    "the SLO. Numbers are trial numbers; the circle is the best trial.",
    "cost.png": "Cost per hour against throughput of the ok trials, by GPU type. Points on the "
    "dashed line (drawn when the objective is requests per second per dollar-hour) have the best "
    "trial's objective; below it would be better.",
    "space.png": "The space explored: how many trials used each value of each knob.",
    "skipped.png": "Values never tried: the search's best estimate of any configuration with "
    "that value, relative to the best measured objective (grey: infeasible by the sources).",
}


def _cell(x: float) -> str:
    return "" if math.isnan(x) else plain(x)


def _trials(data: ReportData) -> str:
    rows = []
    for t in data.trials:
        r: TrialRecord = t.record
        rows.append(
            "<tr>"
            + f"<td>{html.escape(t.label)}</td><td>{html.escape(short_config(r.config))}</td>"
            + f"<td>{r.outcome.value}</td>"
            + "".join(
                f'<td class="n">{_cell(t.metric(k))}</td>'
                for k in ("rps", "p99_ms", "cost_per_hour")
            )
            + f'<td class="n">{_score(r.objective, data.goal)}</td>'
            + f"<td>{html.escape(r.reason)}</td></tr>"
        )
    goal = data.goal
    unit = (
        "req/s per $/h"
        if goal is None or goal.target_rps is None
        else f"$/h for {plain(goal.target_rps)} req/s"
    )
    head = (
        "<tr><th>trial</th><th>configuration</th><th>outcome</th><th>req/s</th>"
        f"<th>p99 ms</th><th>$/h</th><th>{html.escape(unit)}</th><th>reason</th></tr>"
    )
    return f"<table>{head}{''.join(rows)}</table>"


def _score(score: float | None, goal: Objective | None) -> str:
    """A trial's objective as its column shows it (the fleet's $/h for a throughput target)."""
    if score is None:
        return ""
    return plain(score if goal is None else goal.shown(score))


def _skipped(data: ReportData) -> str:
    if not data.skipped:
        return "<p>Every value of every knob was tried.</p>"
    rows = "".join(
        f"<tr><td>{html.escape(s.knob)}</td>"
        f"<td>{html.escape(plain(s.value) if isinstance(s.value, float) else str(s.value))}</td>"
        f"<td>{html.escape(s.reason)}</td></tr>"
        for s in data.skipped
    )
    return f"<table><tr><th>knob</th><th>value</th><th>why it was not tried</th></tr>{rows}</table>"


def _summary(data: ReportData) -> str:
    best = data.best
    lines = [f"<li>{html.escape(k)}: {html.escape(v)}</li>" for k, v in data.details.items()]
    if data.slo_p99_ms is not None:
        lines.append(f"<li>p99 SLO: {plain(data.slo_p99_ms)} ms</li>")
    if data.goal is not None and data.goal.target_rps is not None:
        lines.append(
            f"<li>objective: {data.goal.metric}, the cheapest replicas serving "
            f"{plain(data.goal.target_rps)} req/s</li>"
        )
    lines.append(f"<li>trials: {len(data.trials)}</li>")
    if best is None:
        verdict = no_success(
            data.history, slo_p99_ms=data.slo_p99_ms, labels=[t.label for t in data.trials]
        )
        head = f"<p><b>No recommendation:</b> {html.escape(verdict)}</p>"
    else:
        r = best.record
        head = (
            f"<p><b>Best:</b> {html.escape(best.label)}, {html.escape(short_config(r.config))}: "
            f"{html.escape(objective(r.objective or 0.0, data.goal))}"
            f" ({_cell(best.metric('rps'))} req/s, p99 {_cell(best.metric('p99_ms'))} ms, "
            f"{_cell(best.metric('cost_per_hour'))} $/h)</p>"
            f'<p class="why"><b>Why:</b> {html.escape(data.why)}</p>'
        )
    return head + f"<ul>{''.join(lines)}</ul>"


def write(data: ReportData, out: Path) -> Path:
    """Write ``index.html`` and its PNGs into ``out`` (created); returns the page's path."""
    out.mkdir(parents=True, exist_ok=True)
    figures = []
    for name, plot in plots.PLOTS.items():
        plot(data, out / name)
        figures.append(
            f'<figure><img src="{name}" alt="{html.escape(CAPTIONS[name])}">'
            f"<figcaption>{html.escape(CAPTIONS[name])}</figcaption></figure>"
        )
    title = html.escape(data.title)
    page = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{STYLE}</style></head><body><h1>{title}</h1>{_summary(data)}"
        f"<h2>Plots</h2>{''.join(figures)}<h2>Trials</h2>{_trials(data)}"
        f"<h2>Values never tried, and why</h2>{_skipped(data)}</body></html>\n"
    )
    path = out / "index.html"
    path.write_text(page, encoding="utf-8")
    return path
