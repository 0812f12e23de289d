"""Knowledge features: the feature GP (distance = how the sources rated two configurations), the
sources' runnable cells as a feasibility prior, and profile-similarity weights."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

from falcon_operator.core.records import FailureKind, Outcome, TrialRecord
from falcon_operator.core.space import Knob, Space
from falcon_operator.knowledge.base import build_knowledge
from falcon_operator.knowledge.prior import Prior
from falcon_operator.knowledge.tables import Table
from falcon_operator.search.falcon import FalconStrategy
from falcon_operator.search.feature_gp import FeatureGP, median_distance
from falcon_operator.search.strategy import search_state

Index = NDArray[np.int64]

SPACE = Space((Knob("batchsize", (1, 2, 4, 8)), Knob("gpumem", (0.0, 2.0, 4.0))))
# the sources respond to the batch size only; memory limits are "twins" -- except that the
# "big" source runs out of memory at batch 8 under a 2 GB limit
BATCH = np.array([0.2, 0.5, 1.0, 0.7])


def _source(name: str, scale: float, *, oom_at: int | None = None) -> Table:
    values = np.repeat(BATCH * scale, 3)
    if oom_at is not None:
        values[oom_at] = np.nan
    return Table(name, SPACE, values)


def _kb(profiles: dict[str, dict[str, float]] | None = None):  # type: ignore[no-untyped-def]
    big = _source("big", 1.0, oom_at=SPACE.index_of({"batchsize": 8, "gpumem": 2.0}))
    return build_knowledge(sources=[big, _source("small", 0.9)], profiles=profiles)


def test_median_distance_ignores_identical_rows() -> None:
    rows = np.array([[0.0], [0.0], [1.0], [1.0]])
    assert median_distance(rows) == pytest.approx(1.0)
    assert median_distance(np.zeros((5, 2))) == 1.0  # no distinct pair: a neutral scale


def test_one_observation_informs_every_twin_configuration() -> None:
    prior = Prior(_kb(), SPACE)
    gp = FeatureGP(lambda i: np.asarray(prior.sources[:, i].T), prior.mean, length_scale=0.5)  # type: ignore[index]
    seen = SPACE.index_of({"batchsize": 4, "gpumem": 0.0})
    gp.fit(np.array([seen]), np.array([0.3]))  # much worse than the prior expected
    twins = np.array([SPACE.index_of({"batchsize": 4, "gpumem": g}) for g in (2.0, 4.0)])
    mu, sd = gp.predict(twins)
    assert np.allclose(mu, 0.3, atol=0.02)  # a twin is predicted like the observed cell
    _, other_sd = gp.predict(np.array([SPACE.index_of({"batchsize": 1, "gpumem": 0.0})]))
    assert sd.max() < 0.5 * other_sd[0]  # and is far more certain than a distinct cell


def test_ran_fraction_counts_the_sources_that_ran() -> None:
    prior = Prior(_kb(), SPACE)
    oom = SPACE.index_of({"batchsize": 8, "gpumem": 2.0})
    fine = SPACE.index_of({"batchsize": 8, "gpumem": 4.0})
    frac = prior.ran_fraction(np.array([oom, fine]))
    assert frac is not None and frac.tolist() == [0.5, 1.0]
    weighted = prior.ran_fraction(np.array([oom]), source_weights=np.array([1.0, 0.0]))
    assert weighted is not None and weighted.tolist() == [0.0]


def test_feasibility_weights_follow_the_sources_that_agree_with_the_target() -> None:
    falcon = FalconStrategy(SPACE, _kb(), seed=0)
    oom = SPACE.config_at(SPACE.index_of({"batchsize": 8, "gpumem": 2.0}))
    history = [TrialRecord.failed(oom, FailureKind.OOM, "out of memory")]
    w = falcon.feasibility_weights(search_state(SPACE, history, ()))
    assert w is not None and w[0] > 0.8  # "big" also failed there
    ran = falcon.prior.ran_fraction(np.array([SPACE.index_of(oom)]), source_weights=w)
    assert ran is not None and ran[0] < 0.2


def test_profile_weights_prefer_the_source_with_the_same_operators() -> None:
    profiles = {"big": {"conv2d": 0.9, "relu": 0.1}, "small": {"dense": 1.0}}
    prior = Prior(_kb(profiles), SPACE, {"conv2d": 0.8, "relu": 0.2})
    w = prior.profile_weights(0.25)
    assert w is not None and w[0] > 0.99
    assert prior.profile_weights(0.0) is None  # disabled
    assert Prior(_kb(), SPACE, {"conv2d": 1.0}).profile_weights(0.25) is None  # no profiles


def test_falcon_uses_the_feature_gp_only_with_source_tables() -> None:
    falcon = FalconStrategy(SPACE, _kb(), seed=0)
    one = [TrialRecord(SPACE.config_at(0), Outcome.OK, 0.2)]
    assert isinstance(falcon.surrogate(search_state(SPACE, one, ())), FeatureGP)
