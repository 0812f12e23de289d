"""The ``falcon`` command: real sub-processes-free runs of main() on the shipped data."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import pytest

from falcon_operator.cli.main import main
from falcon_operator.knowledge.base import Knowledge, KnowledgeSettings
from falcon_operator.knowledge.dataset import FalconDataset, default_data_dir


def test_kb_build_writes_a_loadable_knowledge_base(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "kb.json.gz"
    assert main(["kb", "build", "--out", str(out), "--pca-cutoff", "0.95"]) == 0
    kb = Knowledge.load(out)
    assert len(kb.sources) == 18
    assert kb.settings.pca_cutoff == 0.95
    assert kb.curves and kb.pruned
    assert "wrote" in capsys.readouterr().out
    # read table by table (for the progress bar), it is the knowledge FalconDataset builds
    settings = KnowledgeSettings(pca_cutoff=0.95, pca=True)
    same = FalconDataset(default_data_dir()).knowledge(settings=settings)
    assert json.dumps(kb.to_dict(), sort_keys=True) == json.dumps(same.to_dict(), sort_keys=True)


def test_replay_prints_a_recommendation(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", "--target", "vgg16", "--trials", "3", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "recommendation" in out
    rows = [r for r in out.splitlines() if re.match(r" *\d+/3 ", r)]
    assert len(rows) == 3 and all(len(r) <= 100 for r in rows)
    assert out.splitlines()[1].split()[:2] == ["trial", "batch"]


def test_replay_can_stop_early(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", "--target", "densenet-201", "--trials", "40", "--stop-early"]) == 0
    out = capsys.readouterr().out
    assert "stopping after" in out
    assert "40/40" not in out and " 1/40 " in out


def test_bench_writes_the_stable_results_schema(tmp_path: Path) -> None:
    args = ["bench", "--targets", "vgg16,bert-large", "--methods", "random,transfer-prior",
            "--trials", "2,4", "--seeds", "2", "--workers", "1", "--no-latency",
            "--out", str(tmp_path)]  # fmt: skip
    assert main(args) == 0
    data = json.loads((tmp_path / "results.json").read_text())
    assert set(data["summary"]) == {"random", "transfer-prior"}
    assert set(data["summary"]["random"]["2"]) >= {"mean_accuracy", "p_ge_0_9", "p_ge_0_95"}
    assert len(data["runs"]) == 2 * 2 * 2
    run = data["runs"][0]
    assert set(run) >= {"method", "target", "seed", "accuracy_at", "trials_to_0_95"}
    assert 0 < run["accuracy_at"]["4"] <= 1
    assert (tmp_path / "accuracy.png").read_bytes()[:4] == b"\x89PNG"
    assert "transfer-prior" in (tmp_path / "results.md").read_text()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["replay", "--target", "no-such-model"], "no targets table named"),
        (["replay", "--table", "/nonexistent.csv"], "no such table file"),
        (["replay"], "exactly one of --target"),
        (["replay", "--target", "vgg16", "--data", "/nonexistent"], "no such data directory"),
        (["replay", "--target", "vgg16", "--knowledge", "/nonexistent.gz"], "no such knowledge"),
        (["bench", "--data", "/tmp", "--out", "/tmp/x"], "expected the Falcon layout"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("falcon: error:")
    assert message in err
    assert "Traceback" not in err and len(err.splitlines()) == 1


def test_corrupt_knowledge_file_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.kb.json.gz"
    bad.write_bytes(b"not gzip")
    assert main(["replay", "--target", "vgg16", "--knowledge", str(bad)]) == 2
    assert "not a readable knowledge base" in capsys.readouterr().err
    wrong = tmp_path / "wrong.kb.json.gz"
    with gzip.open(wrong, "wt") as fh:
        json.dump({"format": "falcon-knowledge", "version": 99}, fh)
    assert main(["replay", "--target", "vgg16", "--knowledge", str(wrong)]) == 2
    assert "version 99 is not supported" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["bench", "--trials", "0,6", "--out", "x"],
        ["bench", "--trials", "six", "--out", "x"],
        ["replay", "--target", "vgg16", "--method", "nope"],
        ["kb", "build", "--out", "x", "--kop-threshold", "1.5"],
    ],
)
def test_bad_options_exit_2_via_argparse(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2


def _write_layout(root: Path) -> None:
    """A tiny dataset in the Falcon layout with other knobs, no curves and no profiles."""
    rng = __import__("numpy").random.default_rng(0)
    for kind, names in (("sources", ["a", "b", "c"]), ("targets", ["x", "y"])):
        folder = root / "models" / kind
        folder.mkdir(parents=True)
        for name in names:
            lines = ["replicas,threads,accelerator,score"]
            for r in (1, 2, 4):
                for t in (8, 16):
                    for acc in ("L4", "A10G", "H100"):
                        base = r * (2 if acc == "H100" else 1) / (t / 8)
                        lines.append(f"{r},{t},{acc},{base * rng.uniform(0.9, 1.1):.5f}")
            (folder / f"reg-{name}.csv").write_text("\n".join(lines) + "\n")


def test_bench_runs_unchanged_on_another_layout_directory(tmp_path: Path) -> None:
    data = tmp_path / "other"
    _write_layout(data)
    out = tmp_path / "out"
    args = ["bench", "--data", str(data), "--methods", "falcon,transfer-prior,random",
            "--trials", "3,6", "--seeds", "2", "--workers", "1", "--out", str(out)]  # fmt: skip
    assert main(args) == 0
    data_out = json.loads((out / "results.json").read_text())
    assert {r["target"] for r in data_out["runs"]} == {"x", "y"}
    assert data_out["summary"]["falcon"]["6"]["mean_accuracy"] > 0.5
    assert set(data_out["latency"]) == {"18", "18-n4", "large"}
    assert data_out["latency"]["18"]["p95_ms"] > 0
    assert data_out["latency"]["large"]["peak_rss_mb"] > 0


def test_bench_latency_only_times_without_runs(tmp_path: Path) -> None:
    data = tmp_path / "other"
    _write_layout(data)
    out = tmp_path / "out"
    assert main(["bench", "--data", str(data), "--latency-only", "--out", str(out)]) == 0
    assert not (out / "results.json").exists()
    doc = json.loads((out / "latency.json").read_text())
    assert set(doc["latency"]) == {"18", "18-n4", "large"}
    assert doc["latency"]["18-n4"]["picks"] == 4 and doc["latency"]["large"]["n"] == 31
    assert doc["latency"]["18"]["n"] == doc["latency"]["18"]["max_history"] + 1 == 18
    assert doc["meta"]["profile_of"] in {"x", "y"}
    assert "peak memory" in (out / "latency.md").read_text()


@pytest.mark.slow
def test_search_writes_a_recommendation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import onnx

    from falcon_operator.analysis.zoo import resnet_cnn

    monkeypatch.setenv("FALCON_CACHE", str(tmp_path / "cache"))
    model = tmp_path / "net.onnx"
    onnx.save(resnet_cnn(), model)
    out = tmp_path / "rec.yaml"
    argv = ["search", str(model), "--trials", "4", "--gpus", "T4,A100", "--slo-p99-ms", "200",
            "--output", str(out)]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert len(re.findall(r"^ *\d+/4 ", text, re.M)) == 4 and "recommendation" in text
    assert "knowledge: 9 source models profiled on the fleet" in text and "built in" in text
    docs = list(__import__("yaml").safe_load_all(out.read_text()))
    assert [d["kind"] for d in docs] == ["ConfigMap", "ConfigMap", "Deployment"]
    assert docs[2]["metadata"]["name"] == "net"  # the model ConfigMap, its config, the Deployment
    assert main(argv) == 0  # the second search reuses the knowledge built by the first
    again = capsys.readouterr().out
    assert "(cached)" in again
    assert len(re.findall(r"^ *\d+/4 ", again.split("knowledge:")[1], re.M)) == 4
    assert main([*argv, "--knowledge", "paper"]) == 0
    assert "knowledge:" not in capsys.readouterr().out  # the paper's KOP curves, no fleet build


def test_search_bad_model_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "x.onnx"
    bad.write_text("nope")
    assert main(["search", str(bad)]) == 2
    assert capsys.readouterr().err.startswith("falcon: error:")
    assert main(["search", str(bad.with_name("missing.onnx"))]) == 2


def test_search_at_a_target_throughput_writes_the_replicas_that_serve_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import math

    import onnx
    import yaml

    from falcon_operator.analysis.zoo import resnet_cnn

    model = tmp_path / "net.onnx"
    onnx.save(resnet_cnn(), model)
    out = tmp_path / "rec.yaml"
    argv = ["search", str(model), "--trials", "3", "--gpus", "T4", "--no-mig", "--knowledge",
            "paper", "--slo-p99-ms", "200", "--output", str(out)]  # fmt: skip
    assert main([*argv, "--metric", "CostAtTargetThroughput"]) == 2
    assert "--target-rps is required" in capsys.readouterr().err
    assert main([*argv, "--target-rps", "100"]) == 2
    capsys.readouterr()
    report = tmp_path / "report"
    target = ["--metric", "CostAtTargetThroughput", "--target-rps", "5000", "--report", str(report)]
    assert main([*argv, *target]) == 0
    text = capsys.readouterr().out
    assert "fleet$/h" in text and "rps/$" not in text and "target 5000 rps" in text
    line = re.search(r"(\d+) × ([\d.]+) \$/h = ([\d.]+) \$/h for 5000 rps", text)
    assert line is not None, text
    rps = float(re.findall(r"^ +([\d.]+) rps  p99", text, re.M)[-1])
    assert int(line.group(1)) == math.ceil(5000 / rps)
    deployment = list(yaml.safe_load_all(out.read_text()))[-1]
    assert deployment["kind"] == "Deployment"
    assert deployment["spec"]["replicas"] == int(line.group(1))
    page = (report / "index.html").read_text()
    fleet = re.search(r"<b>Best:</b>[^<]*: ([\d.]+) \$/h for 5000 req/s", page)
    assert fleet is not None and "req/s per $/h" not in page
    assert float(fleet.group(1)) == pytest.approx(float(line.group(3)), abs=1e-3)


def test_bench_reports_intervals_paired_results_and_streams(tmp_path: Path) -> None:
    from falcon_operator.bench.streams import stream_seed

    args = ["bench", "--targets", "vgg16,bert-large", "--methods", "falcon,random",
            "--trials", "3,6", "--seeds", "2", "--workers", "1", "--no-latency",
            "--out", str(tmp_path)]  # fmt: skip
    assert main(args) == 0
    data = json.loads((tmp_path / "results.json").read_text())
    runs = data["runs"]
    assert len(runs) == 2 * 2 * 2
    for run in runs:  # each run's stream is its own, and recorded
        assert run["stream_seed"] == stream_seed(run["seed"], run["method"], run["target"])
    assert len({r["stream_seed"] for r in runs}) == len(runs)
    for method, entry in data["summary"].items():
        mine = [r for r in runs if r["method"] == method]
        assert entry["n_runs"] == len(mine) == 4
        for k in ("3", "6"):
            low, high = entry[k]["mean_accuracy_ci95"]
            assert low - 1e-6 <= entry[k]["mean_accuracy"] <= high + 1e-6
            for target, per in data["per_target_ci95"][method].items():
                assert per[k][0] - 1e-6 <= data["per_target"][method][target][k] <= per[k][1] + 1e-6
        reached = [r["trials_to_0_95"] for r in mine if r["trials_to_0_95"] is not None]
        assert entry["trials_to_0_95"]["reached"] == len(reached) / len(mine)
        median = entry["trials_to_0_95"]["median"]
        assert median is None if len(reached) < 2 else median == sorted(reached)[1]
    paired = data["paired"]
    assert paired["reference"] == "falcon" and set(paired["methods"]) == {"random"}
    for k in ("3", "6"):
        result = paired["methods"]["random"][k]
        assert result["wins"] + result["ties"] + result["losses"] == 4  # 2 targets × 2 seeds
        falcon, rand = (data["summary"][m][k]["mean_accuracy"] for m in ("falcon", "random"))
        assert result["mean_diff"] == pytest.approx(falcon - rand, abs=1e-5)
        low, high = result["mean_diff_ci95"]
        assert low - 1e-6 <= result["mean_diff"] <= high + 1e-6
    md = (tmp_path / "results.md").read_text()
    assert "## Paired against falcon" in md and "[95% CI]" in md
    assert (tmp_path / "accuracy.png").read_bytes()[:4] == b"\x89PNG"


def test_replay_with_a_runs_stream_seed_repeats_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["bench", "--targets", "vgg16", "--methods", "random", "--trials", "6",
            "--seeds", "2", "--workers", "1", "--no-latency", "--out", str(tmp_path)]  # fmt: skip
    assert main(args) == 0
    run = json.loads((tmp_path / "results.json").read_text())["runs"][1]
    capsys.readouterr()
    replay = ["replay", "--target", "vgg16", "--method", "random", "--trials", "6",
              "--seed", str(run["stream_seed"])]  # fmt: skip
    assert main(replay) == 0
    found = re.search(r"= ([\d.]+)% of the table's best", capsys.readouterr().out)
    assert found is not None
    assert float(found.group(1)) / 100 == pytest.approx(run["accuracy_at"]["6"], abs=6e-4)
