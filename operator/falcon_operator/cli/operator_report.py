"""The report of an operator search, from what the cluster holds: the InferenceConfigSearch
object (spec and status) and its trial history (the ``<search>-trials`` ConfigMap's entries).

The engine is rebuilt from the spec exactly as the operator builds it (reconcile/engine.py),
so the values it did not try are explained with the search's own knowledge. The caller fetches
the objects and supplies the knowledge (the operator's: ``reconcile.prepare.search_knowledge``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from falcon_operator.core.catalog import load_catalog
from falcon_operator.knowledge.base import Knowledge
from falcon_operator.reconcile.engine import build_engine
from falcon_operator.report.data import ReportData, build
from falcon_operator.spec import PriceOverrides, ResolvedSearch, parse_spec, resolve
from falcon_operator.spec.constants import KIND
from falcon_operator.trials.history import TrialEntry, records


def operator_report(
    search: Mapping[str, Any],
    entries: Sequence[TrialEntry],
    *,
    knowledge: Callable[[ResolvedSearch], Knowledge],
    profile: Mapping[str, float] | None,
    prices: PriceOverrides | None = None,
) -> ReportData:
    """The report of the InferenceConfigSearch ``search`` whose history is ``entries``."""
    meta = search.get("metadata") or {}
    status = search.get("status") or {}
    spec = parse_spec(search.get("spec"))
    rs = resolve(spec, load_catalog(), prices=prices)
    engine = build_engine(rs, knowledge(rs), profile=profile)
    ordered = sorted(entries, key=lambda e: e.index)
    details = {
        "search": f"{KIND} {meta.get('namespace', '?')}/{meta.get('name', '?')}",
        "phase": str(status.get("phase") or "Pending"),
        "message": str(status.get("message") or ""),
        "algorithm": f"{spec.algorithm.name}, seed {spec.algorithm.seed}",
        "budget": f"{spec.budget.max_trials} trials",
    }
    if status.get("finishedAt"):
        details["finished"] = str(status["finishedAt"])
    return build(
        f"Search report: {meta.get('namespace', '?')}/{meta.get('name', '?')}",
        rs.space,
        records(ordered),
        strategy=engine.falcon_strategy(),
        slo_p99_ms=spec.objective.slo_p99_ms,
        labels=[e.name for e in ordered],
        goal=rs.objective,
        details={k: v for k, v in details.items() if v},
    )
