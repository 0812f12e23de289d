"""UCT over the region tree: per-leaf acquisition summaries from one scan, and the descent.

A :class:`LeafScan` is filled chunk by chunk with the acquisition of every candidate; per leaf it
keeps the best candidate and, for the "top" value, its ``top_k`` best acquisition values.
:func:`descend` walks from the root to a leaf: a child's score is its value relative to the best
acquisition anywhere plus ``c_uct · sqrt(ln(N_parent + 1) / (n_child + 1))``, ``N`` and ``n``
the tried and pending configurations inside (visits per region). The value is the child's best
acquisition ("max": the descent then ends where the global argmax is, unless the bonus says
otherwise) or the mean of its ``top_k`` best ("top": a region with many promising candidates
beats one with a lone best). Ties go left, to the good region.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from falcon_operator.search.tree import Node, RegionTree

Array = NDArray[np.float64]


@dataclass
class LeafScan:
    """Per-leaf best candidate, its acquisition, and the leaf's top acquisition values."""

    n_leaves: int
    top_k: int = 0
    best_idx: NDArray[np.int64] = field(init=False)
    best_acq: Array = field(init=False)
    tops: list[Array] = field(init=False)

    def __post_init__(self) -> None:
        self.best_idx = np.full(self.n_leaves, -1, dtype=np.int64)
        self.best_acq = np.full(self.n_leaves, -np.inf)
        self.tops = [np.empty(0) for _ in range(self.n_leaves)]

    @property
    def top(self) -> float:
        """The best acquisition anywhere (0 when nothing is left)."""
        finite = self.best_acq[np.isfinite(self.best_acq)]
        return float(finite.max()) if finite.size else 0.0

    def update(self, chunk: NDArray[np.int64], acq: Array, leaves: NDArray[np.int64]) -> None:
        for leaf in np.unique(leaves):
            if leaf < 0:
                continue
            sel = leaves == leaf
            values = acq[sel]
            j = int(np.argmax(values))
            if values[j] > self.best_acq[leaf]:
                self.best_acq[leaf] = values[j]
                self.best_idx[leaf] = chunk[sel][j]
            if self.top_k > 0:
                both = np.concatenate([self.tops[leaf], values])
                k = min(self.top_k, both.size)
                self.tops[leaf] = np.partition(both, both.size - k)[both.size - k :]

    def value(self, leaves: list[int], mode: str) -> float:
        """A region's UCT value from the leaves under it."""
        best = max(self.best_acq[i] for i in leaves)
        if mode != "top" or not np.isfinite(best):
            return float(best)
        both = np.concatenate([self.tops[i] for i in leaves])
        k = min(self.top_k, both.size)
        return float(np.partition(both, both.size - k)[both.size - k :].mean())


def descend(
    tree: RegionTree, scan: LeafScan, visits: NDArray[np.int64], *, c_uct: float, mode: str
) -> int:
    """UCT from the root to a leaf; returns the leaf number."""
    leaf_no = {id(leaf): i for i, leaf in enumerate(tree.leaves)}
    scale = scan.top if scan.top > 0 else 1.0

    def leaves_under(node: Node) -> list[int]:
        return [leaf_no[id(x)] for x in RegionTree._leaves(node)]

    node = tree.root
    while not node.is_leaf:
        n_parent = sum(int(visits[i]) for i in leaves_under(node))
        best_child, best_score = None, -np.inf
        for child in node.children:  # left (good) first: it wins ties
            under = leaves_under(child)
            value = scan.value(under, mode)
            if not np.isfinite(value):
                continue
            n_child = sum(int(visits[i]) for i in under)
            bonus = c_uct * np.sqrt(np.log(n_parent + 1) / (n_child + 1))
            score = value / scale + bonus
            if score > best_score:
                best_child, best_score = child, score
        if best_child is None:
            break
        node = best_child
    under = leaves_under(node)
    return max(under, key=lambda i: scan.best_acq[i])
