"""Triton Model Analyzer's quick search, written from its documentation, on Falcon's knobs.

Model Analyzer's ``--run-config-search-mode quick`` is documented as a heuristic sweep by
hill-climbing that sparsely searches max batch size, dynamic batching and instance count,
starting from the smallest configuration (see docs/algorithm.md for the pages followed). Here:

- **Start** at the smallest configuration: every ordinal knob at its lowest value; among
  configurations equally small, the cheapest under the search's prices, then the first.
- **Neighbours** differ in one knob by one step (ordinal: the next value up or down;
  categorical: any other value), i.e. coordinate moves; distance is the number of such steps.
- **Climb**: the incumbent is the best configuration measured so far; the next trial is the
  untried configuration nearest to it (ties broken by the seed). A better neighbour becomes the
  incumbent at once, so the search walks uphill one coordinate move at a time.
- **Stop**: when every neighbour of the incumbent has been measured and none is better,
  ``should_stop`` says so. With budget left (the benchmark runs every method to its budget) the
  neighbourhood widens to distance 2, 3, … around the same incumbent.

Failed and infeasible trials are never incumbents; the space's constraints and the sources'
feasibility (search/cold.py) decide which configurations are candidates at all.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from falcon_operator.core.records import History
from falcon_operator.search.baselines import candidates
from falcon_operator.search.cold import ColdStrategy, Index
from falcon_operator.search.strategy import SearchState, derive_rng, search_state


class TritonQuickStrategy(ColdStrategy):
    name = "triton-quick"

    def steps(self, idx: Index, centre: int) -> NDArray[np.int64]:
        """Coordinate steps from ``centre`` to each of ``idx``."""
        codes, c = self.space.codes(idx), self.space.codes(np.array([centre]))[0]
        out = np.zeros(idx.size, dtype=np.int64)
        for j, knob in enumerate(self.space.knobs):
            diff = np.abs(codes[:, j] - c[j])
            out += (diff > 0).astype(np.int64) if knob.kind == "categorical" else diff
        return out

    def smallest(self, idx: Index) -> int:
        """The smallest of ``idx``: lowest ordinal positions, then cheapest, then first."""
        codes = self.space.codes(idx)
        size = sum(
            (codes[:, j] for j, k in enumerate(self.space.knobs) if k.kind == "ordinal"),
            start=np.zeros(idx.size, dtype=np.int64),
        )
        cost = (
            self.objective.cost_function(self.space)(idx)
            if self.objective is not None
            else np.zeros(idx.size)
        )
        return int(idx[np.lexsort((idx, cost, size))[0]])

    def incumbent(self, state: SearchState) -> int:
        """The best measured configuration, or the smallest allowed one before any success."""
        if state.ok_idx.size:
            return int(state.ok_idx[int(np.argmax(state.ok_y))])
        allowed = candidates(self.space, frozenset())
        keep = ~self.vetoed(allowed)
        return self.smallest(allowed[keep] if keep.any() else allowed)

    def _suggest_indices(self, state: SearchState, n: int) -> list[int]:
        cand = self.open_candidates(state, n)
        centre = self.incumbent(state)
        rng = derive_rng(self.seed, self.name, state.n_done, len(state.excluded))
        order = np.lexsort((rng.random(cand.size), self.steps(cand, centre)))
        return [int(i) for i in cand[order[:n]]]

    def should_stop(self, history: History) -> bool:
        """At a local optimum: every neighbour of the best configuration measured, none better."""
        state = search_state(self.space, history, ())
        if not state.ok_idx.size:
            return False
        cand = self.open_candidates(state)
        return not bool((self.steps(cand, self.incumbent(state)) <= 1).any())
