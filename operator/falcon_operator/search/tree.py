"""The region tree: model → KOPs → KOP resource curves → good and bad regions of the space.

Each split comes from one KOP-RC: the operator's response over a knob pair, evaluated on the
space's grid of that pair. Cells in the top ``good_fraction`` of the response form the *good*
(left) side, the rest the *bad* (right) side. Splits are ordered by the operator's share of
running time, then by how much the curve varies; the tree applies them level by level up to
``max_depth``, never leaving a side with fewer than ``min_leaf`` candidates. With
``composed_split`` the first split is the model's own composed prediction (knowledge/compose.py):
its top ``good_fraction`` of the space is the good side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from falcon_operator.core.space import Space
from falcon_operator.knowledge.base import Knowledge
from falcon_operator.knowledge.curves import Curve


@dataclass(frozen=True)
class TreeSettings:
    """Shape of the region tree."""

    #: fraction of a curve's grid cells that count as good
    good_fraction: float = 0.5
    #: number of split levels (0: one region, the whole space). Off by default: the tree and its
    #: UCT go-left/go-right changed no measured accuracy (docs/algorithm.md, ablation); 3 is the
    #: paper's MCTS over KOP-RC regions (``falcon bench --ablation``'s ``falcon-tree``)
    max_depth: int = 0
    #: smallest number of candidates on either side of a split
    min_leaf: int = 16
    #: first split by the composed prediction of the model over the whole space (when known)
    composed_split: bool = False
    #: a region's UCT value: "max" (its best acquisition) or "top" (the mean of its
    #: ``top_k`` best), so a region with many good candidates can beat one lone best
    value: str = "max"
    #: candidates averaged by the "top" value
    top_k: int = 16


@dataclass(frozen=True)
class Split:
    """A KOP-RC split: ``good[p1, p2]`` says whether the knob positions are in the good region."""

    operator: str
    pair: str
    knob1: int  #: knob position in the space
    knob2: int
    good: NDArray[np.bool_]
    spread: float = 0.0  #: standard deviation of the curve over the space's grid
    #: a split over whole configurations instead (``good`` is then over the space's indices)
    strides: tuple[int, ...] | None = None

    @property
    def label(self) -> str:
        return f"{self.operator}:{self.pair}"

    def mask(self, codes: NDArray[np.int64]) -> NDArray[np.bool_]:
        if self.strides is not None:
            return np.asarray(self.good[codes @ np.array(self.strides, dtype=np.int64)], dtype=bool)
        return np.asarray(self.good[codes[:, self.knob1], codes[:, self.knob2]], dtype=bool)


def composed_split(space: Space, composed: NDArray[np.float64], good_fraction: float) -> Split:
    """The split of the whole space by the model's composed prediction: its top cells are good."""
    radices = space.radices
    strides = tuple(int(np.prod(radices[j + 1 :], dtype=np.int64)) for j in range(len(radices)))
    cut = np.quantile(composed, 1.0 - good_fraction)
    return Split("model", "composed", -1, -1, composed >= cut, float(np.std(composed)), strides)


@dataclass
class Node:
    """A region: the conjunction of (split, side) on the path from the root."""

    path: tuple[tuple[int, bool], ...]  #: (split number, True = good/left side)
    children: list[Node] = field(default_factory=list)

    @property
    def is_leaf(self) -> bool:
        return not self.children

    def describe(self, splits: Sequence[Split]) -> str:
        if not self.path:
            return "all"
        return " & ".join(f"{splits[s].label}={'good' if g else 'bad'}" for s, g in self.path)


def curve_split(space: Space, curve: Curve, good_fraction: float) -> Split | None:
    if curve.knob1 not in space.names or curve.knob2 not in space.names:
        return None
    j1, j2 = space.names.index(curve.knob1), space.names.index(curve.knob2)
    k1, k2 = space.knobs[j1], space.knobs[j2]
    v1 = np.array([v for v in k1.values for _ in k2.values], dtype=object)
    v2 = np.array([v for _ in k1.values for v in k2.values], dtype=object)
    grid = curve.values(v1, v2).reshape(k1.size, k2.size)
    if np.ptp(grid) <= 1e-12:
        return None
    cut = np.quantile(grid, 1.0 - good_fraction)
    return Split(curve.operator, curve.pair, j1, j2, grid >= cut, float(np.std(grid)))


