"""The head-to-head report of ``make bench-live``: per model, every method's figures side by side.

Columns (docs/live.md, "Reading the head-to-head"):

- **measured**: configurations the method measured; **wall s**: its whole run;
- **@6, @15, found**: the best objective (requests/s per core, p99 under the SLO) among its first
  6, first 15 and all measurements, *as its own tool measured them* (``falcon-trial`` for ours,
  ``perf_analyzer`` for Model Analyzer: the two differ, see the docs);
- **referee**: its recommendation re-measured by one referee (``falcon-trial``, a fresh server
  each time, no SLO applied): the median throughput per core, its coefficient of variation,
  and in how many repeats the p99 met the SLO;
- **× brute**: the referee's median over the referee's median of brute mode's recommendation;
- **@6 × brute**: for the methods ``falcon-trial`` measures (the referee's tool), the best of
  their first 6 measurements over that same brute value: the issue's "95 % of brute mode's
  best within 6 measurements", in one tool's units;
- **to match quick**: the measurements it needed before measuring (in referee units) as much as
  the referee measured quick mode's recommendation.
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import mean, median

from falcon_operator.live.runs import MethodRun, cv

QUICK, BRUTE = "analyzer-quick", "analyzer-brute"


def _num(value: float | None, fmt: str = ".1f") -> str:
    return "–" if value is None else format(value, fmt)


def referee_value(run: MethodRun | None) -> float | None:
    """The median throughput per core of the referee's repeats that ran (None: none did)."""
    ran = [r.per_core for r in run.referee if r.ran] if run is not None else []
    return median(ran) if ran else None


def _noise(run: MethodRun) -> float | None:
    return cv([r.per_core for r in run.referee if r.ran])


def model_table(runs: Sequence[MethodRun], *, slo_p99_ms: float) -> list[str]:
    """The markdown table of one model's runs."""
    by = {r.method: r for r in runs}
    brute, quick = referee_value(by.get(BRUTE)), referee_value(by.get(QUICK))
    lines = [
        "| method | space | measured by | measured | wall s | @6 | @15 | found | referee (CV) "
        "| SLO met | × brute | @6 × brute | to match quick |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        ref = referee_value(r)
        noise = _noise(r)
        met = f"{sum(x.meets(slo_p99_ms) for x in r.referee)}/{len(r.referee)}"
        found = r.best.objective if r.best else None
        at6 = r.best_after(6)
        ours = r.measured_by == "falcon-trial"
        at6_brute = at6 / brute if ours and at6 is not None and brute else None
        if r.method == QUICK:
            match = str(len(r.steps))
        elif quick is None or r.measured_by != "falcon-trial":
            match = "–"
        else:
            n = r.reached(quick)
            match = str(n) if n is not None else f"not in {len(r.steps)}"
        lines.append(
            f"| {r.method} | {r.space} | {r.measured_by} | {len(r.steps)} | {r.wall_s:.0f} "
            f"| {_num(r.best_after(6))} | {_num(r.best_after(15))} | {_num(found)} "
            f"| {_num(ref)} ({_num(None if noise is None else 100 * noise, '.0f')} %) | {met} "
            f"| {_num(None if ref is None or not brute else ref / brute, '.3f')} "
            f"| {_num(at6_brute, '.3f')} | {match} |"
        )
    return lines


def report(runs: Sequence[MethodRun], *, slo_p99_ms: float, header: str = "") -> str:
    """The whole report: one table per model, then the noise over every referee."""
    models = sorted({r.model for r in runs})
    out = [header] if header else []
    for model in models:
        rows = model_table([r for r in runs if r.model == model], slo_p99_ms=slo_p99_ms)
        out += [f"### {model} (p99 SLO {slo_p99_ms:g} ms)", "", *rows, ""]
    noise = [c for r in runs if (c := _noise(r)) is not None]
    if noise:
        out.append(
            f"Noise: the coefficient of variation between repeated referee measurements of one "
            f"configuration is {100 * mean(noise):.1f} % on average, {100 * max(noise):.1f} % at "
            f"most ({len(noise)} configurations)."
        )
    return "\n".join(out) + "\n"
