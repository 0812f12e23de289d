"""Suggestion latency over realistic histories: the suite ``falcon bench`` records, and
``falcon bench --latency-only`` (``make bench-latency``)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from falcon_operator.bench.latency import large_space, latency_suite, time_suggestions
from falcon_operator.bench.report import write_latency
from falcon_operator.knowledge.base import Knowledge
from falcon_operator.knowledge.dataset import FalconDataset, default_data_dir
from falcon_operator.knowledge.tables import Table


@pytest.fixture(scope="module")
def paper() -> tuple[FalconDataset, Knowledge, Table]:
    ds = FalconDataset(default_data_dir())
    kb = ds.knowledge()
    return ds, kb, ds.tables("targets", ["vgg16"], space=kb.space)[0]


def test_time_suggestions_times_every_history_size_with_cpu_time(
    paper: tuple[FalconDataset, Knowledge, Table],
) -> None:
    ds, kb, target = paper
    stats = time_suggestions(
        target.space,
        kb,
        profile=ds.profile(target.name),
        history_sizes=range(0, 10, 3),
        infeasible=0.3,
        n=4,
    )
    assert stats["n"] == 4  # one ask per history size
    assert 0 < stats["p50_ms"] <= stats["p95_ms"] <= stats["max_ms"]
    assert 0 < stats["cpu_p50_ms"] <= stats["cpu_p95_ms"]


def test_latency_suite_times_both_spaces_and_the_large_one_in_a_fresh_process(
    paper: tuple[FalconDataset, Knowledge, Table],
) -> None:
    ds, kb, target = paper
    out = latency_suite(target.space, kb, profile=ds.profile(target.name), histories=range(0, 3))
    size = target.space.size
    assert set(out) == {str(size), f"{size}-n4", "large"}
    assert out[str(size)]["picks"] == 1 and out[f"{size}-n4"]["picks"] == 4
    assert out[str(size)]["candidates"] == size
    assert all(e["n"] == 3 and e["infeasible_share"] == 0.3 for e in out.values())
    large = out["large"]
    assert large["candidates"] == large_space().size > 100_000
    # the child loaded numpy, scikit-learn and the knowledge base before its first suggestion
    assert 50 < large["rss_before_mb"] <= large["peak_rss_mb"] < 4096
    assert "peak_rss_mb" not in out[str(size)]


def test_write_latency_writes_json_and_markdown(tmp_path: Path) -> None:
    latency = {
        "6912": {"p50_ms": 40.0, "p95_ms": 80.0, "n": 31.0, "picks": 1.0, "candidates": 6912.0},
        "large": {"p50_ms": 300.0, "p95_ms": 600.0, "n": 31.0, "candidates": 110592.0,
                  "infeasible_share": 0.3, "max_history": 30.0, "cpu_p95_ms": 550.0,
                  "peak_rss_mb": 240.0, "rss_before_mb": 200.0},
    }  # fmt: skip
    paths = write_latency(tmp_path / "lat", latency, meta={"data": "x"})
    doc = json.loads(paths["json"].read_text())
    assert doc["meta"] == {"data": "x"}
    assert doc["latency"]["large"]["peak_rss_mb"] == 240.0 and doc["latency"]["large"]["n"] == 31
    md = paths["markdown"].read_text()
    assert "`large`: p50 300.00 ms, p95 600.00 ms" in md
    assert "110,592 candidates" in md and "histories of 0–30 trials" in md
    assert "30% infeasible" in md and "CPU time p95 550.00 ms" in md
    assert "peak memory 240 MB (200 MB before the first suggestion)" in md
    assert "6,912 candidates; 1 per ask" in md
