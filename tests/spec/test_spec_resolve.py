"""A spec resolved against the catalog: knobs, MIG labels, selectors, prices, constraints."""

from __future__ import annotations

import math

import numpy as np
import pytest

from falcon_operator.core.catalog import load_catalog
from falcon_operator.core.errors import SpecError
from falcon_operator.fleet.backend import fleet_space
from falcon_operator.spec import parse_spec, prices_from_document, resolve
from falcon_operator.spec.model import PriceOverrides

CATALOG = load_catalog()


def _spec(gpus: list[dict[str, object]], **space: object) -> dict[str, object]:
    return {
        "model": {"name": "m", "configMapRef": {"name": "m", "key": "k"}},
        "searchSpace": {"gpus": gpus, **space},
    }


def test_knobs_match_the_fleet_space() -> None:
    rs = resolve(
        parse_spec(
            _spec(
                [{"type": "T4"}, {"type": "A100", "migProfiles": ["3g.20gb"]}],
                cpus=[1, 2],
                batchSizes=[8, 1],
                powerLimits=[100, 50],
            )
        ),
        CATALOG,
    )
    fleet = fleet_space(
        CATALOG, gpus=["T4", "A100"], batches=[1, 8], cpus=[1, 2], power=[50, 100], gpu_memory=[0.0]
    )
    assert rs.space.names == fleet.names == ("batchsize", "cpus", "gpumem", "gpupower", "gputype")
    assert rs.space.knob("gputype").values == ("T4", "A100", "A100/3g.20gb")
    assert rs.space.knob("batchsize").values == (1, 8)
    assert rs.space.knob("gpupower").values == (50, 100)
    assert rs.space.size == 2 * 2 * 1 * 2 * 3


def test_choices_carry_selectors_and_resources() -> None:
    rs = resolve(
        parse_spec(
            _spec(
                [
                    {"type": "H100", "wholeGpu": False, "migProfiles": ["1g.10gb"]},
                    {"type": "T4", "nodeSelector": {"pool": "t4"}},
                ]
            )
        ),
        CATALOG,
    )
    mig = rs.choices["H100/1g.10gb"]
    assert mig.resource == "nvidia.com/mig-1g.10gb"
    assert mig.node_selector == {"nvidia.com/gpu.product": "NVIDIA-H100-80GB-HBM3"}
    assert "H100" not in rs.choices
    assert rs.choices["T4"].resource == "nvidia.com/gpu"
    assert rs.choices["T4"].node_selector == {"pool": "t4"}


def test_per_gpu_memory_limits_constrain_the_space() -> None:
    rs = resolve(
        parse_spec(
            _spec([{"type": "T4", "mpsMemoryGB": [0, 4]}, {"type": "V100"}], gpuMemoryGB=[0, 2])
        ),
        CATALOG,
    )
    assert rs.space.knob("gpumem").values == (0.0, 2.0, 4.0)
    configs = list(rs.space.configs())
    assert {(c["gputype"], c["gpumem"]) for c in configs} == {
        ("T4", 0.0),
        ("T4", 4.0),
        ("V100", 0.0),
        ("V100", 2.0),
    }


@pytest.mark.parametrize(
    ("gpus", "message"),
    [
        ([{"type": "Z100"}], "unknown GPU type 'Z100'"),
        ([{"type": "T4", "migProfiles": ["1g.5gb"]}], "T4 has no MIG profile '1g.5gb'"),
    ],
)
def test_what_the_schema_cannot_know_is_a_spec_error(
    gpus: list[dict[str, object]], message: str
) -> None:
    with pytest.raises(SpecError, match=r"spec\.searchSpace\.gpus") as err:
        resolve(parse_spec(_spec(gpus)), CATALOG)
    assert message in str(err.value)


def test_prices_default_to_the_catalog_and_slices_pay_their_share() -> None:
    rs = resolve(parse_spec(_spec([{"type": "A100", "migProfiles": ["3g.20gb"]}])), CATALOG)
    a100 = CATALOG.gpus["A100"].hour
    host = 4 * CATALOG.memory_gib_hour
    whole = rs.objective.cost_per_hour({"gputype": "A100", "cpus": 2})
    assert whole == pytest.approx(a100 + 2 * CATALOG.cpu_core_hour + host)
    sliced = rs.objective.cost_per_hour({"gputype": "A100/3g.20gb", "cpus": 2})
    assert sliced == pytest.approx(a100 * 3 / 7 + 2 * CATALOG.cpu_core_hour + host)
    costs = rs.objective.cost_function(rs.space)(rs.space.all_indices())
    assert np.all(costs > 0) and math.isfinite(float(costs.sum()))


def test_price_overrides_and_documents() -> None:
    spec = parse_spec(_spec([{"type": "T4"}], hostMemoryGiB=2))
    doc = prices_from_document(
        "gpuHour: {T4: 1.0}\ncpuCoreHour: 0.5\nmemoryGiBHour: 0\n", where="x"
    )
    rs = resolve(spec, CATALOG, prices=doc)
    assert rs.objective.cost_per_hour({"gputype": "T4", "cpus": 2}) == pytest.approx(2.0)
    with pytest.raises(SpecError, match="unknown GPU types"):
        resolve(spec, CATALOG, prices=PriceOverrides(gpu_hour={"Z100": 1.0}))
    with pytest.raises(SpecError, match="x: expected a mapping"):
        prices_from_document("- 1", where="x")
