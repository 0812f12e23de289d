"""``make paper-eval``'s pieces on tiny inputs: trial costs, the overhead against Morphling, the
sweep variants, the search path, the recommendation vs the optimum, the committed accuracies."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from falcon_operator.bench.ablation import (
    SWEEP_KOP,
    SWEEP_PCA,
    make_bench_strategy,
    sweep_variant,
    with_knowledge,
)
from falcon_operator.bench.paper_eval.accuracy import read_world
from falcon_operator.bench.paper_eval.costs import (
    TrialCost,
    batch_only_change,
    online_seconds,
    trial_seconds,
)
from falcon_operator.bench.paper_eval.online import method_time, overhead
from falcon_operator.bench.paper_eval.path import path_grid, plot_path
from falcon_operator.bench.paper_eval.practical import best_config, optimum, recommendations
from falcon_operator.bench.paper_eval.sweeps import BASE, method_names, sweep
from falcon_operator.bench.runner import JobResult
from falcon_operator.bench.runs import RunResult
from falcon_operator.core.errors import DataError
from falcon_operator.core.space import Config, Knob, Space
from falcon_operator.knowledge.base import build_knowledge
from falcon_operator.knowledge.curves import Curve
from falcon_operator.knowledge.tables import Table
from falcon_operator.search.falcon import FalconStrategy

COST = TrialCost("test", "test", pod_start_s=20.0, measure_s=10.0, reused_s=5.0)
SPACE = Space(
    (
        Knob("batchsize", (1, 2, 4)),
        Knob("gputype", ("T4", "V100"), kind="categorical"),
        Knob("cpus", (1, 2)),
    )
)


def _cfg(batch: int, gpu: str = "T4", cpus: int = 1) -> Config:
    return {"batchsize": batch, "gputype": gpu, "cpus": cpus}


def _result(
    method: str,
    values: Sequence[float],
    configs: Sequence[Config],
    *,
    target: str = "t",
    seed: int = 0,
) -> JobResult:
    best = list(np.maximum.accumulate(values))
    run = RunResult(method, target, seed, tuple(best), 1.0)
    return JobResult(run, tuple(0.0 for _ in values), tuple(configs))


def test_a_batch_only_change_reuses_the_pod_and_anything_else_starts_one() -> None:
    path = [_cfg(1), _cfg(2), _cfg(2, "V100"), _cfg(4, "V100"), _cfg(4, "V100", 2)]
    assert batch_only_change(path[0], path[1]) and not batch_only_change(path[1], path[2])
    assert trial_seconds(path, COST) == [30.0, 5.0, 30.0, 5.0, 30.0]  # reused: 5 s in all
    assert online_seconds(path, [1.0] * 5, COST) == [31.0, 37.0, 68.0, 74.0, 105.0]


def test_the_overhead_is_the_time_to_morphling_s_own_final_quality() -> None:
    fresh = [_cfg(1, "T4", 1), _cfg(1, "V100", 1), _cfg(1, "T4", 2), _cfg(1, "V100", 2)]
    # morphling gets to 0.8 at its third trial; falcon gets there at its first
    morph = _result("morphling", [0.2, 0.5, 0.8, 0.8], fresh)
    falcon = _result("falcon", [0.9, 0.9, 0.9, 1.0], fresh)
    o = overhead([morph, falcon], COST)
    assert o.pairs == 1 and o.falcon_reached == 1.0
    assert o.reduction.mean == pytest.approx(1 - 30 / 90)
    # a Falcon run that never gets there is charged its whole budget
    slow = _result("falcon", [0.1, 0.2, 0.3, 0.4], fresh)
    o = overhead([morph, slow], COST)
    assert o.falcon_reached == 0.0 and o.reduction.mean == pytest.approx(1 - 120 / 90)


def test_method_time_counts_reused_pods_and_runs_that_never_reach_the_level() -> None:
    path = [_cfg(1), _cfg(2), _cfg(4), _cfg(4, "V100")]
    fast = _result("falcon", [0.5, 0.96, 0.96, 0.96], path, seed=0)
    never = _result("falcon", [0.5, 0.6, 0.7, 0.8], path, seed=1)
    t = method_time([fast, never, fast], COST, [2, 4])
    assert t.reused_share == pytest.approx(2 / 4)
    assert t.online_s_at == {2: 35.0, 4: 70.0}
    assert t.to_high_s == 35.0 and t.reached_high == pytest.approx(2 / 3)
    assert method_time([never, never, fast], COST, [4]).to_high_s is None


def test_sweep_names_build_falcon_with_the_tree_and_the_swept_setting() -> None:
    kop = sweep_variant(f"{SWEEP_KOP}0.6")
    pca = sweep_variant(f"{SWEEP_PCA}0.9")
    assert kop is not None and kop.falcon.kop_threshold == 0.6 and kop.falcon.tree.max_depth == 3
    assert pca is not None and pca.knowledge is not None and pca.knowledge.pca_cutoff == 0.9
    assert pca.knowledge.pca and with_knowledge(pca.name) and not with_knowledge(kop.name)
    for bad in (f"{SWEEP_KOP}1.5", f"{SWEEP_KOP}0", f"{SWEEP_PCA}x", "falcon-tree-kop"):
        assert sweep_variant(bad) is None
    assert method_names("kop", [0.5, 1.0]) == ["falcon-tree-kop@0.5", "falcon-tree-kop@1"]


def test_the_kop_threshold_sweep_moves_the_first_suggestion_where_it_should() -> None:
    space = Space(
        (Knob("batchsize", (1, 2, 4, 8)), Knob("cores", (1, 2, 4, 8)), Knob("mem", (1.0, 2.0)))
    )

    def curve(op: str, knob: str, values: Sequence[float]) -> Curve:
        cells = tuple(
            (x, m, v) for m in (1.0, 2.0) for x, v in zip((1, 2, 4, 8), values, strict=True)
        )
        return Curve(op, f"{knob}-mem", knob, "mem", cells)

    kb = build_knowledge(
        curves=[
            curve("conv2d", "cores", [1.0, 0.8, 0.6, 0.4]),
            curve("dense", "batchsize", [0.1, 0.1, 0.1, 1.0]),
        ]
    )
    profile = {"conv2d": 0.85, "dense": 0.15}
    first = {}
    for t in (0.5, 0.8, 0.9, 1.0):
        strategy = make_bench_strategy(f"{SWEEP_KOP}{t:g}", space, kb, profile=profile)
        assert isinstance(strategy, FalconStrategy)
        first[t] = strategy.suggest([], 1)[0]["batchsize"]
    # conv2d alone covers 0.8 of the time; at 0.9 and above dense joins the KOPs
    assert (first[0.5], first[0.8], first[0.9], first[1.0]) == (1, 1, 8, 8)


def _runs(method: str, accs: Sequence[float]) -> list[RunResult]:
    return [RunResult(method, f"t{i}", 0, (a, a), 1.0) for i, a in enumerate(accs)]


def test_a_sweep_tables_each_value_against_the_tree_default() -> None:
    runs = _runs(BASE, [0.8, 0.8]) + _runs("falcon-tree-kop@0.5", [0.6, 0.6])
    runs += _runs("falcon-tree-kop@1", [0.8, 0.8])
    s = sweep("kop", [0.5, 1.0], runs, [1, 2])
    assert s.accuracy[0.5][1].mean == pytest.approx(0.6) and s.spread(2) == pytest.approx(0.2)
    assert s.paired[0.5][1].diff.mean == pytest.approx(0.2) and s.paired[1.0][1].ties == 2


def _table() -> Table:
    values = np.full(SPACE.size, np.nan)
    for i in range(SPACE.size):
        c = SPACE.config_at(i)
        if c["batchsize"] != 4 or c["gputype"] != "T4":  # batch 4 on a T4 does not run
            values[i] = c["batchsize"] * (2.0 if c["gputype"] == "V100" else 1.0) * c["cpus"]
    return Table("t", SPACE, values)


def test_the_path_grid_folds_the_table_and_places_the_trials_in_order(tmp_path: Path) -> None:
    path = [_cfg(1), _cfg(4, "V100"), _cfg(2, "V100", 2), _cfg(1)]
    grid = path_grid(_table(), path)
    assert grid.rows == ("T4", "V100") and grid.cols == (1, 2, 4)
    np.testing.assert_allclose(grid.value[1], [4 / 16, 8 / 16, 1.0])
    assert np.isnan(grid.value[0, 2]) and grid.value[0, 1] == pytest.approx(4 / 16)
    assert grid.good.tolist() == [[False, False, False], [False, False, True]]
    assert grid.trials == ((0, 0), (1, 2), (1, 1), (0, 0))
    png = plot_path(grid, tmp_path / "path.png", title="test")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_recommendation_is_the_best_measured_and_the_optimum_exhaustive() -> None:
    table = _table()
    assert optimum(table) == _cfg(4, "V100", 2)
    path = [_cfg(1), _cfg(2, "V100", 2), _cfg(2), _cfg(4, "V100", 2)]
    values = [table.values[SPACE.index_of(c)] / table.best for c in path]
    res = _result("falcon", values, path, target="t")
    assert best_config(res, 3) == (_cfg(2, "V100", 2), 2)
    [rec] = recommendations([table], [res], trials=3)
    assert rec.ratio == pytest.approx(0.5) and rec.found_at == 2 and rec.optimum == optimum(table)
    assert recommendations([table], [res], trials=4)[0].ratio == 1.0


def test_committed_results_read_back_with_falcon_s_paired_gain(tmp_path: Path) -> None:
    world = read_world(Path("bench/results/paper/results.json"), "paper data")
    assert world.checkpoints == (6, 15, 30) and len(world.targets) == 8
    falcon = next(m for m in world.methods if m.method == "falcon")
    other = next(m for m in world.methods if m.method == "random")
    assert falcon.gain == {} and set(other.gain) == {6, 15, 30}
    assert other.gain[6][0] == pytest.approx(falcon.mean[6] - other.mean[6], abs=1e-5)
    (tmp_path / "bad.json").write_text("{}")
    with pytest.raises(DataError):
        read_world(tmp_path / "bad.json", "bad")


def test_paper_eval_runs_end_to_end_and_writes_the_seven_evaluations(tmp_path: Path) -> None:
    from falcon_operator.cli.main import main

    doc, figs = tmp_path / "docs" / "evaluation.md", tmp_path / "docs" / "evaluation"
    tiny = "--seeds 1 --targets bert-large --mix-targets tgt04-gather --workers 1 "
    tiny += "--kop-values 0.5,1 --pca-values 0.9"
    argv = ["paper-eval", *tiny.split(), "--worlds", str(tmp_path / "worlds")]
    argv += ["--out", str(figs), "--doc", str(doc)]
    assert main(argv) == 0
    text = doc.read_text()
    sections = [line for line in text.splitlines() if line.startswith("## ")]
    assert [s.split(".")[0] for s in sections] == [f"## {i}" for i in range(1, 8)]
    links = re.findall(r"!\[[^]]*\]\(([^)]+)\)", text)
    assert len(links) == 8 and all((doc.parent / link).is_file() for link in links)
    assert "1 seeds per (method, target)" in text and "The paper claims up to 80 %" in text
    assert text.count("| wide-deep | recommendation") == 1
