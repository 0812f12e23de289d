"""Tests for bench.report: exact aggregates, the JSON schema, Markdown, the plot, latency."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from falcon_operator.bench.report import (
    RunResult,
    accuracy_at,
    latency_stats,
    markdown_table,
    plot_accuracy,
    results_json,
    summarise,
    trials_to,
    write_report,
)
from falcon_operator.core.errors import DataError

NAN = math.nan
CPS = (3, 6)


def _runs() -> list[RunResult]:
    return [
        # acc: 0, .5, .95, 1.0 (then stays 1.0 past its 4 trials); reaches .95 at 3
        RunResult("falcon", "t1", 0, (NAN, 50.0, 95.0, 100.0), 100.0),
        # acc @3 = .9, @6 = .96; reaches .95 at 6
        RunResult("falcon", "t1", 1, (80.0, 90.0, 90.0, 90.0, 90.0, 96.0), 100.0, 2),
        # acc .25, .5, then stays .5; never reaches .95
        RunResult("falcon", "t2", 0, (10.0, 20.0), 40.0, 1),
        # never succeeds
        RunResult("random", "t1", 0, (NAN, NAN, NAN), 100.0),
        # acc .9, .95; reaches .95 at 2
        RunResult("random", "t2", 0, (36.0, 38.0), 40.0),
    ]


LATENCY = {"1440": {"p50_ms": 1.234567, "p95_ms": 2.5}, "large": {"p50_ms": 10.0, "p95_ms": 20.0}}


# -- accuracy_at / trials_to -------------------------------------------------------------------


def test_accuracy_at_basic_nan_and_short_runs() -> None:
    run = _runs()[0]
    assert accuracy_at(run, 1) == 0.0  # NaN counts as 0
    assert accuracy_at(run, 2) == pytest.approx(0.5)
    assert accuracy_at(run, 3) == pytest.approx(0.95)
    assert accuracy_at(run, 4) == pytest.approx(1.0)
    assert accuracy_at(run, 30) == pytest.approx(1.0)  # shorter than k: last value
    assert accuracy_at(_runs()[3], 30) == 0.0
    assert accuracy_at(RunResult("m", "t", 0, (), 1.0), 5) == 0.0


def test_accuracy_at_rejects_bad_k() -> None:
    with pytest.raises(ValueError):
        accuracy_at(_runs()[0], 0)


def test_trials_to() -> None:
    runs = _runs()
    assert [trials_to(r) for r in runs] == [3, 6, None, None, 2]
    assert trials_to(runs[0], level=0.5) == 2
    assert trials_to(runs[1], level=0.9) == 2
    assert trials_to(runs[2], level=0.25) == 1
    # float slack: 0.57 / 0.6 is 0.9499999... but counts as reaching 0.95
    assert trials_to(RunResult("m", "t", 0, (0.57,), 0.6)) == 1


def test_run_result_validation_and_coercion() -> None:
    run = RunResult("m", "t", 0, [1, 2], 2.0)  # type: ignore[arg-type]
    assert run.best_so_far == (1.0, 2.0)
    with pytest.raises(DataError):
        RunResult("m", "t", 0, (1.0,), 0.0)
    with pytest.raises(DataError):
        RunResult("m", "t", 0, (1.0,), NAN)
    with pytest.raises(DataError):
        RunResult("", "t", 0, (1.0,), 1.0)
    with pytest.raises(DataError):
        RunResult("m", "t", 0, (1.0,), 1.0, -1)


# -- summarise -------------------------------------------------------------------------------


def test_summarise_per_method() -> None:
    s = summarise(_runs(), [6, 3, 3])
    assert s.checkpoints == CPS
    assert list(s.methods) == ["falcon", "random"]
    f = s.methods["falcon"]
    assert f.n_runs == 3
    assert f.at[3].mean_accuracy == pytest.approx((0.95 + 0.9 + 0.5) / 3)
    assert f.at[3].p_ge_0_9 == pytest.approx(2 / 3)
    assert f.at[3].p_ge_0_95 == pytest.approx(1 / 3)
    assert f.at[6].mean_accuracy == pytest.approx((1.0 + 0.96 + 0.5) / 3)
    assert f.at[6].p_ge_0_9 == pytest.approx(2 / 3)
    assert f.at[6].p_ge_0_95 == pytest.approx(2 / 3)
    assert f.mean_trials_to_0_95 == pytest.approx(4.5)
    assert f.frac_reached_0_95 == pytest.approx(2 / 3)
    assert f.infeasible_trials_mean == pytest.approx(1.0)
    r = s.methods["random"]
    assert r.at[3].mean_accuracy == pytest.approx(0.475)
    assert r.at[6].mean_accuracy == pytest.approx(0.475)
    assert r.at[3].p_ge_0_9 == pytest.approx(0.5)
    assert r.at[3].p_ge_0_95 == pytest.approx(0.5)
    assert r.mean_trials_to_0_95 == pytest.approx(2.0)
    assert r.frac_reached_0_95 == pytest.approx(0.5)
    assert r.infeasible_trials_mean == 0.0
    assert s.ranked_methods() == ("falcon", "random")


def test_summarise_per_target() -> None:
    s = summarise(_runs(), CPS)
    assert s.targets() == ("t1", "t2")
    ft1 = s.per_target["falcon"]["t1"]
    assert ft1.n_runs == 2
    assert ft1.at[3].mean_accuracy == pytest.approx(0.925)
    assert ft1.at[6].mean_accuracy == pytest.approx(0.98)
    assert ft1.at[6].p_ge_0_95 == pytest.approx(1.0)
    assert ft1.mean_trials_to_0_95 == pytest.approx(4.5)
    ft2 = s.per_target["falcon"]["t2"]
    assert ft2.at[6].mean_accuracy == pytest.approx(0.5)
    assert ft2.mean_trials_to_0_95 is None
    assert ft2.frac_reached_0_95 == 0.0
    assert s.per_target["random"]["t1"].at[3].mean_accuracy == 0.0
    assert s.per_target["random"]["t2"].at[3].mean_accuracy == pytest.approx(0.95)


def test_summarise_rejects_bad_checkpoints() -> None:
    with pytest.raises(ValueError):
        summarise(_runs(), [])
    with pytest.raises(ValueError):
        summarise(_runs(), [0, 3])


# -- results_json ----------------------------------------------------------------------------


def test_results_json_schema_and_values() -> None:
    doc = results_json(_runs(), CPS, LATENCY)
    old_keys = {"summary", "runs", "latency", "per_target"}
    assert set(doc) == old_keys | {"per_target_ci95", "paired", "statistics"}
    assert set(doc["summary"]) == {"falcon", "random"}
    falcon = doc["summary"]["falcon"]
    assert set(falcon) == {"3", "6", "mean_trials_to_0_95", "infeasible_trials_mean"} | {
        "n_runs",
        "trials_to_0_9",
        "trials_to_0_95",
    }
    for k in ("3", "6"):
        assert set(falcon[k]) == {"mean_accuracy", "p_ge_0_9", "p_ge_0_95", "mean_accuracy_ci95"}
    low, high = falcon["3"].pop("mean_accuracy_ci95")
    assert falcon["3"] == {"mean_accuracy": 0.783333, "p_ge_0_9": 0.666667, "p_ge_0_95": 0.333333}
    assert 0.5 <= low <= 0.783333 <= high <= 0.95  # means of resampled runs of 0.95, 0.9, 0.5
    # medians count the runs that never get there: falcon reaches 0.9 at 3, 1, never -> 3
    assert falcon["trials_to_0_9"] == {"median": 3, "reached": 0.666667}
    assert falcon["trials_to_0_95"] == {"median": 6, "reached": 0.666667}
    # random: one of two runs reaches 0.95 (at 2): exactly half did, so the median is 2
    assert doc["summary"]["random"]["trials_to_0_95"] == {"median": 2, "reached": 0.5}
    assert falcon["6"]["mean_accuracy"] == 0.82
    assert falcon["mean_trials_to_0_95"] == 4.5
    assert falcon["infeasible_trials_mean"] == 1.0

    assert len(doc["runs"]) == 5
    for run in doc["runs"]:
        old = {"method", "target", "seed", "accuracy_at", "trials_to_0_95"}
        assert set(run) == old | {"stream_seed", "infeasible_trials"}
        assert set(run["accuracy_at"]) == {"3", "6"}
    first = doc["runs"][0]
    assert first == {
        "method": "falcon",
        "target": "t1",
        "seed": 0,
        "accuracy_at": {"3": 0.95, "6": 1.0},
        "trials_to_0_95": 3,
        "stream_seed": None,
        "infeasible_trials": 0,
    }
    assert doc["runs"][2]["trials_to_0_95"] is None

    assert doc["latency"] == {
        "1440": {"p50_ms": 1.234567, "p95_ms": 2.5},
        "large": {"p50_ms": 10.0, "p95_ms": 20.0},
    }
    assert doc["per_target"]["falcon"] == {
        "t1": {"3": 0.925, "6": 0.98},
        "t2": {"3": 0.5, "6": 0.5},
    }
    # one run on t2: its interval is the point; t1's two runs bound theirs
    assert doc["per_target_ci95"]["falcon"]["t2"] == {"3": [0.5, 0.5], "6": [0.5, 0.5]}
    assert doc["per_target_ci95"]["falcon"]["t1"]["3"] == [0.9, 0.95]
    # falcon vs random on the shared (t1, 0) and (t2, 0): at 3, 0.95 vs 0 and 0.5 vs 0.95
    paired = doc["paired"]
    assert paired["reference"] == "falcon" and set(paired["methods"]) == {"random"}
    at3 = paired["methods"]["random"]["3"]
    assert (at3["wins"], at3["ties"], at3["losses"]) == (1, 0, 1)
    assert at3["mean_diff"] == 0.25
    assert at3["mean_diff_ci95"][0] >= -0.45 and at3["mean_diff_ci95"][1] <= 0.95
    assert doc["statistics"]["resamples"] == 2000


def test_results_json_round_trips_with_meta() -> None:
    meta = {"seeds": 2, "tables": ("t1", "t2"), "out": Path("/tmp/x"), "ratio": NAN}
    doc = results_json(_runs(), CPS, {}, meta=meta)
    assert doc["meta"] == {"seeds": 2, "tables": ["t1", "t2"], "out": "/tmp/x", "ratio": None}
    text = json.dumps(doc, allow_nan=False)
    assert json.loads(text) == doc
    assert doc["latency"] == {}


def test_results_json_null_trials_when_never_reached() -> None:
    doc = results_json([RunResult("gp-bo", "t", 0, (NAN, 1.0), 10.0)], [1, 2], {})
    assert doc["summary"]["gp-bo"]["mean_trials_to_0_95"] is None
    assert doc["summary"]["gp-bo"]["1"]["mean_accuracy"] == 0.0
    assert doc["summary"]["gp-bo"]["2"]["mean_accuracy"] == 0.1


def test_results_json_latency_needs_percentiles() -> None:
    with pytest.raises(DataError):
        results_json(_runs(), CPS, {"1440": {"p50_ms": 1.0}})


# -- markdown --------------------------------------------------------------------------------


def test_markdown_table_rows_and_formatting() -> None:
    md = markdown_table(summarise(_runs(), CPS), CPS, latency=LATENCY, title="Bench")
    lines = md.splitlines()
    assert lines[0] == "# Bench"
    header = (
        "| Method | Runs | Acc @3 [95% CI] | Acc @6 [95% CI] | P(≥0.9) @3 | P(≥0.9) @6 "
        "| P(≥0.95) @3 | P(≥0.95) @6 | Median trials to 0.9 (reached) "
        "| Median trials to 0.95 (reached) | Mean trials to 0.95 of runs reaching it "
        "| Infeasible trials |"
    )
    assert header in lines
    falcon = next(line for line in lines if line.startswith("| falcon | 3 | 0.783 ["))
    random = next(line for line in lines if line.startswith("| random | 2 | 0.475 ["))
    assert falcon.endswith(" | 0.67 | 0.67 | 0.33 | 0.67 | 3 (67%) | 6 (67%) | 4.5 (67%) | 1.0 |")
    assert random.endswith(" | 0.50 | 0.50 | 0.50 | 0.50 | 1 (50%) | 2 (50%) | 2.0 (50%) | 0.0 |")
    assert lines.index(falcon) < lines.index(random)  # sorted by accuracy at first checkpoint
    sep = lines[lines.index(header) + 1]
    assert sep.startswith("| :--- | ---: |") and sep.count("|") == header.count("|")
    # per-target table
    assert "| t1 | random | 1 | 0.000 [0.000, 0.000] | 0.000 [0.000, 0.000] |" in lines
    assert "| t2 | falcon | 1 | 0.500 [0.500, 0.500] | 0.500 [0.500, 0.500] |" in lines
    assert "| t2 | random | 1 | 0.950 [0.950, 0.950] | 0.950 [0.950, 0.950] |" in lines
    assert any(
        line.startswith("| t1 | falcon | 2 | 0.925 [0.900, 0.950] | 0.980 [") for line in lines
    )
    # paired: falcon vs random, W/T/L at 3 and 6, then the mean differences
    assert "## Paired against falcon" in lines
    assert any(line.startswith("| random | 1/0/1 | 1/0/1 | +0.250 [") for line in lines)
    # latency
    assert "- `1440`: p50 1.23 ms, p95 2.50 ms" in lines
    assert "- `large`: p50 10.00 ms, p95 20.00 ms" in lines


def test_markdown_ranking_and_unreached() -> None:
    runs = [
        RunResult("gp-bo", "t", 0, (1.0,), 10.0),
        RunResult("morphling", "t", 0, (9.0,), 10.0),
        RunResult("transfer-prior", "t", 0, (5.0,), 10.0),
    ]
    md = markdown_table(summarise(runs, [1]), [1])
    positions = [md.index(f"| {m} |") for m in ("morphling", "transfer-prior", "gp-bo")]
    assert positions == sorted(positions)
    gp_bo = "| gp-bo | 1 | 0.100 [0.100, 0.100] | 0.00 | 0.00 | not reached (0%) "
    assert gp_bo + "| not reached (0%) | — (0%) | 0.0 |" in md
    assert "Decision latency" not in md
    assert "Paired against" not in md  # falcon did not run


def test_markdown_empty_and_unknown_checkpoint() -> None:
    assert "_No runs._" in markdown_table(summarise([], [1]), [1])
    with pytest.raises(ValueError):
        markdown_table(summarise(_runs(), [3]), [6])


# -- plot and files --------------------------------------------------------------------------


def test_plot_accuracy_writes_png(tmp_path: Path) -> None:
    out = plot_accuracy(_runs(), tmp_path / "sub" / "acc.png", max_trials=8, title="t")
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 5 * 1024
    with pytest.raises(DataError):
        plot_accuracy([], tmp_path / "none.png")


def test_write_report(tmp_path: Path) -> None:
    stats = latency_stats([0.001, 0.002, 0.003])
    paths = write_report(tmp_path / "out", _runs(), CPS, {"1440": stats}, meta={"git": "abc"})
    assert set(paths) == {"json", "markdown", "plot"}
    assert [p.name for p in paths.values()] == ["results.json", "results.md", "accuracy.png"]
    doc = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert doc["meta"] == {"git": "abc"}
    assert doc["latency"]["1440"]["n"] == 3
    assert doc["latency"]["1440"]["p50_ms"] == 2.0
    md = paths["markdown"].read_text(encoding="utf-8")
    assert "| falcon |" in md and "| random |" in md and "n=3" in md
    assert paths["plot"].read_bytes()[:4] == b"\x89PNG"
    assert paths["plot"].stat().st_size > 5 * 1024


# -- latency ---------------------------------------------------------------------------------


def test_latency_stats_known_samples() -> None:
    stats = latency_stats([i / 1000 for i in range(1, 101)])  # 1 .. 100 ms
    assert stats["p50_ms"] == pytest.approx(50.5)
    assert stats["p95_ms"] == pytest.approx(95.05)
    assert stats["max_ms"] == pytest.approx(100.0)
    assert stats["n"] == 100
    single = latency_stats([0.25])
    assert single == {"p50_ms": 250.0, "p95_ms": 250.0, "max_ms": 250.0, "n": 1.0}
    with pytest.raises(DataError):
        latency_stats([])
    with pytest.raises(DataError):
        latency_stats([0.1, NAN])
