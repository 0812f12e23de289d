"""The examples fit the e2e test cluster: every GPU/power pair they search has nodes.

A pair without nodes leaves its trial pods Pending until ``pendingTimeoutSeconds`` and ends
them ``infeasible: unschedulable``, which is not what a tour should show.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from falcon_operator.core.catalog import load_catalog

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((REPO / "examples").glob("*.yaml"))


def _pools() -> list[dict[str, Any]]:
    pools = yaml.safe_load((REPO / "e2e" / "cluster" / "nodepools.yaml").read_text())["pools"]
    return [p for p in pools if p.get("gpu") and p.get("count", 0) > 0]


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_gpu_and_power_cap_of_an_example_has_nodes(path: Path) -> None:
    spec = yaml.safe_load(path.read_text())["spec"]["searchSpace"]
    catalog = load_catalog()
    pools = _pools()
    for gpu in spec["gpus"]:
        product = catalog.slice(gpu["type"]).gpu.product
        for power in spec.get("powerLimits", [100]):
            fits = [
                p["name"]
                for p in pools
                if p["gpu"]["product"] == product
                and p.get("powerLimit") == power
                and not p.get("mig")
                and int(p["cpu"]) >= max(spec.get("cpus", [2, 4]))
            ]
            assert fits, f"{path.name}: no node pool for {gpu['type']} at {power} % power"


def test_the_check_sees_a_pair_without_nodes() -> None:
    products = {(p["gpu"]["product"], p.get("powerLimit")) for p in _pools()}
    assert ("Tesla-T4", 75) in products
    assert ("Tesla-V100-SXM2-16GB", 75) not in products


def test_the_demo_searches_the_gpus_of_the_tour_cluster() -> None:
    makefile = (REPO / "Makefile").read_text()
    (line,) = [x for x in makefile.splitlines() if x.startswith("DEMO_GPUS :=")]
    demo = line.split(":=")[1].strip().split(",")
    catalog = load_catalog()
    assert {catalog.slice(g).gpu.product for g in demo} == {p["gpu"]["product"] for p in _pools()}
    assert "--gpus $(DEMO_GPUS)" in makefile
