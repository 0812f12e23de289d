"""The head-to-head's figures from saved runs: checkpoints, referee, × brute, to match quick."""

from __future__ import annotations

from pathlib import Path

import pytest

from falcon_operator.core.errors import DataError
from falcon_operator.live.headtohead import report
from falcon_operator.live.runs import MethodRun, Referee, Step, cv, load_all, save


def _run(method: str, values: list[float | None], referee: tuple[float, ...], *,
         tool: str = "falcon-trial") -> MethodRun:  # fmt: skip
    steps = tuple(Step({"batchsize": i}, v) for i, v in enumerate(values))
    repeats = tuple(Referee(v, 40.0 if v != 70.0 else 60.0) for v in referee)
    return MethodRun("m", method, "common", steps, 10.0 * len(values), tool, repeats)


RUNS = [
    _run("falcon", [50, None, 80, 90, 70, 60, 100], (95.0, 105.0)),
    _run("random", [10, 20, None, 30, 40, 50, 60, 70], (70.0, 70.0)),
    _run("analyzer-quick", [30, 60, 85], (80.0, 80.0), tool="perf_analyzer"),
    _run("analyzer-brute", [20, 40, 120, 110], (100.0, 100.0), tool="perf_analyzer"),
]


def test_checkpoints_are_the_best_so_far_of_the_methods_own_measurements() -> None:
    falcon = RUNS[0]
    assert falcon.best_after(1) == 50 and falcon.best_after(6) == 90
    assert falcon.best_after(15) == 100 and falcon.best is not None
    assert falcon.best.objective == 100
    assert _run("x", [None, None], ()).best_after(6) is None
    assert falcon.reached(80) == 3 and falcon.reached(101) is None


def test_the_report_prints_referee_fractions_of_brute_and_measurements_to_match_quick() -> None:
    text = report(RUNS, slo_p99_ms=50)
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| ")}
    falcon = [c.strip() for c in rows["falcon"].split("|")[1:-1]]
    assert falcon[3:8] == ["7", "70", "90.0", "100.0", "100.0"]
    assert falcon[8] == "100.0 (7 %)"  # median of 95 and 105; CV 7.1 %
    assert falcon[9] == "2/2"  # both repeats' p99 under the 50 ms SLO
    assert falcon[10] == "1.000"  # the referee's 100 over brute's 100
    assert falcon[11] == "0.900"  # its best of 6 trials, 90, over brute's referee value
    assert falcon[12] == "3"  # quick's referee value, 80, is first measured by trial 3
    random = [c.strip() for c in rows["random"].split("|")[1:-1]]
    assert random[9] == "0/2"  # the referee measured its pick's p99 at 60 ms
    assert random[10] == "0.700" and random[12] == "not in 8"
    quick = [c.strip() for c in rows["analyzer-quick"].split("|")[1:-1]]
    assert quick[11] == "–" and quick[12] == "3"
    assert "Noise: the coefficient of variation" in text


def test_runs_survive_a_round_trip_and_a_damaged_file_is_a_clear_error(tmp_path: Path) -> None:
    for run in RUNS:
        save(run, tmp_path / "m" / f"{run.method}.json")
    assert sorted(load_all(tmp_path), key=lambda r: r.method) == sorted(
        RUNS, key=lambda r: r.method
    )
    (tmp_path / "m" / "bad.json").write_text("{}")
    with pytest.raises(DataError, match="not a head-to-head run"):
        load_all(tmp_path)
    assert cv([1.0]) is None and cv([1.0, 1.0]) == 0.0
