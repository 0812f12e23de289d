"""The operator's own Prometheus metrics (served by ``falcon operator run --metrics-port``).

Kept apart from :mod:`falcon_operator.metrics`, which reads *Triton's* metrics. Names:

- ``falcon_searches{phase}`` — searches this operator handles, by phase
- ``falcon_trials_total{outcome}`` — finished trials (ok, infeasible, failed)
- ``falcon_suggestion_seconds`` — time the strategy took per suggestion call
- ``falcon_best_objective{namespace,search}`` — best objective value so far (the search's
  metric: requests/s per dollar-hour, or 1 / the target fleet's $/h; docs/prices.md)
- ``falcon_pod_reuse_saved_seconds_total`` — pod start-up time saved by reusing trial pods
- ``falcon_simulation_cpu_seconds_total`` — CPU time the simulated fleet took
  (``--simulate-trials`` only): what of the operator's CPU is the stand-in for Triton, not the
  operator (``make bench-operator`` reports the two apart)
"""

from __future__ import annotations

import contextlib
import threading

from prometheus_client import Counter, Gauge, Histogram

PHASES = ("Pending", "Running", "Succeeded", "Failed")

SEARCHES = Gauge("falcon_searches", "InferenceConfigSearches by phase", ["phase"])
TRIALS = Counter("falcon_trials", "Finished trials by outcome", ["outcome"])
SUGGESTION = Histogram(
    "falcon_suggestion_seconds",
    "Time the search strategy took to suggest configurations",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
BEST = Gauge(
    "falcon_best_objective",
    "Best objective value found so far (requests per second per dollar-hour, or for "
    "CostAtTargetThroughput 1 / the $/h of the replicas serving the target)",
    ["namespace", "search"],
)
SAVED = Counter(
    "falcon_pod_reuse_saved_seconds", "Pod start-up seconds saved by reusing trial pods"
)

SIMULATION = Counter(
    "falcon_simulation_cpu_seconds",
    "CPU seconds the simulated fleet took measuring trials (--simulate-trials only)",
)

_phases: dict[tuple[str, str], str] = {}
_lock = threading.Lock()


def _publish() -> None:
    counts = dict.fromkeys(PHASES, 0)
    for phase in _phases.values():
        counts[phase] = counts.get(phase, 0) + 1
    for phase, n in counts.items():
        SEARCHES.labels(phase=phase).set(n)


def set_phase(namespace: str, name: str, phase: str) -> None:
    with _lock:
        _phases[(namespace, name)] = phase
        _publish()


def forget(namespace: str, name: str) -> None:
    """A search is gone: drop it from every gauge."""
    with _lock:
        _phases.pop((namespace, name), None)
        _publish()
    with contextlib.suppress(KeyError):
        BEST.remove(namespace, name)


def set_best(namespace: str, name: str, objective: float) -> None:
    BEST.labels(namespace=namespace, search=name).set(objective)


def trial_finished(outcome: str) -> None:
    TRIALS.labels(outcome=outcome).inc()


def suggestion_took(seconds: float) -> None:
    SUGGESTION.observe(seconds)


def pod_reuse_saved(seconds: float) -> None:
    SAVED.inc(max(seconds, 0.0))


def simulation_took(seconds: float) -> None:
    """CPU seconds the simulated fleet spent on a measurement (trials/simulated.py)."""
    SIMULATION.inc(max(seconds, 0.0))
