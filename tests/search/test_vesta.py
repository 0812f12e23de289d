"""Vesta beyond the conformance suite: the transfer starts in the most similar sources' good
region, the target's trials move it, it is deterministic per seed, and it learns from
infeasible trials (the sources' and the target's)."""

from __future__ import annotations

import numpy as np

from falcon_operator.backends.table import TableOracle
from falcon_operator.core.records import FailureKind, TrialRecord
from falcon_operator.core.space import Config, Knob, Space
from falcon_operator.knowledge.base import Knowledge, build_knowledge
from falcon_operator.knowledge.tables import Table
from falcon_operator.search.registry import make_strategy
from falcon_operator.search.strategy import search_state
from falcon_operator.search.vesta import TOP_K, VestaStrategy, affine_fit, ranking_loss

SPACE = Space(
    (
        Knob("batchsize", (1, 2, 4, 8, 16, 32)),
        Knob("cpus", (1, 2, 4)),
        Knob("gputype", ("T4", "V100", "A100"), "categorical"),
    )
)
IDX = SPACE.all_indices()
BATCH = SPACE.values_of(IDX, "batchsize").astype(float)
GPU = SPACE.values_of(IDX, "gputype")
CPUS = SPACE.values_of(IDX, "cpus").astype(float)


def _bump(batch: float, gpu: str, tilt: float) -> np.ndarray:
    """High near ``batch`` on ``gpu``, low elsewhere; ``tilt`` makes each source a little
    different (more cpus help by ``tilt``)."""
    near = np.exp(-((np.log2(BATCH) - np.log2(batch)) ** 2) / 2)
    return 0.1 + near * np.where(np.equal(GPU, gpu), 1.0, 0.3) + tilt * CPUS / 4


CONV = {"conv2d": 1.0}
ATTN = {"matmul": 0.8, "softmax": 0.2}


def _kb(*, veto_batch: int | None = None) -> Knowledge:
    """Three conv-like sources (good at batch 32 on A100) and four attention-like ones (good at
    batch 1 on T4): the mean of all of them points at the attention region."""
    tables, profiles = [], {}
    for k in range(3):
        tables.append(Table(f"conv{k}", SPACE, _bump(32, "A100", 0.05 * k)))
        profiles[f"conv{k}"] = {"conv2d": 1.0 - 0.05 * k, "matmul": 0.05 * k}
    for k in range(4):
        tables.append(Table(f"attn{k}", SPACE, _bump(1, "T4", 0.05 * k)))
        profiles[f"attn{k}"] = {"matmul": 0.8 - 0.05 * k, "softmax": 0.2 + 0.05 * k}
    if veto_batch is not None:
        for t in tables:
            t.values[np.equal(BATCH, veto_batch)] = np.nan
    return build_knowledge(sources=tables, profiles=profiles)


def _in_conv_region(c: Config) -> bool:
    return int(c["batchsize"]) >= 16 and c["gputype"] == "A100"


def _in_attn_region(c: Config) -> bool:
    return int(c["batchsize"]) <= 2 and c["gputype"] == "T4"


def _run(target: Table, *, profile: dict[str, float], seed: int = 0, trials: int = 8,
         kb: Knowledge | None = None) -> list[TrialRecord]:  # fmt: skip
    strategy = make_strategy("vesta", SPACE, kb or _kb(), profile=profile, seed=seed)
    oracle, history = TableOracle(target), []
    for _ in range(trials):
        (cfg,) = strategy.suggest(history)
        history.append(oracle.run(cfg))
    return history


def test_ranking_loss_and_affine_fit() -> None:
    y = np.array([1.0, 2.0, 3.0])
    models = np.array([[0.1, 0.2, 0.3], [0.3, 0.2, 0.1], [0.5, 0.5, 0.9]])
    assert ranking_loss(models, y).tolist() == [0.0, 1.0, 1 / 6]
    assert ranking_loss(models[:, :1], y[:1]).tolist() == [0.0, 0.0, 0.0]
    a, b = affine_fit(np.array([1.0, 2.0, 3.0]), np.array([12.0, 22.0, 32.0]))
    assert np.isclose(a, 10.0) and np.isclose(b, 2.0)
    assert affine_fit(np.array([2.0]), np.array([6.0])) == (3.0, 0.0)
    assert affine_fit(np.array([3.0, 2.0, 1.0]), np.array([1.0, 2.0, 3.0])) == (0.0, 2.0)


