"""What one trial costs a user in wall-clock time: pod start, model load, warm-up, measurement.

Two scenarios, each figure with its origin (docs/evaluation.md repeats them):

* ``measured``: the real-Triton mission of the e2e suite (docs/testing.md,
  ``e2e/test_real_mission.py``): ~6 s from pod creation to a ready trial pod (image cached, the
  model loaded by Triton at start), a ~26 s measurement sweep (warm-up and windows), and ~8 s
  for a trial on a reused pod (the operator's reload-instead-of-restart: a batch-size-only change
  reloads the model through Triton's repository API, docs/operator.md "Cheaper trials").
* ``gpu-defaults``: the operator's budget defaults (docs/operator.md: ``warmupSeconds`` 5,
  3 windows of ``measurementSeconds`` 10) with a GPU pod's start and model load that this
  repository has **not** measured: 60 s is assumed (scheduling on a warm node, CUDA
  initialisation, loading a model of a few hundred MB), and 5 s for a repository-API reload.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from falcon_operator.core.space import Config

BATCH_KNOBS = ("batchsize", "batch", "batch_size")


@dataclass(frozen=True)
class TrialCost:
    """Seconds a trial takes: on a fresh pod, and on a pod reused for a batch-only change."""

    name: str
    origin: str
    pod_start_s: float  #: creation to ready, model load included
    measure_s: float  #: warm-up and measurement windows
    #: a whole trial on a reused pod: the repository-API reload, warm-up and measurement
    reused_s: float

    @property
    def fresh_s(self) -> float:
        return self.pod_start_s + self.measure_s


MEASURED = TrialCost(
    "measured",
    "docs/testing.md, e2e/test_real_mission.py: ~6 s to a ready pod, ~26 s sweep, "
    "reused trials ~8 s",
    pod_start_s=6.0,
    measure_s=26.0,
    reused_s=8.0,
)
GPU_DEFAULTS = TrialCost(
    "gpu-defaults",
    "budget defaults (5 s warm-up, 3 × 10 s windows); 60 s GPU pod start and 5 s reload assumed",
    pod_start_s=60.0,
    measure_s=35.0,
    reused_s=40.0,
)
SCENARIOS: tuple[TrialCost, ...] = (MEASURED, GPU_DEFAULTS)


def batch_only_change(a: Mapping[str, object], b: Mapping[str, object]) -> bool:
    """Whether ``b`` differs from ``a`` in the batch size alone (the operator reuses the pod)."""
    differ = {k for k in a.keys() | b.keys() if a.get(k) != b.get(k)}
    return len(differ) == 1 and next(iter(differ)) in BATCH_KNOBS


def trial_seconds(configs: Sequence[Config], cost: TrialCost) -> list[float]:
    """Each trial's wall-clock cost, in order: fresh unless a batch-only change of the one
    before (one trial at a time, as ``maxParallelTrials: 1``)."""
    out: list[float] = []
    for i, config in enumerate(configs):
        reused = i > 0 and batch_only_change(configs[i - 1], config)
        out.append(cost.reused_s if reused else cost.fresh_s)
    return out


def online_seconds(
    configs: Sequence[Config], latencies: Sequence[float], cost: TrialCost
) -> list[float]:
    """Cumulative online time after each trial: every suggestion's latency plus the trial."""
    total, out = 0.0, []
    for seconds, latency in zip(trial_seconds(configs, cost), latencies, strict=False):
        total += seconds + latency
        out.append(total)
    return out
