"""One number format: four significant digits, no exponent; comparisons show the difference."""

from __future__ import annotations

from falcon_operator.core.catalog import load_catalog
from falcon_operator.core.numbers import objective, plain, rounded, slo_break, versus
from falcon_operator.core.objective import Objective
from falcon_operator.fleet.performance import Measurement
from falcon_operator.trials.outcome import judge
from falcon_operator.trials.simulated import simulated_record
from falcon_trial.schema import MeasurementReport, RunnerReport, Status


def _objective(slo_p99_ms: float) -> Objective:
    return Objective.of(load_catalog(), slo_p99_ms=slo_p99_ms)


def test_plain_keeps_four_significant_digits_and_never_an_exponent() -> None:
    assert plain(13467.6159) == "13468"  # was 1.347e+04 in events, 13467.6159 in kubectl
    assert plain(1234567.0) == "1234567"
    assert plain(0.012345) in ("0.01234", "0.01235")
    assert plain(427.53) == "427.5"
    assert plain(2.0) == "2"
    assert plain(0.0) == "0"
    assert objective(13467.6159) == "13468 req/s per $/h"


def test_the_status_number_prints_as_the_event_does() -> None:
    for x in (13467.6159, 0.4987312, 1910.93, 7.25):
        assert plain(rounded(x)) == plain(x)
        assert float(plain(x)) == rounded(x)


def test_comparisons_print_enough_digits_to_differ() -> None:
    assert versus(0.50004, 0.5) == ("0.50004", "0.5")
    assert versus(1.6, 0.5) == ("1.6", "0.5")
    assert slo_break(0.5001, 0.5) == "measured p99 0.5001 ms breaks the 0.5 ms SLO"
    assert slo_break(0.500000001, 0.5) != "measured p99 0.5 ms breaks the 0.5 ms SLO"


def _report(p99_ms: float) -> RunnerReport:
    result = MeasurementReport(4, True, throughput_rps=100.0, p99_ms=p99_ms)
    return RunnerReport(Status.OK, 0, result=result)


def test_trial_verdicts_compare_unrounded_and_say_so() -> None:
    t4 = {"gputype": "T4", "cpus": 1}
    record = judge(t4, _report(0.50004), None, objective=_objective(0.5))
    assert record.failure == "slo"
    assert record.reason == "measured p99 0.50004 ms breaks the 0.5 ms SLO"
    ok = judge(t4, _report(0.5), None, objective=_objective(0.5))
    assert ok.ok


def test_simulated_verdicts_use_the_same_reason() -> None:
    m = Measurement(True, "", 100.0, 0.3, 0.5003, 1.0, 0.01)
    record = simulated_record({"gputype": "T4", "cpus": 1}, m, objective=_objective(0.5))
    assert record.failure == "slo"
    assert record.reason == "measured p99 0.5003 ms breaks the 0.5 ms SLO"


def test_an_objective_prints_in_its_metrics_words() -> None:
    at_target = Objective.of(load_catalog(), metric="CostAtTargetThroughput", target_rps=5000)
    assert objective(1 / 3.206, at_target) == "3.206 $/h for 5000 req/s"
    assert "req/s per $/h" not in objective(0.3119, at_target)
    assert objective(13467.6159, Objective.of(load_catalog())) == "13468 req/s per $/h"
