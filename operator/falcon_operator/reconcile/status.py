"""The status the operator writes: phase, conditions, counts, recent trials, the best trial.

Pure functions of plain data. Conditions keep their ``lastTransitionTime`` while their status
does not change. Condition types: SpecValid, Progressing, Ready (a recommendation exists),
Failed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from falcon_operator.core.knobs import GPU
from falcon_operator.core.numbers import rounded
from falcon_operator.core.records import best_trial
from falcon_operator.reconcile.plan import Counts
from falcon_operator.trials.history import TrialEntry, records

Obj = dict[str, Any]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def set_condition(
    conditions: Sequence[Mapping[str, Any]],
    type_: str,
    status: bool,
    reason: str,
    message: str,
    *,
    generation: int,
    now: str,
) -> list[Obj]:
    """``conditions`` with ``type_`` set (transition time kept when the status is unchanged)."""
    text = "True" if status else "False"
    out: list[Obj] = []
    found = False
    for c in conditions:
        if c.get("type") != type_:
            out.append(dict(c))
            continue
        found = True
        changed = c.get("status") != text
        out.append(
            {
                "type": type_,
                "status": text,
                "reason": reason,
                "message": message[:1000],
                "lastTransitionTime": now if changed else c.get("lastTransitionTime", now),
                "observedGeneration": generation,
            }
        )
    if not found:
        out.append(
            {
                "type": type_,
                "status": text,
                "reason": reason,
                "message": message[:1000],
                "lastTransitionTime": now,
                "observedGeneration": generation,
            }
        )
    return out


def trial_summary(entry: TrialEntry) -> Obj:
    """One item of status.recentTrials."""
    r, m = entry.record, entry.record.metrics
    out: Obj = {
        "name": entry.name,
        "index": entry.index,
        "config": dict(r.config),
        "outcome": r.outcome.value,
        "pod": entry.pod,
        "reusedPod": entry.reused,
        "durationSeconds": round(entry.duration_s, 2),
        "finishedAt": entry.finished_at,
    }
    if r.failure is not None:
        out["failure"] = r.failure.value
    if r.objective is not None:
        out["objective"] = rounded(r.objective)
    if r.reason:
        out["reason"] = r.reason[:300]
    for key, name in (("rps", "rps"), ("p99_ms", "p99Ms"), ("cost_per_hour", "costPerHour")):
        if key in m:
            out[name] = rounded(m[key])
    return out


def best_summary(entries: Sequence[TrialEntry]) -> Obj | None:
    best = best_trial(records(entries))
    if best is None or best.objective is None:
        return None
    name = next(e.name for e in entries if e.record is best)
    m = best.metrics
    return {
        "trial": name,
        "config": dict(best.config),
        "objective": rounded(best.objective),
        "rps": rounded(m.get("rps", 0.0)),
        "p99Ms": rounded(m.get("p99_ms", 0.0)),
        "costPerHour": rounded(m.get("cost_per_hour", 0.0)),
        "gpu": str(best.config[GPU]),
    }


def trial_counts(c: Counts, max_trials: int) -> Obj:
    return {
        "done": c.done,
        "ok": c.ok,
        "infeasible": c.infeasible,
        "failed": c.failed,
        "failedCounted": c.failed_counted,
        "running": c.running,
        "max": max_trials,
        "progress": f"{c.done}/{max_trials}",
    }


def progress_status(
    entries: Sequence[TrialEntry],
    counts: Counts,
    *,
    max_trials: int,
    recent: int,
    history_configmap: str,
) -> Obj:
    """The parts of the status that follow the trials."""
    out: Obj = {
        "trials": trial_counts(counts, max_trials),
        "recentTrials": [trial_summary(e) for e in entries[-recent:]] if recent else [],
        "history": {"configMap": history_configmap, "records": len(entries)},
    }
    reused = [e for e in entries if e.reused]
    out["reuse"] = {"trials": len(reused), "savedSeconds": round(sum(e.saved_s for e in reused), 2)}
    best = best_summary(entries)
    if best is not None:
        out["best"] = best
    return out
