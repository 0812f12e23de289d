"""Why the search chose what it chose: its estimate for every configuration it did not try.

The search's view of a configuration is Falcon's surrogate: the knowledge base's prior (source
models profiled on the same space, or KOP curves), corrected by the trials measured so far, and
the share of similar source models that ran there at all. Both are rebuilt from the history
alone, so an explanation can be made at any time, for a live search or an old one.

For every knob value that no trial used, :func:`skipped` says why: the best estimate of any
configuration with that value relative to the best measured objective, or that the sources say
it does not run. :func:`why_line` turns the GPU types into the one line of ``status.best.why``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from falcon_operator.core.knobs import BATCH, GPU
from falcon_operator.core.numbers import objective, plain
from falcon_operator.core.objective import Objective
from falcon_operator.core.records import TrialRecord, best_trial
from falcon_operator.core.space import Value
from falcon_operator.report.messages import short_config
from falcon_operator.search.falcon import FalconStrategy
from falcon_operator.search.strategy import search_state
from falcon_operator.search.surrogate import LogPriorGP

#: a knob value counts as runnable when at least this share of similar source models ran with it
RAN_THRESHOLD = 0.5
#: GPU types named one by one in the why line; the rest are summarised
WHY_NAMES = 3

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Skipped:
    """A knob value no trial used, and the search's estimate for it."""

    knob: str
    value: Value
    #: best estimate of a configuration with this value over the best measured objective
    ratio: float | None
    #: best estimate of a configuration with this value (objective units)
    estimate: float | None
    #: largest share of similar source models that ran with it (None: no source tables)
    ran: float | None
    reason: str

    @property
    def infeasible(self) -> bool:
        return self.ran is not None and self.ran < RAN_THRESHOLD


@dataclass(frozen=True)
class Estimates:
    """The search's estimate at every configuration of the space (feasible indices only)."""

    idx: NDArray[np.int64]
    estimate: Array
    ran: Array | None


def estimates(strategy: FalconStrategy, history: Sequence[TrialRecord]) -> Estimates:
    """Posterior mean (objective units) and sources' run share everywhere in the space."""
    space = strategy.space
    state = search_state(space, history, ())
    gp = strategy.surrogate(state)
    idx = space.all_indices()
    mu, _ = gp.predict(idx)
    est = np.exp(mu) if isinstance(gp, LogPriorGP) else mu
    ran = strategy.prior.ran_fraction(idx, source_weights=strategy.feasibility_weights(state))
    return Estimates(idx, np.asarray(est, dtype=float), ran)


def _ratio_text(ratio: float) -> str:
    return f"{ratio:.2g}×"


def skipped(
    strategy: FalconStrategy,
    history: Sequence[TrialRecord],
    *,
    est: Estimates | None = None,
    goal: Objective | None = None,
) -> list[Skipped]:
    """Every knob value of the space that no trial used, with the reason it was skipped."""
    space = strategy.space
    est = est or estimates(strategy, history)
    best = best_trial(history)
    top = best.objective if best is not None else None
    out = []
    for j, knob in enumerate(space.knobs):
        tried = {knob.position(r.config[knob.name]) for r in history if knob.name in r.config}
        codes = space.codes(est.idx)[:, j]
        for pos, value in enumerate(knob.values):
            if pos in tried:
                continue
            mask = codes == pos
            if not mask.any():
                continue
            ran = float(est.ran[mask].max()) if est.ran is not None else None
            runnable = mask if est.ran is None else mask & (est.ran >= RAN_THRESHOLD)
            if ran is not None and ran < RAN_THRESHOLD:
                share = "none" if ran == 0 else f"at most {ran:.0%}"
                out.append(
                    Skipped(
                        knob.name,
                        value,
                        None,
                        None,
                        ran,
                        f"infeasible according to the sources: {share} of the similar source "
                        "models ran with it",
                    )
                )
                continue
            value_best = float(est.estimate[runnable].max())
            ratio = value_best / top if top else None
            if ratio is None:
                reason = f"not tried; estimated at most {objective(value_best, goal)}"
            elif ratio < 1:
                reason = f"estimated at most {_ratio_text(ratio)} of the best measured"
            else:
                reason = (
                    f"estimated up to {_ratio_text(ratio)} of the best measured, "
                    "but not reached within the trial budget"
                )
            out.append(Skipped(knob.name, value, ratio, value_best, ran, reason))
    return out


def _join(items: Sequence[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def why_line(history: Sequence[TrialRecord], skips: Sequence[Skipped], *, knob: str = GPU) -> str:
    """One line: the winner, and why the other values of ``knob`` lost or were not tried."""
    best = best_trial(history)
    if best is None or best.objective is None:
        return ""
    ok = sum(r.ok for r in history)
    main = {k: v for k, v in best.config.items() if k in (GPU, BATCH)}
    head = f"{short_config(main or best.config)}: best measured of {ok} ok trials"
    parts = [head]
    if knob in best.config:
        winner = best.config[knob]
        others: dict[Value, float] = {}
        for r in history:
            v = r.config.get(knob)
            if r.ok and v != winner and v is not None and r.objective is not None:
                others[v] = max(others.get(v, 0.0), r.objective)
        if others:
            v, y = max(others.items(), key=lambda kv: kv[1])
            what = "GPU type" if knob == GPU else knob
            parts.append(f"next best {what} {v} measured {_ratio_text(y / best.objective)} of it")
        mine = [s for s in skips if s.knob == knob]
        est = sorted((s for s in mine if s.ratio is not None), key=lambda s: -(s.ratio or 0))
        if est:
            named = est[:WHY_NAMES]
            text = (
                f"{_join([str(s.value) for s in named])} estimated "
                f"{_join([_ratio_text(s.ratio or 0) for s in named])} of it by the knowledge "
                "base, not tried"
            )
            if len(est) > WHY_NAMES:
                rest = est[WHY_NAMES:]
                text += f" ({len(rest)} more at most {_ratio_text(rest[0].ratio or 0)})"
            parts.append(text)
        bad = [str(s.value) for s in mine if s.infeasible]
        if bad:
            shown = _join(bad[:WHY_NAMES]) + (
                f" and {len(bad) - WHY_NAMES} more" if len(bad) > WHY_NAMES else ""
            )
            parts.append(f"{shown} infeasible according to the sources")
        if not mine:
            parts.append(f"every {knob} tried")
    return "; ".join(parts)


def explain(
    strategy: FalconStrategy, history: Sequence[TrialRecord], *, goal: Objective | None = None
) -> str:
    """The why line of a search from its strategy and history ("" before any success)."""
    if best_trial(history) is None:
        return ""
    return why_line(history, skipped(strategy, history, goal=goal))


def best_text(best: TrialRecord, *, goal: Objective | None = None) -> str:
    """The winner in a few words, for headings."""
    return f"{short_config(best.config)}: {objective(best.objective or 0.0, goal)}, " + (
        f"p99 {plain(best.metrics['p99_ms'])} ms" if "p99_ms" in best.metrics else "no p99"
    )
