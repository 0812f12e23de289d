"""A small search whose knowledge says exactly what the search should think of each value.

Space: batch size 1, 2, 4 × GPU type A, B, C. Three source models rate A at 100, B at 40 and
never ran on C; batch size scales that by 0.5, 1.0 and 0.8. The trials ran A b1 and A b2.
"""

from __future__ import annotations

import numpy as np
import pytest

from falcon_operator.core.records import Outcome, TrialRecord
from falcon_operator.core.space import Knob, Space
from falcon_operator.knowledge.base import Knowledge, KnowledgeSettings
from falcon_operator.search.falcon import FalconStrategy

GPU = {"A": 100.0, "B": 40.0, "C": np.nan}
BATCH = {1: 0.5, 2: 1.0, 4: 0.8}


def small_space() -> Space:
    return Space((Knob("batchsize", (1, 2, 4)), Knob("gputype", ("A", "B", "C"), "categorical")))


def small_knowledge(space: Space) -> Knowledge:
    def table(scale: float) -> np.ndarray:
        cfgs = [space.config_at(i) for i in range(space.size)]
        return np.array([GPU[str(c["gputype"])] * BATCH[int(c["batchsize"])] * scale for c in cfgs])

    sources = {"s1": table(1.0), "s2": table(1.1), "s3": table(0.9)}
    return Knowledge(KnowledgeSettings(), space=space, sources=sources)


def _ok(batch: int, gpu: str, objective: float, p99: float) -> TrialRecord:
    metrics = {"rps": objective * 2, "p99_ms": p99, "cost_per_hour": 0.5}
    return TrialRecord({"batchsize": batch, "gputype": gpu}, Outcome.OK, objective, metrics=metrics)


@pytest.fixture
def small() -> tuple[FalconStrategy, list[TrialRecord]]:
    space = small_space()
    strategy = FalconStrategy(space, small_knowledge(space), seed=0)
    return strategy, [_ok(1, "A", 50.0, 3.0), _ok(2, "A", 100.0, 4.5)]
