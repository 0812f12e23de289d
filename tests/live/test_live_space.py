"""The live space: its knobs come from the registry, cores are bounded by the host."""

from __future__ import annotations

import pytest

from falcon_operator.core.errors import SpaceError
from falcon_operator.core.knobs import (
    BATCH,
    CONCURRENCY,
    CPUS,
    INSTANCES,
    LIVE_KNOBS,
    ORT_THREADS,
    QUEUE_DELAY,
    render,
)
from falcon_operator.live.space import LiveSpaceSettings, host_cores, live_space, pinned_cores
from falcon_operator.trials.modelconfig import model_config, to_pbtxt


def test_the_default_live_space_has_every_live_knob_and_cores_up_to_the_hosts() -> None:
    space = live_space(cores=4)
    assert space.names == (BATCH, CPUS, INSTANCES, CONCURRENCY, ORT_THREADS, QUEUE_DELAY)
    assert space.knob(CPUS).values == (1, 2, 3, 4)
    assert space.size == 5 * 4 * 3 * 5 * 2 * 3
    assert {k.name for k in LIVE_KNOBS} == {CONCURRENCY, ORT_THREADS, QUEUE_DELAY}
    assert live_space().knob(CPUS).values[-1] == len(host_cores())


def test_a_space_asking_for_more_cores_than_the_host_has_is_refused() -> None:
    with pytest.raises(SpaceError, match="this host offers 2 cores"):
        live_space(LiveSpaceSettings(cpus=(1, 4)), cores=2)


@pytest.mark.parametrize(
    "field, values, match",
    [("batch_sizes", (0, 2), "batch_sizes"), ("concurrency", (), "no values"),
     ("instances", (1, 1), "instances"), ("queue_delay_us", (-1,), "queue_delay_us")],
)  # fmt: skip
def test_bad_knob_values_are_refused_with_the_knobs_name(
    field: str, values: tuple[int, ...], match: str
) -> None:
    with pytest.raises(SpaceError, match=match):
        LiveSpaceSettings(**{field: values})  # type: ignore[arg-type]


def test_a_server_is_pinned_to_the_last_cores_leaving_the_first_to_the_client() -> None:
    assert pinned_cores(1, available=(0, 1, 2, 3)) == (3,)
    assert pinned_cores(3, available=(0, 1, 2, 3)) == (1, 2, 3)
    with pytest.raises(SpaceError, match="offers 2"):
        pinned_cores(3, available=(0, 1))


def test_live_knobs_render_into_the_model_config_and_the_load() -> None:
    config = {BATCH: 8, CPUS: 2, INSTANCES: 2, CONCURRENCY: 16, ORT_THREADS: 2, QUEUE_DELAY: 500}
    out = render(config)
    assert out.load == {"concurrency": 16}
    assert out.model_config["dynamic_batching"] == {
        "preferred_batch_size": [8],
        "max_queue_delay_microseconds": 500,
    }
    assert out.model_config["parameters"] == {"intra_op_thread_count": {"string_value": "2"}}
    text = to_pbtxt(model_config("m", config))
    assert 'parameters {\n  key: "intra_op_thread_count"\n  value {\n    string_value: "2"' in text
    assert "max_queue_delay_microseconds: 500" in text
    # a zero queue delay is kept, not replaced by the default
    assert "max_queue_delay_microseconds: 0" in to_pbtxt(model_config("m", {QUEUE_DELAY: 0}))
