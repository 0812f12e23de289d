"""The catalog is the one GPU table: the copies that cannot import it must agree with it.

The e2e cluster's node pools (``e2e/cluster/nodepools.yaml``, read when the cluster starts) and
the real node's pool (``e2e/falcon_e2e/realnode.py``) spell each GPU's product label and
``nvidia.com/gpu.memory`` out; the paper-data tables (curves' ``GPU_CODES``, timings'
``INSTANCE_GPUS``) and the benchmark's large space are read from the catalog.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
import yaml

from falcon_operator.core.catalog import Catalog, load_catalog, shipped_catalog
from falcon_operator.core.errors import DataError

ROOT = Path(__file__).resolve().parents[2]
NODEPOOLS = ROOT / "e2e" / "cluster" / "nodepools.yaml"
REALNODE = ROOT / "e2e" / "falcon_e2e" / "realnode.py"


def _check_gpu(catalog: Catalog, where: str, product: str, memory_mib: int) -> list[str]:
    """What is wrong with one pool's GPU against the catalog ([] when it agrees)."""
    rows = [g for g in catalog.gpus.values() if g.product == product]
    if not rows:
        known = sorted(g.product for g in catalog.gpus.values())
        return [f"{where}: product {product!r} is no catalog GPU's product (known: {known})"]
    gpu = rows[0]
    if memory_mib != gpu.memory_mib:
        return [f"{where}: memoryMiB {memory_mib}, the catalog's {gpu.name}: {gpu.memory_mib}"]
    return []


def pool_problems(catalog: Catalog, doc: dict[str, Any]) -> list[str]:
    """Every disagreement of a nodepools.yaml document with the catalog."""
    out: list[str] = []
    for pool in doc.get("pools") or []:
        gpu = pool.get("gpu")
        if gpu is None:
            continue
        where = f"nodepools.yaml pool {pool['name']}"
        out += _check_gpu(catalog, where, str(gpu["product"]), int(gpu["memoryMiB"]))
        rows = [g for g in catalog.gpus.values() if g.product == gpu["product"]]
        for profile in pool.get("mig") or {}:
            if rows and profile not in rows[0].mig:
                out.append(f"{where}: MIG profile {profile} is not in the catalog's {rows[0].name}")
    return out


def realnode_gpus(source: str) -> list[tuple[str, int]]:
    """The literal ``Gpu(product, memory_mib, count)`` calls of a module's source."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Gpu":
            product, memory = (ast.literal_eval(a) for a in node.args[:2])
            found.append((str(product), int(memory)))
    return found


def test_nodepools_agree_with_the_catalog() -> None:
    doc = yaml.safe_load(NODEPOOLS.read_text())
    assert any(p.get("gpu") for p in doc["pools"])
    assert pool_problems(shipped_catalog(), doc) == []


def test_realnode_agrees_with_the_catalog() -> None:
    gpus = realnode_gpus(REALNODE.read_text())
    assert gpus == [("Tesla-T4", 15360)]  # the real node's pool is a T4 pool
    catalog = shipped_catalog()
    assert [p for prod, mib in gpus for p in _check_gpu(catalog, "realnode", prod, mib)] == []


def test_a_disagreeing_pool_is_reported() -> None:
    doc = yaml.safe_load(NODEPOOLS.read_text())
    doc["pools"][1]["gpu"]["memoryMiB"] += 1
    doc["pools"][2]["gpu"]["product"] = "Tesla-T4-PCIe"
    doc["pools"][-1]["mig"]["2g.99gb"] = 1
    problems = pool_problems(shipped_catalog(), doc)
    assert len(problems) == 3
    assert "memoryMiB 15361," in problems[0] and "Tesla-T4-PCIe" in problems[1]
    assert "2g.99gb" in problems[2]
    assert realnode_gpus('Gpu("NVIDIA-L4", 23034, 1)') == [("NVIDIA-L4", 23034)]
    assert _check_gpu(shipped_catalog(), "realnode", "NVIDIA-L4", 23034) != []


def test_paper_tables_come_from_the_catalog() -> None:
    from falcon_operator.bench.latency import large_space
    from falcon_operator.fleet.timings import INSTANCE_GPUS
    from falcon_operator.knowledge.curves import GPU_CODES

    catalog = shipped_catalog()
    assert GPU_CODES == {1: "M60", 2: "K80", 3: "T4", 4: "V100"} == catalog.paper_codes()
    assert INSTANCE_GPUS == {
        "g3.4xlarge": "M60",
        "p2.8xlarge": "K80",
        "g4dn.4xlarge": "T4",
        "p3.2xlarge": "V100",
    }
    space = large_space()
    assert space.size == 110_592
    assert space.knob("gputype").values == tuple(catalog.gpus)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("paper_code = 1\n[gpus.B]\n{base}paper_code = 1\n", "share a paper_code"),
        ('paper_instance = "x"\n[gpus.B]\n{base}paper_instance = "x"\n', "share a paper_instance"),
        ("memory_mib = 99999\n", "memory_mib"),
    ],
)
def test_the_catalog_rejects_ambiguous_paper_columns(
    tmp_path: Path, row: str, message: str
) -> None:
    base = (
        'product = "P"\nfp32_tflops = 1\nbandwidth_gbs = 1\nmemory_gb = 8\ntdp_w = 1\n'
        "instance_hour = 1\ninstance_vcpus = 1\ninstance_memory_gib = 1\ninstance_gpus = 1\n"
        'source = "s"\n'
    )
    text = "[host]\ncpu_core_hour = 0.01\nmemory_gib_hour = 0.01\n[gpus.A]\n" + base
    path = tmp_path / "c.toml"
    path.write_text(text + row.format(base=base))
    with pytest.raises(DataError, match=message):
        load_catalog(path)
    path.write_text(text)
    gpu = load_catalog(path).gpus["A"]
    assert (gpu.memory_mib, gpu.paper_code, gpu.paper_instance) == (0, None, "")
