"""The simulated fleet reproduces the effects a search has to discover."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import pytest

from falcon_operator.core.catalog import load_catalog
from falcon_operator.core.errors import DataError
from falcon_operator.core.objective import Objective
from falcon_operator.fleet.performance import FleetModel, Workload, synthetic_workload


@pytest.fixture(scope="module")
def model() -> FleetModel:
    return FleetModel(load_catalog())


def _slo(model: FleetModel, slo_p99_ms: float) -> Objective:
    return Objective.of(model.catalog, slo_p99_ms=slo_p99_ms)


def cnn() -> Workload:  # compute-bound
    return synthetic_workload("cnn", {"conv2d": (8.0, 100.0), "relu": (0.01, 60.0)},
                              weight_mb=100, activation_mb_per_sample=60)  # fmt: skip


def streaming() -> Workload:  # memory-bound (element-wise, low arithmetic intensity)
    return synthetic_workload("stream", {"add": (0.05, 800.0)},
                              weight_mb=10, activation_mb_per_sample=20)  # fmt: skip


def test_catalog_rows_have_sources_and_derived_prices() -> None:
    catalog = load_catalog()
    assert {"M60", "K80", "T4", "V100", "A10G", "L4", "A100", "H100"} <= set(catalog.gpus)
    for gpu in catalog.gpus.values():
        assert gpu.source.startswith("https://")
        assert gpu.hour > 0
    # g4dn.xlarge $0.526 minus 4 vCPU and 16 GiB at the host rates
    assert catalog.gpus["T4"].hour == pytest.approx(0.526 - 4 * 0.034 - 16 * 0.0057)
    a100 = catalog.slice("A100/3g.20gb")
    assert a100.compute_fraction == pytest.approx(3 / 7) and a100.memory_gb == 20
    assert a100.hour == pytest.approx(catalog.gpus["A100"].hour * 3 / 7)


def test_catalog_errors(tmp_path: Path) -> None:
    catalog = load_catalog()
    with pytest.raises(DataError, match="unknown GPU"):
        catalog.slice("TPU")
    with pytest.raises(DataError, match="no MIG profile"):
        catalog.slice("T4/1g.5gb")
    bad = tmp_path / "c.toml"
    bad.write_text("[host]\ncpu_core_hour = 1\n")
    with pytest.raises(DataError, match="malformed"):
        load_catalog(bad)
    bad.write_text("not = [toml")
    with pytest.raises(DataError, match="not a valid TOML"):
        load_catalog(bad)


def test_power_cap_hurts_compute_bound_more_than_memory_bound(model: FleetModel) -> None:
    sl = model.catalog.slice("V100")

    def slowdown(w: Workload) -> float:
        return model.batch_seconds(w, sl, 32, 0.5) / model.batch_seconds(w, sl, 32, 1.0)

    assert slowdown(cnn()) > slowdown(streaming()) > 1.0


def test_large_batches_run_out_of_memory_on_small_slices(model: FleetModel) -> None:
    small = model.measure(cnn(), gpu="A100/1g.5gb", cpus=4, batch=128)
    assert not small.feasible and "out of memory" in small.reason
    assert model.measure(cnn(), gpu="A100/1g.5gb", cpus=4, batch=8).feasible
    limited = model.measure(cnn(), gpu="A100", cpus=4, batch=64, gpu_memory_limit_gb=2.0)
    assert not limited.feasible


def test_cpu_cores_bound_request_handling(model: FleetModel) -> None:
    heavy = synthetic_workload("pre", {"dense": (0.01, 1.0)}, weight_mb=10,
                               activation_mb_per_sample=1, cpu_ms_per_request=5.0)  # fmt: skip
    rps = [model.measure(heavy, gpu="A100", cpus=c, batch=32).rps for c in (1, 2, 4, 8)]
    assert rps == sorted(rps) and rps[-1] > 3 * rps[0]


def test_batching_trades_throughput_for_latency_under_an_slo(model: FleetModel) -> None:
    free = [model.measure(cnn(), gpu="V100", cpus=4, batch=b) for b in (1, 4, 16)]
    assert free[0].rps < free[1].rps < free[2].rps
    assert free[0].p99_ms < free[2].p99_ms
    tight = model.measure(cnn(), gpu="T4", cpus=4, batch=64, slo_p99_ms=50)
    assert not tight.feasible and "SLO" in tight.reason
    ok = model.measure(cnn(), gpu="T4", cpus=4, batch=1, slo_p99_ms=400)
    assert ok.feasible and ok.p99_ms <= 400


def test_noise_is_seeded_and_multiplicative(model: FleetModel) -> None:
    a = model.measure(cnn(), gpu="L4", cpus=4, batch=8, seed=1)
    b = model.measure(cnn(), gpu="L4", cpus=4, batch=8, seed=1)
    c = model.measure(cnn(), gpu="L4", cpus=4, batch=8, seed=2)
    clean = model.measure(cnn(), gpu="L4", cpus=4, batch=8)
    assert a == b and a.rps != c.rps
    assert abs(math.log(a.rps / clean.rps)) < 0.15


def test_objective_is_rps_per_dollar(model: FleetModel) -> None:
    from falcon_operator.fleet.backend import FleetBackend

    config = {"batchsize": 8, "cpus": 2, "gpumem": 0.0, "gpupower": 100, "gputype": "T4"}
    record = FleetBackend(cnn(), model).run(config, noisy=False)
    catalog = model.catalog
    cost = catalog.gpus["T4"].hour + 2 * catalog.cpu_core_hour + 4 * catalog.memory_gib_hour
    assert record.metrics["cost_per_hour"] == pytest.approx(cost)
    assert record.objective == pytest.approx(record.metrics["rps"] / cost)
    assert set(record.metrics) == {"rps", "p50_ms", "p99_ms", "gpu_memory_gb", "cost_per_hour"}


def test_fleet_backend_records(model: FleetModel) -> None:
    from falcon_operator.core.records import Outcome
    from falcon_operator.fleet.backend import FleetBackend, fleet_space

    space = fleet_space(model.catalog, gpus=["T4", "A100"])
    assert "A100/1g.5gb" in space.knob("gputype").values
    assert space.size == 8 * 4 * 4 * 3 * (1 + 1 + 5)
    backend = FleetBackend(cnn(), model, objective=_slo(model, 300), seed=3)
    ok = backend.run({"batchsize": 4, "cpus": 4, "gpumem": 0.0, "gpupower": 100, "gputype": "T4"})
    assert ok.outcome is Outcome.OK and ok.objective == pytest.approx(
        ok.metrics["rps"] / ok.metrics["cost_per_hour"]
    )
    oom = backend.run(
        {"batchsize": 128, "cpus": 4, "gpumem": 2.0, "gpupower": 100, "gputype": "A100"}
    )
    assert oom.outcome is Outcome.INFEASIBLE and "out of memory" in oom.reason
    assert oom.failure == "oom" and ok.failure is None
    slow = backend.run(
        {"batchsize": 64, "cpus": 1, "gpumem": 0.0, "gpupower": 50, "gputype": "A100/1g.5gb"}
    )
    assert slow.outcome in (Outcome.FAILED, Outcome.INFEASIBLE)


def test_a_measurement_says_why_it_is_not_feasible(model: FleetModel) -> None:
    """The failure kind travels as structure, never as a reason to grep."""
    from falcon_operator.core.errors import DataError
    from falcon_operator.core.records import FailureKind
    from falcon_operator.fleet.performance import Measurement

    w, gpu = cnn(), "A100/1g.5gb"
    fits = model.measure(w, gpu=gpu, cpus=4, batch=1)
    assert fits.feasible and fits.failure is None
    oom = model.measure(w, gpu=gpu, cpus=4, batch=128, gpu_memory_limit_gb=0.5)
    assert not oom.feasible and oom.failure is FailureKind.OOM
    slo = model.measure(w, gpu=gpu, cpus=1, batch=64, power=0.5, slo_p99_ms=1e-3)
    assert not slo.feasible and slo.failure is FailureKind.SLO
    with pytest.raises(DataError):
        Measurement(False, "no reason kind")
    with pytest.raises(DataError):
        Measurement(True, failure=FailureKind.OOM)


def test_a_measured_p99_over_the_slo_fails_the_trial(model: FleetModel) -> None:
    from falcon_operator.core.records import Outcome
    from falcon_operator.fleet.backend import FleetBackend

    config = {"batchsize": 16, "cpus": 4, "gpumem": 0.0, "gpupower": 100, "gputype": "T4"}
    clean = FleetBackend(cnn(), model).measure(config, noisy=False)
    tight = FleetBackend(cnn(), model, objective=_slo(model, 1.0), seed=1).run(config)
    assert tight.outcome is Outcome.FAILED and "SLO" in tight.reason
    outcomes = set()
    for seed in range(20):  # whatever the noise, an ok trial never reports p99 over the SLO
        slo = _slo(model, clean.p99_ms)
        record = FleetBackend(cnn(), model, objective=slo, seed=seed).run(config)
        outcomes.add(record.outcome)
        assert not record.ok or record.metrics["p99_ms"] <= clean.p99_ms
    assert outcomes == {Outcome.OK, Outcome.FAILED}  # noise pushes some measurements over


def small_batch_cnn() -> Workload:  # launch- and occupancy-bound at small batches
    return synthetic_workload("tiny", {"conv2d": (0.2, 5.0)}, weight_mb=400,
                              activation_mb_per_sample=5, kernels=40)  # fmt: skip


def test_one_instance_is_the_model_without_instances(model: FleetModel) -> None:
    w = small_batch_cnn()
    kwargs = {"gpu": "T4", "cpus": 4.0, "batch": 2, "slo_p99_ms": 50.0, "seed": 3}
    assert model.measure(w, **kwargs, instances=1) == model.measure(w, **kwargs)  # type: ignore[arg-type]


def test_more_instances_raise_throughput_up_to_the_gpus_saturation(model: FleetModel) -> None:
    w, sl = small_batch_cnn(), model.catalog.slice("V100")
    times = [model.batch_seconds(w, sl, 2, 1.0, instances=n) for n in range(1, 9)]
    assert all(a > b for a, b in itertools.pairwise(times))  # GPU time per batch falls
    st = model.settings
    peak = sl.gpu.fp32_tflops * 1e12 * st.compute_utilisation
    roofline = sum(  # no launch gaps, full batch efficiency: the saturation
        max(op.flops_per_sample * 2 / peak, (op.bytes_per_sample * 2 + op.weight_bytes) /
            (sl.gpu.bandwidth_gbs * 1e9))
        for op in w.operators
    )  # fmt: skip
    assert times[-1] > roofline
    gains = [a / b for a, b in itertools.pairwise(times)]
    assert gains[-1] < gains[0]  # diminishing returns
    rps = [model.measure(w, gpu="V100", cpus=8, batch=2, instances=n).rps for n in (1, 2, 4)]
    assert rps[0] < rps[1] < rps[2]


def test_each_instance_holds_its_weights_so_memory_runs_out_sooner(model: FleetModel) -> None:
    w = small_batch_cnn()
    need = [model.gpu_memory_gb(w, 4, instances=n) for n in (1, 2, 3)]
    assert need[1] - need[0] == pytest.approx(need[2] - need[1])
    assert need[1] - need[0] > 0.4  # 400 MB of weights (and the activations) per instance
    assert model.measure(w, gpu="T4", cpus=4, batch=4, gpu_memory_limit_gb=1.0).feasible
    two = model.measure(w, gpu="T4", cpus=4, batch=4, gpu_memory_limit_gb=1.0, instances=2)
    assert not two.feasible and two.reason.startswith("out of memory")


def test_latency_under_load_rises_with_instances(model: FleetModel) -> None:
    w = small_batch_cnn()
    one = model.measure(w, gpu="T4", cpus=8, batch=4)
    four = model.measure(w, gpu="T4", cpus=8, batch=4, instances=4)
    assert four.rps > one.rps and four.p99_ms > one.p99_ms
