"""Triton Model Analyzer in the live head-to-head: its profile YAML, its results read back, a run.

The fixture ``data/ma-quick-resnet-mini/`` is trimmed from a real run of
``run_model_analyzer(resnet-mini, mode="quick", instances=[1], batch_sizes=[1, 2],
concurrencies=[1, 2], slo_p99_ms=500, cores=[0])`` on this host's CPU Triton 2.51 with MA 1.58:
its CSV and variant configs unchanged, its log without blank lines and report-export lines.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from falcon_operator.live.analyzer import (
    AnalyzerMissingError,
    AnalyzerResultsError,
    analyzer_path,
    run_model_analyzer,
)
from falcon_operator.live.analyzer_config import base_config, profile_config, profile_yaml
from falcon_operator.live.analyzer_results import (
    measurements,
    profiling_order,
    read_results,
    variant_config,
)

DATA = Path(__file__).resolve().parent / "data" / "ma-quick-resnet-mini"
MODELS = Path(__file__).resolve().parents[2] / "operator" / "falcon_operator" / "data" / "models"
RESNET = MODELS / "resnet-mini.onnx"
PATHS = {k: Path(f"/w/{k}") for k in ("repository", "output", "export", "checkpoints")}
ENDPOINTS = {"http": "127.0.0.1:1", "grpc": "127.0.0.1:2", "metrics": "http://127.0.0.1:3/metrics"}


def _config(mode: str = "brute", **bounds: list[int]) -> dict[str, object]:
    lists = {"instances": [1, 2, 3], "batch_sizes": [1, 4, 8], "concurrencies": [2, 16]} | bounds
    return profile_config(
        "resnet-mini", mode=mode, slo_p99_ms=25.0, **lists,
        paths=PATHS | {"perf_analyzer": Path("/pa/perf_analyzer")}, endpoints=ENDPOINTS,
    )  # fmt: skip


def test_the_yaml_bounds_the_search_by_the_lists_and_keeps_the_model_on_cpu() -> None:
    read = yaml.safe_load(profile_yaml(_config()))
    assert read["run_config_search_mode"] == "brute"
    assert read["triton_launch_mode"] == "remote"
    bounds = {k.removeprefix("run_config_search_"): v for k, v in read.items()
              if k.startswith(("run_config_search_min", "run_config_search_max"))}  # fmt: skip
    assert bounds == {
        "min_instance_count": 1, "max_instance_count": 3, "min_model_batch_size": 1,
        "max_model_batch_size": 8, "min_concurrency": 2, "max_concurrency": 16,
    }  # fmt: skip
    assert read["perf_analyzer_flags"] == {
        "measurement-interval": 2000, "stability-percentage": 10, "input-data": "zero"
    }  # fmt: skip
    assert read["profile_models"] == {"resnet-mini": {
        "cpu_only": True, "objectives": {"perf_throughput": 10},
        "constraints": {"perf_latency_p99": {"max": 25.0}},
    }}  # fmt: skip
    assert read["triton_http_endpoint"] == "127.0.0.1:1"
    assert read["perf_analyzer_path"] == "/pa/perf_analyzer"
    assert read["model_repository"] == "/w/repository"


@pytest.mark.parametrize(
    ("mode", "bounds", "message"),
    [("optuna", {}, "mode must be one of"), ("quick", {"instances": []}, "instances must be"),
     ("quick", {"concurrencies": [0, 2]}, "concurrencies must be")],
)  # fmt: skip
def test_the_yaml_builder_refuses_what_ma_cannot_search(
    mode: str, bounds: dict[str, list[int]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _config(mode, **bounds)


def test_the_base_config_has_static_dims_and_an_explicit_cpu_instance_group() -> None:
    config = base_config("resnet-mini", RESNET, max_batch_size=2, instances=3)
    assert config["max_batch_size"] == 2
    assert config["input"] == [{"name": "input", "data_type": "TYPE_FP32", "dims": [3, 64, 64]}]
    assert config["instance_group"] == [{"kind": "KIND_CPU", "count": 3}]


def test_the_log_gives_the_order_of_the_perf_analyzer_runs() -> None:
    assert profiling_order((DATA / "model-analyzer.log").read_text()) == [
        ("resnet-mini_config_default", 1, 2), ("resnet-mini_config_0", 1, 2),
        ("resnet-mini_config_1", 1, 2), ("resnet-mini_config_1", 1, 1),
        ("resnet-mini_config_default", 1, 1), ("resnet-mini_config_0", 1, 1),
    ]  # fmt: skip
    assert profiling_order("[Model Analyzer] Profiling m_config_4: client batch size=8, "
                           "concurrency=16\n") == [("m_config_4", 8, 16)]  # fmt: skip


def test_variant_configs_give_instances_batch_and_dynamic_batching() -> None:
    v = variant_config((DATA / "output" / "resnet-mini_config_1" / "config.pbtxt").read_text())
    assert (v.instances, v.max_batch_size, v.dynamic_batching) == (1, 2, True)
    d = variant_config(
        (DATA / "output" / "resnet-mini_config_default" / "config.pbtxt").read_text()
    )
    assert (d.instances, d.max_batch_size, d.dynamic_batching) == (1, 1, False)
    two_groups = "max_batch_size: 4\ninstance_group {\n  count: 2\n}\ninstance_group {\n}\n"
    assert variant_config(two_groups).instances == 3  # count defaults to 1
    with pytest.raises(AnalyzerResultsError, match="no instance_group"):
        variant_config('name: "m"\nmax_batch_size: 4\n')


def test_the_real_run_reads_back_as_six_measurements_in_order() -> None:
    got = read_results(DATA / "export", (DATA / "model-analyzer.log").read_text(), DATA / "output")
    rows = [
        (
            m.order,
            m.variant.removeprefix("resnet-mini_config_"),
            m.config["instances"],
            m.config["batchsize"],
            m.config["concurrency"],
            m.throughput,
            m.p99_ms,
        )
        for m in got
    ]
    assert rows == [
        (1, "default", 1, 1, 2, 300.5, 11.1),
        (2, "0", 1, 1, 2, 286.2, 13.4),
        (3, "1", 1, 2, 2, 310.7, 11.6),
        (4, "1", 1, 2, 1, 298.8, 5.3),
        (5, "default", 1, 1, 1, 222.1, 11.1),
        (6, "0", 1, 1, 1, 274.4, 9.5),
    ]  # fmt: skip
    assert [m.dynamic_batching for m in got] == [False, True, True, True, False, True]


def test_a_failed_perf_analyzer_run_takes_no_number_and_unlogged_rows_are_refused() -> None:
    log = (DATA / "model-analyzer.log").read_text()
    csv = (DATA / "export" / "results" / "metrics-model-inference.csv").read_text()
    variants = {d.name: variant_config((d / "config.pbtxt").read_text())
                for d in (DATA / "output").iterdir()}  # fmt: skip
    # a real MA line for a run whose perf_analyzer failed (no CSV row), put first
    failed = "[Model Analyzer] Profiling resnet-mini_config_9: concurrency=2\n"
    assert [m.order for m in measurements(csv, failed + log, variants)] == [1, 2, 3, 4, 5, 6]
    without_first = log.replace("Profiling resnet-mini_config_default: concurrency=2", "")
    with pytest.raises(AnalyzerResultsError, match="never says it profiled"):
        measurements(csv, without_first, variants)
    with pytest.raises(AnalyzerResultsError, match="measured nothing"):
        measurements(csv.splitlines()[0] + "\n", log, variants)
    with pytest.raises(AnalyzerResultsError, match=r"no config\.pbtxt"):
        measurements(csv, log, {})


def test_a_missing_csv_means_nothing_was_measured(tmp_path: Path) -> None:
    with pytest.raises(AnalyzerResultsError, match="wrote no"):
        read_results(tmp_path, "", DATA / "output")


def test_without_the_install_the_error_says_make_model_analyzer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FALCON_CACHE", str(tmp_path))
    with pytest.raises(AnalyzerMissingError, match="run make model-analyzer"):
        run_model_analyzer(RESNET, mode="quick", slo_p99_ms=100, instances=[1], batch_sizes=[1],
                           concurrencies=[1], cores=[0], work_dir=tmp_path / "w")  # fmt: skip


@pytest.mark.live
def test_model_analyzer_quick_on_real_triton(tmp_path: Path) -> None:
    """MA quick mode on resnet-mini (instances 1, batch 1..2, concurrency 1..2): real numbers."""
    try:
        analyzer_path()
    except AnalyzerMissingError as exc:
        pytest.fail(str(exc), pytrace=False)
    core = min(os.sched_getaffinity(0))
    run = run_model_analyzer(
        RESNET, mode="quick", slo_p99_ms=500, instances=[1], batch_sizes=[1, 2],
        concurrencies=[1, 2], cores=[core], work_dir=tmp_path / "ma", timeout_s=900,
    )  # fmt: skip
    got = run.measurements
    assert run.mode == "quick" and run.wall_s > 0
    assert [m.order for m in got] == list(range(1, len(got) + 1))
    seen = {(m.variant, m.config["concurrency"]) for m in got}
    assert len(seen) == len(got) >= 2  # each (variant, concurrency) measured once
    assert {m.config["instances"] for m in got} == {1}
    assert {m.config["batchsize"] for m in got} <= {1, 2}
    assert {m.config["concurrency"] for m in got} <= {1, 2}
    assert any(m.config["batchsize"] == 2 for m in got)  # MA went past the base config
    assert all(m.throughput > 0 and m.p99_ms > 0 for m in got)
