"""The ablation variants: each differs from Falcon in its mechanism only, each switch changes a
suggestion where its mechanism matters, and ``falcon bench --ablation`` runs and is tabled."""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pytest

from falcon_operator.bench import ablation_doc
from falcon_operator.bench.ablation import (
    NOT_ON_PATH,
    VARIANTS,
    changes,
    make_bench_strategy,
    settings_diff,
)
from falcon_operator.bench.ablation_jobs import common_streams, variant_knowledge
from falcon_operator.bench.runner import Job, run_job
from falcon_operator.cli.main import main
from falcon_operator.core.errors import DataError
from falcon_operator.core.records import Outcome, TrialRecord
from falcon_operator.core.space import Config, Knob, Space, Value
from falcon_operator.knowledge.base import Knowledge, build_knowledge
from falcon_operator.knowledge.curves import Curve
from falcon_operator.knowledge.dataset import FalconDataset, default_data_dir
from falcon_operator.knowledge.tables import Table
from falcon_operator.search.falcon import FalconStrategy
from falcon_operator.search.falcon_settings import FalconSettings
from falcon_operator.search.tree import TreeSettings

#: each variant and the only settings it may change
EXPECTED = {
    "falcon": set(),
    "falcon-tree": {"falcon.tree.max_depth"},
    "falcon-tree-no-uct": {"falcon.tree.max_depth", "falcon.c_uct"},
    "falcon-tree-kop-all": {"falcon.tree.max_depth", "falcon.kop_threshold"},
    "falcon-tree-pca": {"falcon.tree.max_depth", "knowledge.pca"},
    "falcon-compose": {"falcon.compose"},
    "falcon-compose-split": {
        "falcon.compose",
        "falcon.tree.max_depth",
        "falcon.tree.composed_split",
    },
    "falcon-no-kfeatures": {"falcon.knowledge_features"},
    "falcon-no-reweight": {"falcon.source_temperature"},
    "falcon-no-source-feasibility": {"falcon.source_feasibility_power"},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_variant_differs_from_falcon_in_its_mechanism_only(name: str) -> None:
    assert changes(VARIANTS[name]) == EXPECTED[name]


def test_every_variant_is_tested_and_the_shapes_are_said_to_be_off_the_path() -> None:
    assert set(VARIANTS) == set(EXPECTED)
    assert any("shapes" in mechanism for mechanism, _ in NOT_ON_PATH)


def test_settings_diff_walks_nested_settings() -> None:
    a = FalconSettings()
    b = FalconSettings(c_uct=0.0, tree=TreeSettings(max_depth=1, min_leaf=4))
    assert settings_diff(a, b) == {"c_uct", "tree.max_depth", "tree.min_leaf"}
    assert settings_diff(a, FalconSettings()) == set()


def _suggest(
    name: str,
    space: Space,
    kb: Knowledge,
    history: Sequence[TrialRecord] = (),
    profile: Mapping[str, float] | None = None,
) -> Config:
    return make_bench_strategy(name, space, kb, profile=profile, seed=0).suggest(history, 1)[0]


def _ok(config: Mapping[str, Value], y: float) -> TrialRecord:
    return TrialRecord(config, Outcome.OK, y)


def test_variants_build_falcon_with_their_settings() -> None:
    space = Space((Knob("batchsize", (1, 2, 4, 8)),))
    kb = build_knowledge(sources=[Table("a", space, np.array([1.0, 2.0, 3.0, 4.0]))])
    for name, variant in VARIANTS.items():
        strategy = make_bench_strategy(name, space, kb)
        assert isinstance(strategy, FalconStrategy) and strategy.settings == variant.falcon


def test_no_source_feasibility_goes_where_most_sources_could_not_run() -> None:
    space = Space((Knob("batchsize", (1, 2, 4, 8)),))
    big = Table("a", space, np.array([0.2, 0.5, 1.0, 6.0]))  # the only source that ran at 8
    kb = build_knowledge(
        sources=[big, *(Table(n, space, np.array([0.2, 0.5, 1.0, np.nan])) for n in "bc")]
    )
    assert _suggest("falcon", space, kb) == {"batchsize": 4}
    assert _suggest("falcon-no-source-feasibility", space, kb) == {"batchsize": 8}


def test_no_reweight_keeps_the_mean_of_sources_the_target_does_not_resemble() -> None:
    space = Space((Knob("batchsize", (1, 2, 4, 8)), Knob("cores", (1, 2, 4))))
    a = np.repeat([3.0, 1.0, 0.5, 0.2], 3)  # the target behaves like this source
    b = np.repeat([0.2, 0.5, 1.0, 4.0], 3)
    kb = build_knowledge(sources=[Table("a", space, a), Table("b", space, b)])
    history = [_ok({"batchsize": 8, "cores": 1}, 0.2), _ok({"batchsize": 4, "cores": 1}, 0.5)]
    assert _suggest("falcon", space, kb, history) == {"batchsize": 1, "cores": 1}  # a's best
    assert _suggest("falcon-no-reweight", space, kb, history) != {"batchsize": 1, "cores": 1}


def test_no_knowledge_features_does_not_learn_from_the_twins_of_a_trial() -> None:
    space = Space((Knob("batchsize", (1, 2, 4, 8)), Knob("gpumem", (0.0, 2.0, 4.0))))
    batch = np.array([0.2, 0.5, 1.0, 0.7])  # sources: memory limits do not matter
    kb = build_knowledge(
        sources=[
            Table("big", space, np.repeat(batch, 3)),
            Table("small", space, np.repeat(0.9 * batch, 3)),
        ]
    )
    # the target is bad at batch 4 whatever the memory limit; its twin is worth no trial
    history = [
        _ok({"batchsize": 4, "gpumem": 0.0}, 0.3),
        _ok({"batchsize": 2, "gpumem": 0.0}, 0.5),
        _ok({"batchsize": 8, "gpumem": 0.0}, 0.7),
    ]
    assert _suggest("falcon", space, kb, history)["batchsize"] == 8
    assert _suggest("falcon-no-kfeatures", space, kb, history) == {"batchsize": 4, "gpumem": 2.0}


CURVE_SPACE = Space(
    (Knob("batchsize", (1, 2, 4, 8)), Knob("cores", (1, 2, 4, 8)), Knob("mem", (1.0, 2.0)))
)


def _curve(op: str, knob1: str, values: Sequence[float]) -> Curve:
    cells = tuple((x, m, v) for m in (1.0, 2.0) for x, v in zip((1, 2, 4, 8), values, strict=True))
    return Curve(op, f"{knob1}-mem", knob1, "mem", cells)


def test_kop_threshold_decides_which_operators_shape_the_curve_prior() -> None:
    conv = _curve("conv2d", "cores", [1.0, 0.8, 0.6, 0.4])  # 85 % of the time: the only KOP
    dense = _curve("dense", "batchsize", [0.1, 0.1, 0.1, 1.0])
    kb = build_knowledge(curves=[conv, dense])
    profile = {"conv2d": 0.85, "dense": 0.15}
    assert _suggest("falcon-tree", CURVE_SPACE, kb, profile=profile)["batchsize"] == 1
    assert _suggest("falcon-tree-kop-all", CURVE_SPACE, kb, profile=profile)["batchsize"] == 8


def test_pca_drops_a_redundant_curve_that_then_no_longer_moves_the_prior() -> None:
    by_batch = _curve("conv2d", "batchsize", [0.1, 0.2, 0.5, 1.0])
    by_cores = _curve("conv2d", "cores", [0.1, 0.2, 0.5, 1.0])  # the same grid and values
    kept = build_knowledge(curves=[by_batch, by_cores])  # PCA is off by default
    pruned = build_knowledge(
        curves=[by_batch, by_cores], settings=VARIANTS["falcon-tree-pca"].knowledge
    )
    assert (len(pruned.curves), len(kept.curves)) == (1, 2)
    profile = {"conv2d": 1.0}
    assert _suggest("falcon-tree", CURVE_SPACE, kept, profile=profile)["cores"] == 8
    assert _suggest("falcon-tree-pca", CURVE_SPACE, pruned, profile=profile)["cores"] == 1


def test_the_composed_prior_sends_the_first_trial_to_the_curves_best() -> None:
    # the sources cannot tell configurations apart; the target's curves can (batch 8 is best)
    sources = [Table(f"s{i}", CURVE_SPACE, np.ones(CURVE_SPACE.size)) for i in "012"]
    curve = _curve("conv2d", "batchsize", [0.2, 0.4, 0.8, 1.0])
    kb = build_knowledge(curves=[curve], sources=sources)
    profile = {"conv2d": 1.0}
    assert _suggest("falcon", CURVE_SPACE, kb, profile=profile)["batchsize"] != 8
    assert _suggest("falcon-compose", CURVE_SPACE, kb, profile=profile)["batchsize"] == 8
    split = make_bench_strategy("falcon-compose-split", CURVE_SPACE, kb, profile=profile)
    plain = make_bench_strategy("falcon-compose", CURVE_SPACE, kb, profile=profile)
    assert isinstance(split, FalconStrategy) and isinstance(plain, FalconStrategy)
    assert split.tree.splits[0].label == "model:composed"
    assert all(s.label != "model:composed" for s in plain.tree.splits)


def test_uct_goes_right_where_the_tree_and_its_bonus_matter() -> None:
    # the curve's good half is batch 4 and 8; every trial so far was there, and the other
    # half's best acquisition is close: the UCT bonus sends Falcon to the unvisited half
    rng = np.random.default_rng(1)
    sources = [Table(f"s{i}", CURVE_SPACE, rng.uniform(0.9, 1.0, CURVE_SPACE.size)) for i in "012"]
    kb = build_knowledge(
        curves=[_curve("conv2d", "batchsize", [0.2, 0.4, 0.8, 1.0])], sources=sources
    )
    history = [
        _ok({"batchsize": 8, "cores": 1, "mem": 1.0}, 0.995),
        _ok({"batchsize": 8, "cores": 8, "mem": 2.0}, 0.975),
        _ok({"batchsize": 4, "cores": 2, "mem": 2.0}, 0.82),
        _ok({"batchsize": 4, "cores": 4, "mem": 2.0}, 0.816),
    ]
    profile: dict[str, float] = {}  # no profile: the tree from every known operator's curves
    falcon = make_bench_strategy("falcon-tree", CURVE_SPACE, kb, profile=profile)
    assert isinstance(falcon, FalconStrategy) and len(falcon.tree.leaves) == 2
    good = {4, 8}  # the visited half
    assert _suggest("falcon-tree", CURVE_SPACE, kb, history, profile)["batchsize"] not in good
    for name in ("falcon", "falcon-tree-no-uct"):  # no tree (the default), or no bonus
        assert _suggest(name, CURVE_SPACE, kb, history, profile)["batchsize"] in good


def test_an_offline_variant_gets_the_same_sources_and_every_curve() -> None:
    ds = FalconDataset(default_data_dir())
    names = ["bert-base", "dcgan", "dcn"]
    knowledge = {n: ds.knowledge(sources=[m for m in names if m != n]) for n in names}
    target = ds.tables("sources", ["dcn"])[0]
    jobs = [Job(m, target, {}, 0, 2, "dcn") for m in ("falcon", "falcon-tree-pca")]
    planned = variant_knowledge(jobs, knowledge, lambda _key: ds.curves())
    assert [j.knowledge_key for j in planned] == ["dcn", "falcon-tree-pca/dcn"]
    base, rebuilt = knowledge["dcn"], knowledge["falcon-tree-pca/dcn"]
    assert sorted(rebuilt.sources) == sorted(base.sources) == ["bert-base", "dcgan"]
    for name, values in base.sources.items():
        np.testing.assert_array_equal(rebuilt.sources[name], values)
    assert rebuilt.profiles == base.profiles and rebuilt.settings.pca and not base.settings.pca
    assert len(rebuilt.pruned) > 0 and len(rebuilt.curves) < len(base.curves) == len(ds.curves())


def test_a_mix_scenario_key_reads_that_scenario_s_curves(tmp_path: Path) -> None:
    from falcon_operator.cli.commands import _raw_curves

    (tmp_path / "tight").symlink_to(default_data_dir())
    mix, plain = argparse.Namespace(mix=True), argparse.Namespace(mix=False)
    curves = FalconDataset(default_data_dir()).curves()
    assert _raw_curves(mix, str(tmp_path), "dcn@tight") == curves
    assert _raw_curves(mix, str(tmp_path), "tight") == curves
    assert _raw_curves(plain, str(default_data_dir()), "dcn") == curves


def test_common_streams_give_a_variant_falcon_s_stream_and_noise() -> None:
    ds = FalconDataset(default_data_dir())
    kb = build_knowledge(sources=ds.tables("sources", ["bert-base", "dcgan", "dcn"]))
    target = ds.tables("targets", ["vgg16"], space=kb.space)[0]
    falcon = Job("falcon", target, {}, 3, 8, "", None, 0.05)
    # no curves: the tree has one region, so falcon-tree searches as falcon does
    own = Job("falcon-tree", target, {}, 3, 8, "", None, 0.05)
    (common,) = common_streams([own])
    assert (common.stream, common_streams([falcon])[0].stream) == ("falcon", "")
    runs = [run_job(j, {"": kb}).run for j in (falcon, own, common)]
    assert runs[1].stream_seed != runs[0].stream_seed == runs[2].stream_seed
    assert runs[2].best_so_far == runs[0].best_so_far  # same stream, same noise: a tie


def test_ablation_bench_runs_end_to_end_and_fills_the_doc_table(tmp_path: Path) -> None:
    out = tmp_path / "ablation"
    args = ["bench", "--ablation", "--loo", "--sources", "bert-base,dcgan,dcn",
            "--methods", "falcon,falcon-tree-pca,falcon-tree", "--trials", "2,3",
            "--common-streams", "--seeds", "1", "--workers", "1", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    data = json.loads((out / "results.json").read_text())
    assert data["meta"]["protocol"] == "validation: leave-one-source-out"
    assert data["meta"]["streams"] == "falcon's (common random numbers)"
    seeds = {(r["method"], r["target"]): r["stream_seed"] for r in data["runs"]}
    assert seeds[("falcon-tree", "dcn")] == seeds[("falcon", "dcn")]
    changes = set(data["meta"]["ablation"]["falcon-tree-pca"]["changes"])
    assert changes == {"knowledge.pca", "falcon.tree.max_depth"}
    assert len(data["runs"]) == 3 * 3 and data["latency"] == {}
    assert set(data["paired"]["methods"]) == {"falcon-tree-pca", "falcon-tree"}
    section = ablation_doc.render(tmp_path)
    rows = {line.split(" | ")[0] for line in section.splitlines() if line.startswith("| `")}
    assert {"| `falcon`", "| `falcon-tree-pca`", "| `falcon-tree`"} <= rows
    assert "accuracy @3 [95% CI]" in section and re.search(r"\(\d+/\d+/\d+\) \|", section)
    assert "No run committed yet: run `make bench-ablation-heldout`" in section
    doc = tmp_path / "algorithm.md"
    doc.write_text(f"# x\n{ablation_doc.BEGIN}\nold\n{ablation_doc.END}\n")
    check = ["--out", str(doc), "--results", str(tmp_path)]
    assert ablation_doc.main([*check, "--check"]) == 1
    assert ablation_doc.main(check) == 0 and ablation_doc.main([*check, "--check"]) == 0


def test_the_doc_table_is_current_and_refuses_a_run_without_variants(tmp_path: Path) -> None:
    assert ablation_doc.main(["--check"]) == 0, "docs/algorithm.md's ablation table: make docs"
    with pytest.raises(DataError, match="not from `falcon bench --ablation`"):
        ablation_doc.results_table({"meta": {}, "summary": {}, "paired": {"methods": {}}})
    with pytest.raises(DataError, match="markers"):
        ablation_doc.update("# no table\n", tmp_path)
