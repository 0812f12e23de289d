"""The report of an operator search, rebuilt from the objects the cluster holds (the search
and its history ConfigMap), through ``falcon report`` with the API reads replaced by dicts; the
engine's why line; and ``falcon search --report`` offline."""

from __future__ import annotations

import base64
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from rich.console import Console

import falcon_operator
from falcon_operator.cli import export as export_cli
from falcon_operator.cli import report as report_cli
from falcon_operator.cli import search as search_cli
from falcon_operator.cli.main import main
from falcon_operator.core.records import FailureKind, Outcome, TrialRecord
from falcon_operator.core.space import Value
from falcon_operator.reconcile.engine import build_engine
from falcon_operator.reconcile.prepare import shipped_catalog, shipped_knowledge
from falcon_operator.spec import parse_spec, resolve
from falcon_operator.trials.history import TrialEntry, encode_entry

ROOT = Path(falcon_operator.__file__).parents[2]
MODEL = Path(falcon_operator.__file__).parent / "data/models/resnet-mini.onnx"
EXAMPLE = ROOT / "examples/inference-config-search.yaml"


def _search() -> dict[str, Any]:
    obj: dict[str, Any] = yaml.safe_load(EXAMPLE.read_text())
    obj["metadata"]["namespace"] = "team-a"
    obj["status"] = {"phase": "Succeeded", "message": "best of 3 trials: T4 1234 req/s per $/h"}
    return obj


def _entries() -> list[TrialEntry]:
    def ok(i: int, batch: int, objective: float, p99: float) -> TrialEntry:
        cfg: dict[str, Value] = {
            "batchsize": batch, "cpus": 2, "gpumem": 0.0, "gpupower": 100, "gputype": "T4"
        }  # fmt: skip
        metrics = {"rps": objective * 0.5, "p99_ms": p99, "cost_per_hour": 0.5}
        record = TrialRecord(cfg, Outcome.OK, objective, metrics=metrics)
        return TrialEntry(i, f"resnet-mini-t{i:03d}", record)

    slow_cfg: dict[str, Value] = {
        "batchsize": 8, "cpus": 4, "gpumem": 0.0, "gpupower": 100, "gputype": "T4"
    }  # fmt: skip
    slow = TrialRecord.failed(slow_cfg, FailureKind.SLO, "measured p99 52.1 ms breaks the 50 ms "
                              "SLO", metrics={"p99_ms": 52.1, "rps": 900.0})  # fmt: skip
    return [ok(0, 1, 900.0, 3.0), ok(1, 4, 1234.0, 12.0),
            TrialEntry(2, "resnet-mini-t002", slow)]  # fmt: skip


def test_falcon_report_rebuilds_an_operator_search(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    history: dict[str, str] = {}
    for e in _entries():
        history |= encode_entry(e)
    configmaps = {
        "resnet-mini-trials": {"data": history},
        "resnet-mini-model": {
            "binaryData": {"model.onnx": base64.b64encode(MODEL.read_bytes()).decode()}
        },
    }
    asked: list[str] = []

    def configmap(namespace: str, name: str, kubeconfig: str | None) -> Any:
        asked.append(f"{namespace}/{name}")
        return configmaps.get(name)

    monkeypatch.setattr(export_cli, "fetch", lambda name, ns, kc: _search())
    monkeypatch.setattr(report_cli, "_configmap", configmap)
    monkeypatch.setattr("falcon_operator.reconcile.prepare.search_knowledge",
                        lambda rs: shipped_knowledge())  # fmt: skip
    out = tmp_path / "report"
    assert main(["report", "resnet-mini", "-n", "team-a", "--out", str(out)]) == 0
    assert asked == ["team-a/resnet-mini-trials", "team-a/resnet-mini-model"]
    printed = capsys.readouterr().out
    assert f"wrote {out / 'index.html'} (3 trials)" in printed
    assert "why: T4 b4: best measured of 2 ok trials; V100 and A100 estimated" in printed
    page = (out / "index.html").read_text()
    for name in re.findall(r'<img src="([^"]+)"', page):
        assert (out / name).stat().st_size > 1000
    assert "resnet-mini-t001, T4 b4 cpus=2 gpumem=0 gpupower=100: 1234 req/s per $/h" in page
    assert "InferenceConfigSearch team-a/resnet-mini" in page
    untried = dict(re.findall(r"<tr><td>gputype</td><td>(\w+)</td><td>([^<]+)</td></tr>", page))
    assert set(untried) == {"V100", "A100"}
    assert all(re.fullmatch(r"estimated at most [\d.]+× of the best measured", r)
               for r in untried.values())  # fmt: skip


def test_falcon_report_without_history_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(export_cli, "fetch", lambda name, ns, kc: _search())
    monkeypatch.setattr(report_cli, "_configmap", lambda ns, name, kc: None)
    assert main(["report", "resnet-mini", "-n", "team-a"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "falcon: error: resnet-mini has no trial history yet "
        "(no ConfigMap team-a/resnet-mini-trials)"
    )


def test_the_engine_explains_its_winner_whatever_its_strategy() -> None:
    search = _search()
    search["spec"]["algorithm"] = {"name": "random", "seed": 0}
    rs = resolve(parse_spec(search["spec"]), shipped_catalog())
    engine = build_engine(rs, shipped_knowledge(), profile=None)
    why = engine.why([e.record for e in _entries()])
    assert why.startswith("T4 b4: best measured of 2 ok trials; V100 and A100 estimated")
    assert engine.why([_entries()[2].record]) == ""  # no success, no why


def test_falcon_search_report_writes_the_page_and_prints_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = io.StringIO()
    monkeypatch.setattr(search_cli, "console", Console(file=text, width=300))
    argv = ["search", str(MODEL), "--trials", "5", "--gpus", "T4,V100,A100", "--no-mig",
            "--knowledge", "paper", "--slo-p99-ms", "50", "--output", str(tmp_path / "r.yaml"),
            "--report", str(tmp_path / "rep")]  # fmt: skip
    assert main(argv) == 0
    printed = text.getvalue()
    assert f"report: {tmp_path / 'rep' / 'index.html'}" in printed
    why = next(line for line in printed.splitlines() if line.strip().startswith("why: "))
    assert re.match(r"\s+why: (T4|V100|A100) b\d+: best measured of \d+ ok trials", why)
    page = (tmp_path / "rep" / "index.html").read_text()
    assert why.strip().removeprefix("why: ") in page.replace("&#x27;", "'")
    assert json.dumps("falcon search resnet-mini.onnx")[1:-1] in page
