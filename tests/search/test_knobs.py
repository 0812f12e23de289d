"""The knob registry: one declaration per knob, one space builder, one rendering of a config."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from falcon_operator.core import knobs
from falcon_operator.core.catalog import load_catalog
from falcon_operator.core.errors import SpaceError
from falcon_operator.core.knobs import (
    BATCH,
    CPUS,
    GPU,
    GPU_MEMORY,
    INSTANCES,
    POWER,
    build_space,
    render,
    simulator_input,
)
from falcon_operator.core.space import Knob, Space
from falcon_operator.fleet.backend import fleet_space
from falcon_operator.spec import parse_spec, resolve

CRD = Path(__file__).resolve().parents[2] / "crds/autoconfig.falcon.io_inferenceconfigsearches.yaml"


def _search_space_schema() -> dict[str, dict[str, object]]:
    crd = yaml.safe_load(CRD.read_text())
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]
    return dict(spec["properties"]["searchSpace"]["properties"])


def test_the_six_knob_names_are_the_contracts() -> None:
    assert (GPU, CPUS, GPU_MEMORY, BATCH, POWER, INSTANCES) == (
        "gputype", "cpus", "gpumem", "batchsize", "gpupower", "instances"
    )  # fmt: skip
    assert {k.name for k in knobs.KNOBS} == {GPU, CPUS, GPU_MEMORY, BATCH, POWER, INSTANCES}
    # the live knobs (docs/live.md) are no CRD fields
    live = {knobs.CONCURRENCY, knobs.ORT_THREADS, knobs.QUEUE_DELAY}
    assert {k.name for k in knobs.LIVE_KNOBS} == live
    assert {GPU, CPUS, GPU_MEMORY, BATCH, POWER, INSTANCES} | live == knobs.NAMES
    assert all(not k.field and not k.spec_attr for k in knobs.LIVE_KNOBS)


@pytest.mark.parametrize("knob", knobs.KNOBS, ids=lambda k: k.name)
def test_every_knob_is_a_crd_field_with_the_registrys_bounds_and_default(
    knob: knobs.KnobDef,
) -> None:
    schema = _search_space_schema()[knob.field]
    assert knob.doc and schema["type"] == "array"
    if knob.name == GPU:
        return  # objects: type, MIG profiles, per-GPU MPS limits (spec/parse.py:parse_gpu)
    items = schema["items"]
    assert isinstance(items, dict)
    assert (items["minimum"], items["maximum"]) == (knob.low, knob.high)
    assert items["type"] == ("integer" if knob.type is int else "number")
    assert tuple(schema["default"]) == knob.default  # type: ignore[arg-type]
    if knob.per_gpu_field:
        gpus = _search_space_schema()["gpus"]["items"]
        assert knob.per_gpu_field in gpus["properties"]  # type: ignore[index]


def test_the_default_fleet_space_is_the_one_it_always_was() -> None:
    """The five knobs in their order and domains: instances [1] stays out of the space."""
    catalog = load_catalog()
    labels = []
    for name in sorted(catalog.gpus):
        labels += [name] + [f"{name}/{p}" for p in catalog.gpus[name].mig]
    before = Space(
        (
            Knob("batchsize", (1, 2, 4, 8, 16, 32, 64, 128)),
            Knob("cpus", (1, 2, 4, 8)),
            Knob("gpumem", (0.0, 2.0, 4.0, 8.0)),
            Knob("gpupower", (50, 75, 100)),
            Knob("gputype", tuple(labels), "categorical"),
        )
    )
    assert fleet_space(catalog) == before
    assert fleet_space(catalog, instances=(1, 2, 4)).names == (*before.names, INSTANCES)
    assert fleet_space(catalog, instances=(2,)).knob(INSTANCES).values == (2,)


def test_a_spec_space_without_instance_counts_is_unchanged_and_with_them_gains_the_knob() -> None:
    body = {
        "model": {"name": "m", "configMapRef": {"name": "m", "key": "model.onnx"}},
        "searchSpace": {"gpus": [{"type": "T4"}], "powerLimits": [100]},
    }
    plain = resolve(parse_spec(body), load_catalog()).space
    assert plain.names == (BATCH, CPUS, GPU_MEMORY, POWER, GPU)
    assert plain.knob(POWER).values == (100,)  # a single-valued power cap stays, as always
    body["searchSpace"] |= {"instanceCounts": [4, 1, 2]}
    wide = resolve(parse_spec(body), load_catalog()).space
    assert wide.names == (*plain.names, INSTANCES)
    assert wide.knob(INSTANCES).values == (1, 2, 4)
    assert wide.size == plain.size * 3


def test_the_builder_refuses_unknown_knobs() -> None:
    with pytest.raises(SpaceError, match="unknown knobs"):
        build_space({BATCH: (1, 2), "threads": (1, 2)})


def test_a_configuration_renders_into_pod_model_config_and_simulator() -> None:
    config = {BATCH: 8, CPUS: 4, GPU_MEMORY: 2.0, POWER: 75, GPU: "A100/3g.20gb", INSTANCES: 2}
    out = render(config)
    assert out.resources == {"cpu": "4", "nvidia.com/mig-3g.20gb": "1"}
    assert out.env == [
        {"name": "FALCON_MAX_BATCH_SIZE", "value": "8"},
        {"name": "CUDA_MPS_PINNED_DEVICE_MEM_LIMIT", "value": "0=2G"},
    ]
    assert out.node_selector == {knobs.POWER_LABEL: "75"}
    assert out.model_config == {
        "max_batch_size": 8,
        "dynamic_batching": {"preferred_batch_size": [8]},
        "instance_group": [{"count": 2, "kind": "KIND_AUTO"}],
    }
    assert simulator_input(config) == {
        "batch": 8, "cpus": 4.0, "gpu_memory_limit_gb": 2.0, "power": 0.75,
        "gpu": "A100/3g.20gb", "instances": 2,
    }  # fmt: skip
    whole = render({GPU: "T4", GPU_MEMORY: 0.0})
    assert whole.resources == {"nvidia.com/gpu": "1"} and whole.env == []
    assert whole.simulator["gpu_memory_limit_gb"] is None


def test_docs_knobs_lists_every_knob_with_its_crd_field() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs/knobs.md").read_text()
    rows = {
        line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| `")
    }
    assert set(rows) == {f"`{k.name}`" for k in knobs.KNOBS}
    for k in knobs.KNOBS:
        assert f"`{k.field}`" in rows[f"`{k.name}`"]
        if k.per_gpu_field:
            assert k.per_gpu_field in rows[f"`{k.name}`"]
