"""Source tables fitted to live measurements: shape, SLO, failures, normalisation."""

from __future__ import annotations

import numpy as np
import pytest

from falcon_operator.core.errors import KnowledgeError
from falcon_operator.live.knowledge import source_table
from falcon_operator.live.profiling import Measured, sample
from falcon_operator.live.space import LiveSpaceSettings, live_space

SPACE = live_space(LiveSpaceSettings(queue_delay_us=(0, 2000)), cores=2)


def _truth(config: dict[str, int | float | str]) -> tuple[float, float]:
    """Throughput grows with batch and instances, p99 with concurrency and batch."""
    rps = 50.0 * float(config["cpus"]) * (1 + np.log2(float(config["batchsize"])) / 4)
    p99 = 4.0 * float(config["concurrency"]) * (1 + float(config["batchsize"]) / 8)
    return rps, p99


def _measured(n: int, *, failing_batch: int | None = None) -> list[Measured]:
    out = []
    for config in sample(SPACE, n, seed=1):
        rps, p99 = _truth(config)
        ok = config["batchsize"] != failing_batch
        out.append(Measured(config, ok, rps if ok else 0.0, p99 if ok else 0.0,
                            "" if ok else "Triton did not serve it"))  # fmt: skip
    return out


def test_a_fitted_table_ranks_the_unmeasured_cells_as_the_truth_does() -> None:
    table = source_table("src", SPACE, _measured(60), slo_p99_ms=None)
    assert np.nanmax(table.values) == pytest.approx(1.0)
    idx = SPACE.all_indices()
    truth = np.array([_truth(SPACE.config_at(int(i)))[0] / SPACE.config_at(int(i))["cpus"]
                      for i in idx])  # fmt: skip
    rank = np.corrcoef(np.argsort(np.argsort(truth)), np.argsort(np.argsort(table.values[idx])))
    assert rank[0, 1] > 0.8


def test_cells_predicted_to_break_the_slo_are_missing() -> None:
    table = source_table("src", SPACE, _measured(60), slo_p99_ms=20.0)
    for i in SPACE.all_indices():
        config = SPACE.config_at(int(i))
        if _truth(config)[1] > 60:  # far over the SLO
            assert np.isnan(table.values[i]), config
        if _truth(config)[1] < 8:  # far under it
            assert not np.isnan(table.values[i]), config


def test_cells_nearest_a_configuration_that_failed_are_missing() -> None:
    measured = _measured(60, failing_batch=16)
    table = source_table("src", SPACE, measured, slo_p99_ms=None)
    for m in measured:
        if not m.ok:
            assert np.isnan(table.values[SPACE.index_of(m.config)])


def test_too_few_successful_measurements_is_a_clear_error() -> None:
    with pytest.raises(KnowledgeError, match="source src: 0 successful live measurements"):
        source_table("src", SPACE, _measured(10, failing_batch=None)[:0], slo_p99_ms=None)