def test_transfer_starts_in_the_most_similar_sources_good_region() -> None:
    kb = _kb()
    mean_all = np.mean([v / np.nanmax(v) for v in kb.sources.values()], axis=0)
    assert _in_attn_region(SPACE.config_at(int(np.argmax(mean_all))))  # what no transfer says
    conv_like = VestaStrategy(SPACE, kb, profile={"conv2d": 0.9, "matmul": 0.1})
    (first,) = conv_like.suggest([])
    assert _in_conv_region(first)
    kept = conv_like.transfer(search_state(SPACE, [], ()))
    names = conv_like.prior.source_names
    assert sorted(names[i] for i in kept.chosen) == ["conv0", "conv1", "conv2"] and TOP_K == 3
    attn_like = VestaStrategy(SPACE, kb, profile={"matmul": 0.7, "softmax": 0.3})
    assert _in_attn_region(attn_like.suggest([])[0])


def test_without_any_similarity_signal_every_source_is_kept() -> None:
    kb = _kb()
    strategy = VestaStrategy(SPACE, kb)  # no profile: nothing tells the sources apart
    assert strategy.transfer(search_state(SPACE, [], ())).chosen.size == len(kb.sources)


def test_the_targets_trials_move_the_transfer() -> None:
    """The profile says conv, the target behaves like the attention models: after the first
    trials disappoint, the transfer switches sources and the search finds the attention
    region's best."""
    target = Table("t", SPACE, 40.0 * _bump(1, "T4", 0.1))
    history = _run(target, profile={"conv2d": 1.0}, trials=8)
    assert _in_conv_region(history[0].config)
    strategy = VestaStrategy(SPACE, _kb(), profile={"conv2d": 1.0})
    kept = strategy.transfer(search_state(SPACE, history, ()))
    assert all(strategy.prior.source_names[i].startswith("attn") for i in kept.chosen)
    found = max(float(t.objective or 0.0) for t in history)
    assert found >= 0.95 * float(np.nanmax(target.values))


def test_the_residual_gp_moves_predictions_towards_the_trials() -> None:
    strategy = VestaStrategy(SPACE, _kb(), profile=CONV)
    target = Table("t", SPACE, 10.0 * _bump(32, "A100", 0.0) + 3.0 * (GPU == "V100"))
    oracle = TableOracle(target)
    at = [int(i) for i in IDX[(GPU == "V100") & (CPUS == 2)]]
    history = [oracle.run(SPACE.config_at(i)) for i in at]
    state = search_state(SPACE, history, ())
    t = strategy.transfer(state)
    idx = np.array(at, dtype=np.int64)
    before, _ = strategy.transferred(t, idx)
    after, _ = strategy.predict(t, state.ok_idx, state.ok_y, idx, SPACE.encode(idx))
    truth = target.values[idx]
    assert np.abs(after - truth).mean() < 0.5 * np.abs(before - truth).mean()


def test_same_seed_same_search_and_ties_follow_the_seed() -> None:
    target = Table("t", SPACE, 40.0 * _bump(8, "V100", 0.1))
    runs = [[t.config for t in _run(target, profile=CONV, seed=s)] for s in (3, 3)]
    assert runs[0] == runs[1]
    flat = build_knowledge(sources=[Table("flat", SPACE, np.ones(IDX.size))])
    firsts = {SPACE.key(VestaStrategy(SPACE, flat, seed=s).suggest([])[0]) for s in range(5)}
    assert len(firsts) > 1  # every configuration alike: the seed breaks the tie


def test_skips_what_the_sources_could_not_run() -> None:
    target = Table("t", SPACE, 40.0 * _bump(32, "A100", 0.1))
    history = _run(target, profile=CONV, trials=20, kb=_kb(veto_batch=32))
    assert all(int(t.config["batchsize"]) != 32 for t in history)


def test_learns_from_the_targets_failures() -> None:
    strategy = VestaStrategy(SPACE, _kb(), profile=CONV)
    (first,) = strategy.suggest([])
    assert _in_conv_region(first)
    failed = [TrialRecord.failed(first, FailureKind.OOM, "out of memory")]
    second = strategy.suggest(failed)[0]
    assert second != first
    state = search_state(SPACE, failed, ())
    t = strategy.transfer(state)
    p = strategy.p_runs(state, t, np.array([SPACE.index_of(first)]))
    assert p[0] < 0.6
    # every source ran where the target failed: all look less like it, none is preferred
    assert np.allclose(strategy.dissimilarity(state), 1.0)
    # failures at batch 32 whatever the cpus: an untried batch-32 cell looks riskier than its
    # batch-16 neighbour (the classifier puts the blame on the batch size)
    oom = [
        TrialRecord.failed({"batchsize": 32, "cpus": c, "gputype": "A100"}, FailureKind.OOM, "oom")
        for c in (1, 2, 4)
    ]
    state = search_state(SPACE, oom, ())
    cells = [{"batchsize": b, "cpus": 2, "gputype": "V100"} for b in (32, 16)]
    p32, p16 = strategy.p_runs(state, strategy.transfer(state), np.array(
        [SPACE.index_of(c) for c in cells]))  # fmt: skip
    assert p32 < 0.5 * p16
