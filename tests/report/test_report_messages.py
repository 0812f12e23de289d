"""A search that found nothing says why, truthfully."""

from __future__ import annotations

from pathlib import Path

from falcon_operator.core.numbers import plain
from falcon_operator.core.records import FailureKind, Outcome, TrialRecord
from falcon_operator.core.space import Value
from falcon_operator.report.messages import no_success, short_config


def _slo(gpu: str, p99: float) -> TrialRecord:
    return TrialRecord.failed(
        {"gputype": gpu, "batchsize": 4, "cpus": 2, "gpumem": 4.0},
        FailureKind.SLO,
        f"measured p99 {p99} ms breaks the 0.5 ms SLO",
        metrics={"p99_ms": p99, "rps": 10.0},
    )


def test_an_unmeetable_slo_names_the_lowest_p99_and_where() -> None:
    history = [_slo("T4", 2.1), _slo("V100", 1.6), TrialRecord.failed({"gputype": "A100"},
               FailureKind.UNSCHEDULABLE, "unschedulable")]  # fmt: skip
    assert no_success(history, slo_p99_ms=0.5) == (
        "no configuration meets the 0.5 ms p99 SLO: the lowest p99 measured is 1.6 ms "
        "(trial 2, V100 b4 cpus=2 gpumem=4) over 3 trials (1 infeasible, 2 failed)"
    )


def test_close_values_get_the_digits_that_tell_them_apart() -> None:
    message = no_success([_slo("T4", 0.50004)], slo_p99_ms=0.5, labels=["s-t000"])
    assert "the lowest p99 measured is 0.50004 ms (s-t000, T4 b4" in message
    assert message.startswith("no configuration meets the 0.5 ms p99 SLO")


def test_nothing_measured_says_so() -> None:
    crash = TrialRecord.failed({"gputype": "T4"}, FailureKind.CRASH, "crash")
    assert no_success([crash], slo_p99_ms=0.5) == (
        "none of the 1 trials produced a measurement (0 infeasible, 1 failed)"
    )
    assert no_success([], slo_p99_ms=None) == "no trial ran"


def test_short_config_puts_gpu_and_batch_first() -> None:
    cfg: dict[str, Value] = {
        "batchsize": 16, "cpus": 4, "gpumem": 0.0, "gpupower": 100, "gputype": "T4"
    }  # fmt: skip
    assert short_config(cfg) == "T4 b16 cpus=4 gpumem=0 gpupower=100"


def test_an_slo_out_of_reach_on_the_fleet_still_reports_its_low_load_p99() -> None:
    import falcon_operator
    from falcon_operator.core.catalog import load_catalog
    from falcon_operator.core.objective import Objective
    from falcon_operator.fleet.backend import FleetBackend
    from falcon_operator.fleet.performance import FleetModel
    from falcon_operator.fleet.workload import workload_from_onnx
    from falcon_operator.trials.simulated import simulated_record

    model = Path(falcon_operator.__file__).parent / "data/models/resnet-mini.onnx"
    workload, _ = workload_from_onnx(model)
    objective = Objective.of(load_catalog(), slo_p99_ms=0.01)
    backend = FleetBackend(workload, FleetModel(load_catalog()), objective=objective, seed=0)
    cfg: dict[str, Value] = {
        "batchsize": 1, "cpus": 4, "gpumem": 0.0, "gpupower": 100, "gputype": "T4"
    }  # fmt: skip
    record = backend.run(cfg)
    assert record.outcome is Outcome.FAILED and "unreachable" in record.reason
    p99 = record.metrics["p99_ms"]
    assert p99 > 0.01 and f"p99 ≥ {plain(p99)} ms even at low load" in record.reason
    assert no_success([record], slo_p99_ms=0.01).startswith(
        f"no configuration meets the 0.01 ms p99 SLO: the lowest p99 measured is {plain(p99)} ms "
        "(trial 1, T4 b1"
    )
    # the operator's simulated trials record the same
    simulated = simulated_record(cfg, backend.measure(cfg), objective=objective)
    assert simulated.failure == "slo" and simulated.metrics["p99_ms"] == p99
