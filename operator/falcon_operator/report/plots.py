"""The report's plots, one PNG each (matplotlib's object API with the Agg renderer: no display,
no global pyplot state). Every function takes the report's data and a path, and writes one file.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from falcon_operator.core.knobs import GPU
from falcon_operator.core.numbers import plain
from falcon_operator.core.records import Outcome
from falcon_operator.report.data import ReportData

COLORS = {Outcome.OK: "tab:blue", Outcome.FAILED: "tab:orange", Outcome.INFEASIBLE: "tab:red"}
LABELS = {
    Outcome.OK: "ok",
    Outcome.FAILED: "failed (SLO broken, crash, …)",
    Outcome.INFEASIBLE: "infeasible",
}
DPI = 110


def _save(fig: Figure, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    return path


def objective(data: ReportData, path: Path) -> Path:
    """The objective of every trial in order, and the best so far."""
    fig = Figure(figsize=(8, 4))
    ax = fig.add_subplot()
    n = np.arange(1, len(data.trials) + 1)
    y = np.array([t.record.objective or math.nan for t in data.trials], dtype=float)
    best = np.fmax.accumulate(np.where(np.isnan(y), -np.inf, y)) if y.size else y
    best = np.where(np.isinf(best), np.nan, best)
    ok = ~np.isnan(y)
    ax.scatter(n[ok], y[ok], color=COLORS[Outcome.OK], label="trial (ok)", zorder=3)
    ax.step(n, best, where="post", color="black", label="best so far")
    floor = 0.0
    for outcome in (Outcome.FAILED, Outcome.INFEASIBLE):
        sel = [t.record.outcome is outcome for t in data.trials]
        if any(sel):
            ax.scatter(
                n[sel],
                np.full(int(sum(sel)), floor),
                marker="x",
                s=60,
                color=COLORS[outcome],
                label=f"{outcome.value}: no objective",
                clip_on=False,
                zorder=4,
            )
    for i, t in enumerate(data.trials, start=1):
        if t.record.ok:
            ax.annotate(
                str(t.record.config.get(GPU, "")),
                (i, t.record.objective or 0.0),
                textcoords="offset points",
                xytext=(0, 6),
                ha="center",
                fontsize=7,
            )
    if not ok.any():
        ax.text(0.5, 0.5, "no trial succeeded", ha="center", transform=ax.transAxes)
    ax.set_xlabel("trial")
    goal = data.goal
    if goal is None or goal.target_rps is None:
        ax.set_ylabel("objective (req/s per $/h)")
    else:
        ax.set_ylabel(f"objective (1 / $/h of the replicas for {plain(goal.target_rps)} req/s)")
    ax.set_title("Objective per trial and best so far")
    ax.set_xticks(n)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    return _save(fig, path)


def latency(data: ReportData, path: Path) -> Path:
    """Throughput against p99 latency for every measured trial, with the SLO line; a trial whose
    SLO was out of reach even at low load sits at zero throughput with its low-load p99."""
    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_subplot()
    measured = [
        (i, t) for i, t in enumerate(data.trials, start=1) if not math.isnan(t.metric("p99_ms"))
    ]
    loaded = [(i, t) for i, t in measured if not math.isnan(t.metric("rps"))]
    idle = [(i, t) for i, t in measured if math.isnan(t.metric("rps"))]
    for outcome in (Outcome.OK, Outcome.FAILED):
        pts = [t for _, t in loaded if t.record.outcome is outcome]
        if pts:
            ax.scatter(
                [t.metric("rps") for t in pts],
                [t.metric("p99_ms") for t in pts],
                color=COLORS[outcome],
                label=LABELS[outcome],
                zorder=3,
            )
    if idle:
        ax.scatter(
            [0.0] * len(idle),
            [t.metric("p99_ms") for _, t in idle],
            marker="^",
            color=COLORS[Outcome.FAILED],
            label="SLO out of reach (p99 at low load)",
            zorder=3,
            clip_on=False,
        )
    for i, t in measured:
        x = 0.0 if math.isnan(t.metric("rps")) else t.metric("rps")
        ax.annotate(
            str(i), (x, t.metric("p99_ms")), textcoords="offset points", xytext=(4, 4), fontsize=7
        )
    if data.slo_p99_ms is not None:
        ax.axhline(
            data.slo_p99_ms,
            color="tab:red",
            linestyle="--",
            label=f"p99 SLO {plain(data.slo_p99_ms)} ms",
        )
    best = data.best
    if best is not None and not math.isnan(best.metric("p99_ms")):
        ax.scatter(
            [best.metric("rps")],
            [best.metric("p99_ms")],
            s=200,
            facecolors="none",
            edgecolors="black",
            label="best",
            zorder=4,
        )
    top = max([t.metric("rps") for _, t in loaded] or [1.0])
    ax.set_xlim(0.0 if not idle else -0.03 * top, top * 1.08)
    ax.set_xlabel("throughput (req/s)")
    ax.set_ylabel("p99 latency (ms)")
    ax.set_title("Throughput vs p99 latency (numbers: trial)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _save(fig, path)


def cost(data: ReportData, path: Path) -> Path:
    """Cost per hour against throughput; the dashed line is the best trial's req/s per $/h
    (when that is the objective)."""
    fig = Figure(figsize=(8, 4.5))
    ax = fig.add_subplot()
    pts = [
        (t.metric("rps"), t.metric("cost_per_hour"), str(t.record.config.get(GPU, "")))
        for t in data.trials
        if t.record.ok
    ]
    for gpu in sorted({p[2] for p in pts}):
        sel = [p for p in pts if p[2] == gpu]
        ax.scatter([p[0] for p in sel], [p[1] for p in sel], label=gpu, zorder=3)
    best = data.best
    per_dollar = data.goal is None or data.goal.target_rps is None
    if best is not None and best.record.objective and per_dollar:
        top = max(p[0] for p in pts) * 1.1
        xs = np.linspace(0, top, 20)
        ax.plot(
            xs,
            xs / best.record.objective,
            "k--",
            linewidth=1,
            label=f"best: {plain(best.record.objective)} req/s per $/h",
        )
    ax.set_xlabel("throughput (req/s)")
    ax.set_ylabel("cost ($/h)")
    ax.set_title(
        "Cost vs throughput of the ok trials (below the dashed line: better than best)"
        if per_dollar
        else "Cost vs throughput of the ok trials (one replica each)"
    )
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    if pts:
        ax.legend(fontsize=8, title="GPU type", title_fontsize=8)
    else:
        ax.text(0.5, 0.5, "no trial succeeded", ha="center", transform=ax.transAxes)
    return _save(fig, path)


def space(data: ReportData, path: Path) -> Path:
    """Per knob: how often each value was tried, by outcome; values never tried are marked."""
    knobs = data.space.knobs
    heights = [max(1.2, 0.28 * k.size + 0.6) for k in knobs]
    fig = Figure(figsize=(8, sum(heights) + 0.4))
    axes = fig.subplots(len(knobs), 1, gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, knob in zip(axes[:, 0], knobs, strict=True):
        counts = data.counts(knob.name)
        labels = [plain(v) if isinstance(v, float) else str(v) for v in knob.values]
        ypos = np.arange(len(labels))
        left = np.zeros(len(labels))
        for outcome in Outcome:
            widths = np.array([counts[v][outcome] for v in knob.values], dtype=float)
            ax.barh(ypos, widths, left=left, color=COLORS[outcome], label=LABELS[outcome])
            left += widths
        for y, total in zip(ypos, left, strict=True):
            if total == 0:
                ax.text(0.05, y, "not tried", va="center", fontsize=7, color="dimgray")
        ax.set_yticks(ypos, labels, fontsize=7)
        ax.invert_yaxis()
        ax.set_ylabel(knob.name, fontsize=9)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.set_xlim(0, max(1.0, float(left.max())) * 1.05)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle("Space explored: trials per knob value")
    axes[-1, 0].set_xlabel("trials")
    axes[0, 0].legend(
        fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=3, frameon=False
    )
    return _save(fig, path)


def skipped(data: ReportData, path: Path) -> Path:
    """Every value never tried: the search's best estimate with it, relative to the best."""
    rows = data.skipped
    fig = Figure(figsize=(8, max(2.0, 0.25 * len(rows) + 1.0)))
    ax = fig.add_subplot()
    labels = [f"{s.knob}={plain(s.value) if isinstance(s.value, float) else s.value}" for s in rows]
    ratios = [s.ratio if s.ratio is not None else 0.0 for s in rows]
    colors = ["lightgray" if s.infeasible or s.ratio is None else "tab:green" for s in rows]
    ypos = np.arange(len(rows))
    ax.barh(ypos, ratios, color=colors)
    for y, s in zip(ypos, rows, strict=True):
        text = (
            "infeasible by the sources"
            if s.infeasible
            else (f"{s.ratio:.2g}×" if s.ratio is not None else "no estimate")
        )
        ax.text((s.ratio or 0.0) + 0.01, float(y), text, va="center", fontsize=7)
    ax.axvline(1.0, color="black", linestyle="--", linewidth=1, label="best measured")
    ax.set_yticks(ypos, labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlim(0, max([1.2, *[r * 1.25 for r in ratios]]))
    ax.set_xlabel("best estimate with this value / best measured objective")
    ax.set_title("Values never tried: the search's estimate (knowledge base + trials)")
    ax.grid(axis="x", alpha=0.3)
    if not rows:
        ax.text(
            0.5, 0.5, "every value of every knob was tried", ha="center", transform=ax.transAxes
        )
    ax.legend(fontsize=7, loc="lower right")
    return _save(fig, path)


#: file name → plot, in the order the page shows them
PLOTS = {
    "objective.png": objective,
    "latency.png": latency,
    "cost.png": cost,
    "space.png": space,
    "skipped.png": skipped,
}