def ordered_splits(
    space: Space,
    knowledge: Knowledge,
    kops: Sequence[str],
    profile: Mapping[str, float],
    *,
    good_fraction: float,
) -> list[Split]:
    """Splits from the KOP curves, by operator share then variability; duplicates dropped."""
    splits: list[tuple[float, float, Split]] = []
    for op in kops:
        for c in knowledge.curves_of(op):
            s = curve_split(space, c, good_fraction)
            if s is not None:
                splits.append((-profile.get(op, 0.0), -s.spread, s))
    splits.sort(key=lambda t: (t[0], t[1], t[2].label))
    unique: list[Split] = []
    for *_, s in splits:
        if not any(
            u.knob1 == s.knob1 and u.knob2 == s.knob2 and np.array_equal(u.good, s.good)
            for u in unique
        ):
            unique.append(s)
    return unique


class RegionTree:
    """A binary tree of regions; leaves partition the space."""

    def __init__(self, space: Space, splits: Sequence[Split], settings: TreeSettings) -> None:
        self.space = space
        self.splits = list(splits)
        self.settings = settings
        sample = self._sample_codes()
        self.root = Node(())
        frontier = [self.root]
        for depth, split_no in enumerate(range(min(settings.max_depth, len(self.splits)))):
            del depth
            nxt: list[Node] = []
            for node in frontier:
                inside = self.node_mask(node, sample)
                side = self.splits[split_no].mask(sample[inside])
                scale = space.size / max(len(sample), 1)
                if min(side.sum(), (~side).sum()) * scale >= settings.min_leaf:
                    node.children = [
                        Node((*node.path, (split_no, True))),
                        Node((*node.path, (split_no, False))),
                    ]
                    nxt.extend(node.children)
                else:
                    nxt.append(node)
            frontier = nxt
        self.leaves = self._leaves(self.root)

    def _sample_codes(self) -> NDArray[np.int64]:
        n = self.space.size
        idx = np.arange(n) if n <= 200_000 else np.linspace(0, n - 1, 200_000).astype(np.int64)
        return self.space.codes(idx)

    def node_mask(self, node: Node, codes: NDArray[np.int64]) -> NDArray[np.bool_]:
        m = np.ones(len(codes), dtype=bool)
        for split_no, good in node.path:
            s = self.splits[split_no].mask(codes)
            m &= s if good else ~s
        return m

    def leaf_ids(self, codes: NDArray[np.int64]) -> NDArray[np.int64]:
        out = np.full(len(codes), -1, dtype=np.int64)
        for i, leaf in enumerate(self.leaves):
            out[self.node_mask(leaf, codes)] = i
        return out

    @staticmethod
    def _leaves(node: Node) -> list[Node]:
        if node.is_leaf:
            return [node]
        return [leaf for c in node.children for leaf in RegionTree._leaves(c)]

    def describe(self) -> list[str]:
        return [leaf.describe(self.splits) for leaf in self.leaves]


def build_tree(
    space: Space,
    knowledge: Knowledge,
    kops: Sequence[str],
    profile: Mapping[str, float],
    *,
    settings: TreeSettings | None = None,
    composed: NDArray[np.float64] | None = None,
) -> RegionTree:
    st = settings or TreeSettings()
    if st.max_depth <= 0:  # one region: no split is ever used, so none is computed
        return RegionTree(space, [], st)
    splits = ordered_splits(space, knowledge, kops, profile, good_fraction=st.good_fraction)
    if st.composed_split and composed is not None and np.ptp(composed) > 1e-12:
        splits.insert(0, composed_split(space, composed, st.good_fraction))
    return RegionTree(space, splits, st)
