"""Falcon with one mechanism switched off (or on) at a time: ``falcon bench``'s ablation variants.

Each variant is a bench-only method name (``falcon-no-kfeatures``, …) that maps to Falcon with
the default settings except the fields of one mechanism (:class:`Variant`); a mechanism that is
off by default because it showed no gain (the region tree and its UCT, PCA, the curve-composed
prior) gets a variant that switches it on (``falcon-tree``, ``falcon-tree-pca``, …).
A variant runs through the same runner as every other method (its own random stream per
(method, target, seed), bench/streams.py) and is compared, paired on the same (target, seed),
with ``falcon`` (bench/summary.py). Mechanisms that sit in the offline knowledge build (PCA)
carry their own :class:`KnowledgeSettings`; bench/ablation_jobs.py builds their knowledge from
the same sources.

:data:`NOT_ON_PATH` names the mechanisms that no suggestion depends on, so the ablation table
says so instead of faking a switch. docs/algorithm.md's ablation table is generated from this
module and a run's ``results.json`` (bench/ablation_doc.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass, replace

from falcon_operator.core.objective import Objective
from falcon_operator.core.space import Space
from falcon_operator.knowledge.base import Knowledge, KnowledgeSettings
from falcon_operator.search.falcon_settings import FalconSettings
from falcon_operator.search.registry import make_strategy
from falcon_operator.search.strategy import Strategy

REFERENCE = "falcon"


@dataclass(frozen=True)
class Variant:
    """Falcon with one mechanism switched off (or on, for a mechanism off by default)."""

    name: str
    mechanism: str
    #: how the mechanism enters the search path today
    path: str
    #: how the variant switches it off (or on)
    switch: str
    falcon: FalconSettings
    #: the offline build's settings, when the mechanism lives there (None: the bench's own)
    knowledge: KnowledgeSettings | None = None


_DEFAULT = FalconSettings()
#: the paper's MCTS: the region tree three levels deep (off by default, docs/algorithm.md)
_TREE = replace(_DEFAULT, tree=replace(_DEFAULT.tree, max_depth=3))

VARIANTS: Mapping[str, Variant] = {
    v.name: v
    for v in (
        Variant(
            REFERENCE,
            "none (full Falcon)",
            "-",
            "default settings",
            _DEFAULT,
        ),
        Variant(
            "falcon-tree",
            "tree + UCT (KOP-RC regions; off by default: this variant switches it on)",
            "`RegionTree` leaves from the KOPs' curves; UCT picks the leaf, EI the configuration",
            "`tree.max_depth=3` (the default 0 is one region: the acquisition's argmax)",
            _TREE,
        ),
        Variant(
            "falcon-tree-no-uct",
            "UCT go-right bonus (with the tree on)",
            "`c_uct`: exploration bonus towards less visited regions",
            "`tree.max_depth=3`, `c_uct=0`: the leaf with the best acquisition wins",
            replace(_TREE, c_uct=0.0),
        ),
        Variant(
            "falcon-tree-kop-all",
            "KOP threshold (with the tree on)",
            "`Prior.kops`: the operators whose curves split the tree (and weight a curve prior)",
            "`tree.max_depth=3`, `kop_threshold=1.0`: every operator with a share is a KOP",
            replace(_TREE, kop_threshold=1.0),
        ),
        Variant(
            "falcon-tree-pca",
            "PCA (with the tree on; off by default)",
            "offline: `build_knowledge` drops curves PCA calls redundant; fewer tree splits",
            "`tree.max_depth=3`, `KnowledgeSettings.pca=True` (cut-off 0.99)",
            _TREE,
            KnowledgeSettings(pca=True),
        ),
        Variant(
            "falcon-compose",
            "curve-composed prior (KOP-RCs; off by default: this variant switches it on)",
            "knowledge/compose.py: the target's prediction composed from its operator shares "
            "and the KOP curves joins the sources as one more row of the re-weighting",
            "`compose=True`",
            replace(_DEFAULT, compose=True),
        ),
        Variant(
            "falcon-compose-split",
            "curve-composed prior and the tree's first split by it (off by default: on here)",
            "as `falcon-compose`, with the tree on and its first split the composed "
            "prediction's good half (search/tree.py `composed_split`)",
            "`compose=True`, `tree.max_depth=3`, `tree.composed_split=True`",
            replace(_TREE, compose=True, tree=replace(_TREE.tree, composed_split=True)),
        ),
        Variant(
            "falcon-no-kfeatures",
            "knowledge-feature GP",
            "residual GP over how the sources rated a configuration (search/feature_gp.py)",
            "`knowledge_features=False`: GP over knob values",
            replace(_DEFAULT, knowledge_features=False),
        ),
        Variant(
            "falcon-no-reweight",
            "source re-weighting",
            "prior mean = sources weighted by how well each explains the target's trials",
            "`source_temperature=0`: plain mean of the sources",
            replace(_DEFAULT, source_temperature=0.0),
        ),
        Variant(
            "falcon-no-source-feasibility",
            "source feasibility",
            "acquisition × (share of similar sources that ran there)^`source_feasibility_power`",
            "`source_feasibility_power=0`",
            replace(_DEFAULT, source_feasibility_power=0.0),
        ),
    )
}

#: mechanisms no suggestion depends on: (mechanism, where it is used instead)
NOT_ON_PATH: tuple[tuple[str, str], ...] = (
    (
        "KOP-RC shapes (slope / convex / concave / plane)",
        "only the `falcon kb build` report (`knowledge/base.curve_shapes`); the tree and the "
        "curve prior use the curves' values, never their class, so there is nothing to switch "
        "off. The curves themselves enter through the tree (`falcon-tree`, off by default) "
        "and, where no source table fits the space, the curve prior",
    ),
)


def settings_diff(a: object, b: object, prefix: str = "") -> set[str]:
    """Dotted names of the (nested dataclass) fields whose values differ between ``a`` and ``b``."""
    out: set[str] = set()
    if not (is_dataclass(a) and is_dataclass(b)) or type(a) is not type(b):
        return {prefix} if a != b else out
    for f in fields(a):
        x, y = getattr(a, f.name), getattr(b, f.name)
        name = f"{prefix}.{f.name}" if prefix else f.name
        if is_dataclass(x) and is_dataclass(y):
            out |= settings_diff(x, y, name)
        elif x != y:
            out.add(name)
    return out


def changes(variant: Variant) -> set[str]:
    """What the variant changes: ``falcon.<field>`` and ``knowledge.<field>`` names."""
    diff = {f"falcon.{n}" for n in settings_diff(_DEFAULT, variant.falcon)}
    if variant.knowledge is not None:
        base = KnowledgeSettings()
        diff |= {f"knowledge.{n}" for n in settings_diff(base, variant.knowledge)}
    return diff


#: sweep variants (``make paper-eval``, evaluations 5 and 6): ``<prefix><value>``, the tree on
SWEEP_KOP = "falcon-tree-kop@"  #: Falcon's KOP threshold = value
SWEEP_PCA = "falcon-tree-pca@"  #: the offline build's PCA on, its cut-off = value


def sweep_variant(name: str) -> Variant | None:
    """The variant a sweep name stands for (the tree on, one setting at ``value`` in (0, 1]),
    or None when ``name`` is not a sweep name."""
    for prefix in (SWEEP_KOP, SWEEP_PCA):
        if name.startswith(prefix):
            try:
                value = float(name[len(prefix) :])
            except ValueError:
                return None
            if not 0.0 < value <= 1.0:
                return None
            if prefix == SWEEP_KOP:
                return Variant(name, "KOP threshold sweep (tree on)", "`Prior.kops`",
                               f"`tree.max_depth=3`, `kop_threshold={value:g}`",
                               replace(_TREE, kop_threshold=value))  # fmt: skip
            return Variant(name, "PCA cut-off sweep (tree on, PCA on)", "offline build",
                           f"`tree.max_depth=3`, `pca=True`, `pca_cutoff={value:g}`", _TREE,
                           KnowledgeSettings(pca=True, pca_cutoff=value))  # fmt: skip
    return None


def variant(name: str) -> Variant | None:
    """A registered variant or a sweep variant; None for any other method name."""
    return VARIANTS.get(name) or sweep_variant(name)


def is_variant(name: str) -> bool:
    return name != REFERENCE and variant(name) is not None


def with_knowledge(name: str) -> bool:
    """Whether ``name`` is a variant whose mechanism lives in the offline build (own knowledge)."""
    found = variant(name) if is_variant(name) else None
    return found is not None and found.knowledge is not None


def make_bench_strategy(
    name: str,
    space: Space,
    knowledge: Knowledge,
    *,
    profile: Mapping[str, float] | None = None,
    seed: int = 0,
    objective: Objective | None = None,
) -> Strategy:
    """A registered method, or Falcon with an ablation variant's settings."""
    found = variant(name) if is_variant(name) else None
    settings = found.falcon if found is not None else None
    return make_strategy(
        REFERENCE if found is not None else name,
        space,
        knowledge,
        profile=profile,
        seed=seed,
        falcon_settings=settings,
        objective=objective,
    )


def describe() -> dict[str, dict[str, object]]:
    """The variants for ``results.json``'s meta: mechanism, switch and changed fields."""
    return {
        v.name: {"mechanism": v.mechanism, "switch": v.switch, "changes": sorted(changes(v))}
        for v in VARIANTS.values()
    }
