"""PCA pruning of redundant KOP resource curves.

Curves of one operator measured on the same grid (same number of knob1 and knob2 levels and the
same occupied cells, compared by rank so a relabelled copy over other knobs lands in the same
group) often carry the same information. :func:`prune_redundant_curves` keeps, per group, as many
curves as principal components are needed to explain ``pca_cutoff`` of the variance, and says
which kept curve explains each pruned one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from sklearn.decomposition import PCA

from falcon_operator.core.errors import KnowledgeError
from falcon_operator.knowledge.curves import Curve

_CONSTANT_STD = 1e-12
_LOADING_TIE = 1e-9


@dataclass(frozen=True)
class PruneResult:
    """Kept curves, pruned curves with a reason, and components kept per group (input order)."""

    kept: tuple[Curve, ...]
    pruned: tuple[tuple[Curve, str], ...]
    #: (group label "operator: pair, pair, ...", number of principal components kept)
    n_components: tuple[tuple[str, int], ...]


def _check_cutoff(pca_cutoff: float) -> None:
    if not 0.0 < pca_cutoff <= 1.0:
        raise KnowledgeError(f"pca_cutoff must be in (0, 1], got {pca_cutoff}")


def _fit(matrix: NDArray[np.float64], pca_cutoff: float) -> tuple[int, NDArray[np.float64]]:
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2:
        raise KnowledgeError(f"PCA needs a 2-D matrix, got shape {m.shape}")
    if m.shape[0] < 2 or m.shape[1] == 0 or float(np.var(m, axis=0).sum()) <= 0.0:
        return 0, np.zeros((0, m.shape[1]))
    pca = PCA(svd_solver="full").fit(m)
    cumulative = np.cumsum(pca.explained_variance_ratio_)
    k = int(np.argmax(cumulative >= pca_cutoff - 1e-12)) + 1 if cumulative[-1] > 0 else 0
    return min(k, len(cumulative)), np.asarray(pca.components_, dtype=np.float64)


def pca_components(matrix: NDArray[np.float64], *, pca_cutoff: float) -> int:
    """Fewest principal components whose cumulative explained variance ratio >= ``pca_cutoff``.

    ``matrix`` has one row per sample (grid cell) and one column per variable (curve); it is
    centred by PCA but not scaled here. A matrix without variance (or with fewer than two rows)
    needs 0 components. :class:`KnowledgeError` for a cutoff outside (0, 1] or a non-2-D matrix.
    """
    _check_cutoff(pca_cutoff)
    return _fit(matrix, pca_cutoff)[0]


def _abs_r(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    return float(abs(np.corrcoef(a, b)[0, 1]))


def _prune_group(
    group: list[Curve], pca_cutoff: float
) -> tuple[list[int], list[tuple[int, str]], int]:
    """Kept positions, (pruned position, reason) and k for one group of two or more curves."""
    columns = np.column_stack([c.cell_values() for c in group])
    std = columns.std(axis=0)
    varying = [i for i in range(len(group)) if std[i] > _CONSTANT_STD]
    constant = [i for i in range(len(group)) if std[i] <= _CONSTANT_STD]
    if not varying:  # all constant: one of them stands for the rest
        varying, constant = constant[:1], constant[1:]
    pruned = [(i, "constant") for i in constant]
    if len(varying) == 1:
        return varying, pruned, 1
    sub = columns[:, varying]
    k, components = _fit((sub - sub.mean(axis=0)) / sub.std(axis=0), pca_cutoff)
    chosen: list[int] = []  # positions in ``varying``
    for j in range(k):
        loads = np.abs(components[j])
        free = [i for i in range(len(varying)) if i not in chosen]
        best = max(loads[i] for i in free)
        chosen.append(next(i for i in free if loads[i] >= best - _LOADING_TIE))
    chosen.sort()
    for i in (i for i in range(len(varying)) if i not in chosen):
        rs = [_abs_r(sub[:, i], sub[:, c]) for c in chosen]
        top = int(np.argmax(rs))
        why = f"explained by {group[varying[chosen[top]]].pair} (r={rs[top]:.3f})"
        pruned.append((varying[i], why))
    return [varying[i] for i in chosen], pruned, k


def prune_redundant_curves(curves: Sequence[Curve], *, pca_cutoff: float = 0.99) -> PruneResult:
    """Drop curves that other curves of the same operator and grid already explain.

    Groups: same operator and same rank grid (:meth:`Curve.grid`). In a group of two or more,
    a constant curve is pruned ("constant"); the others' cell values (one row per cell, one
    column per curve, each column standardised) go through PCA. ``k`` = the fewest components
    explaining ``pca_cutoff`` of the variance (:func:`pca_components`). For component
    ``j = 0..k-1`` the not-yet-kept curve with the largest ``|loading|`` is kept (ties: the
    earlier curve); every other curve is pruned with a reason naming the kept curve it correlates
    with most (``|Pearson r|``). Deterministic; kept and pruned follow the input order.
    """
    _check_cutoff(pca_cutoff)
    groups: dict[tuple[str, tuple[tuple[int, int], ...]], list[int]] = {}
    for n, curve in enumerate(curves):
        groups.setdefault((curve.operator, curve.grid()), []).append(n)
    kept: set[int] = set()
    reasons: dict[int, str] = {}
    n_components: list[tuple[str, int]] = []
    for (operator, _), members in groups.items():
        group = [curves[n] for n in members]
        if len(members) == 1:
            kept.add(members[0])
            k = 1
        else:
            keep, pruned, k = _prune_group(group, pca_cutoff)
            kept.update(members[i] for i in keep)
            reasons.update((members[i], why) for i, why in pruned)
        n_components.append((f"{operator}: {', '.join(c.pair for c in group)}", k))
    return PruneResult(
        kept=tuple(curves[n] for n in sorted(kept)),
        pruned=tuple((curves[n], reasons[n]) for n in sorted(reasons)),
        n_components=tuple(n_components),
    )
