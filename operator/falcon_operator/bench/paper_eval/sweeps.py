"""Evaluations 5 and 6: robustness of Falcon to the KOP threshold and to the PCA cut-off.

The threshold only acts through the region tree (which operators' curves split the space) and
PCA only through the curves the offline build keeps, and both mechanisms are off by default
(docs/algorithm.md, Ablation). So each sweep runs Falcon with the tree on (``falcon-tree``, the
ablation's variant) and one setting at each value: ``falcon-tree-kop@<t>`` (bench/ablation.py
``sweep_variant``), and ``falcon-tree-pca@<c>`` with PCA on and its cut-off at ``c``.
``falcon-tree`` (threshold 0.8, PCA off) is each sweep's reference in the paired comparison.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from falcon_operator.bench.ablation import SWEEP_KOP, SWEEP_PCA
from falcon_operator.bench.runs import RunResult
from falcon_operator.bench.stats import Interval, WinTieLoss
from falcon_operator.bench.summary import summarise

BASE = "falcon-tree"
KOP_VALUES: tuple[float, ...] = (0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
PCA_VALUES: tuple[float, ...] = (0.8, 0.9, 0.95, 0.99, 0.999)


@dataclass(frozen=True)
class Sweep:
    """A setting's sweep: per value, accuracy at each checkpoint and the pairing with the base."""

    setting: str
    values: tuple[float, ...]
    checkpoints: tuple[int, ...]
    accuracy: dict[float, dict[int, Interval]]
    #: value -> checkpoint -> base vs the value's variant (positive: the base did better)
    paired: dict[float, dict[int, WinTieLoss]]

    def spread(self, k: int) -> float:
        """Largest minus smallest mean accuracy over the values at checkpoint ``k``."""
        means = [self.accuracy[v][k].mean for v in self.values]
        return max(means) - min(means)


def method_names(setting: str, values: Sequence[float]) -> list[str]:
    prefix = SWEEP_KOP if setting == "kop" else SWEEP_PCA
    return [f"{prefix}{v:g}" for v in values]


def sweep(
    setting: str, values: Sequence[float], runs: Sequence[RunResult], checkpoints: Sequence[int]
) -> Sweep:
    """Summarise the ``runs`` of one sweep (its variants' and the base's)."""
    names = method_names(setting, values)
    mine = [r for r in runs if r.method in (*names, BASE)]
    summary = summarise(mine, checkpoints, reference=BASE)
    accuracy = {
        v: {k: summary.methods[n].at[k].ci95 for k in summary.checkpoints}
        for v, n in zip(values, names, strict=True)
    }
    paired = {v: dict(summary.paired.get(n, {})) for v, n in zip(values, names, strict=True)}
    return Sweep(setting, tuple(values), summary.checkpoints, accuracy, paired)
