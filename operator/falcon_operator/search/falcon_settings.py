"""The settings of Falcon's MCTS-BO (search/falcon.py), one documented dataclass.

Every field is documented in docs/algorithm.md's settings table; defaults were chosen on the
validation protocols (leave-one-source-out), and a mechanism whose ablation showed no gain is off
by default (the region tree: ``tree.max_depth=0``; the curve-composed prior: ``compose``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from falcon_operator.search.surrogate import SurrogateSettings
from falcon_operator.search.tree import TreeSettings


@dataclass(frozen=True)
class FalconSettings:
    """Tuning of MCTS-BO (documented in docs/algorithm.md)."""

    #: weight of the UCT exploration bonus (0: follow the acquisition alone)
    c_uct: float = 0.05
    #: temperature of the source re-weighting (0: plain mean of the sources; 1: the plain
    #: Bayesian posterior). Chosen by leave-one-source-out validation (docs/algorithm.md).
    source_temperature: float = 10.0
    #: temperature of the operator-profile prior over sources, in L1 units of time shares
    #: (0: every source equally likely before the first trials)
    profile_temperature: float = 0.0
    #: EI's improvement margin, in objective units
    xi: float = 0.0
    #: optional stop: the best EI left is below this fraction of the best objective
    stop_ei_fraction: float = 1e-3
    #: trials before the optional stop may fire
    stop_min_trials: int = 6
    #: key-operator threshold; None: the knowledge base's
    kop_threshold: float | None = None
    #: candidates scored per chunk (bounds memory on large spaces)
    chunk: int = 32768
    #: with source tables, the residual GP measures distance between configurations by how the
    #: sources rated them (search/feature_gp.py) instead of by their knob values
    knowledge_features: bool = True
    #: with source tables, the acquisition is multiplied by (share of similar sources that ran
    #: at the configuration) to this power (0: ignore the sources' infeasible cells)
    source_feasibility_power: float = 8.0
    #: chance that a source's runnable / infeasible cell disagrees with the target's
    source_feasibility_error: float = 0.1
    #: relative change of the posterior mean (and the sources' ran share) within which a knob
    #: does not matter at a pending configuration (search/twins.py); None: believer only
    twin_tolerance: float | None = 0.1
    #: with source tables, the target's prediction composed from its operator profile and the
    #: KOP curves (knowledge/compose.py) joins the sources as one more row of the re-weighting;
    #: off by default: it lost on validation (docs/algorithm.md)
    compose: bool = False
    #: floor of a curve cell's relative throughput in the composition
    compose_floor: float = 0.05
    #: L1 profile distance scale of the composed row's prior weight (see Prior.row_weights)
    compose_distance: float = 1.0
    #: the composed row's prior weight when the target's profile is like a source's (or unknown)
    compose_min_weight: float = 0.05
    tree: TreeSettings = field(default_factory=TreeSettings)
    surrogate: SurrogateSettings = field(default_factory=SurrogateSettings)
    #: the surrogate when the prior comes from KOP curves (log space; spread in log units)
    curve_surrogate: SurrogateSettings = field(
        default_factory=lambda: SurrogateSettings(prior_spread=1.0)
    )
