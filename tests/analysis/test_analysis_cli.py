"""``falcon analyze``: the table, --json, and one-line errors with exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from falcon_operator.analysis.zoo import unseen_op_model
from falcon_operator.cli.main import main

SHIPPED = str(
    Path(__file__).resolve().parents[2] / "operator/falcon_operator/data/models/resnet-mini.onnx"
)


def test_analyze_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", SHIPPED, "--batch-size", "4"]) == 0
    out = capsys.readouterr().out
    assert "resnet-mini at batch 4" in out
    for word in ("operator", "FLOPs", "share", "KOP?", "conv2d", "batch_norm"):
        assert word in out
    assert "KOPs (threshold 0.8): conv2d" in out
    assert "unseen operator 'global_avg_pool2d'" in out


def test_analyze_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", SHIPPED, "--json", "--kop-threshold", "0.3"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["model"] == "resnet-mini" and d["batch_size"] == 1
    assert d["kops"] == ["conv2d"]
    assert d["unseen"] == {"global_avg_pool2d": "add"}


def test_analyze_unseen_ops(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "custom.onnx"
    path.write_bytes(unseen_op_model().SerializeToString())
    assert main(["analyze", str(path)]) == 0
    out = capsys.readouterr().out
    assert "unseen operator 'Einsum'" in out and "counted as 'dense'" in out


@pytest.mark.parametrize("content", [None, b"", b"not a model at all"])
def test_bad_files_exit_2(
    content: bytes | None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.onnx"
    if content is not None:
        path.write_bytes(content)
    assert main(["analyze", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("falcon: error: ") and err.count("\n") == 1
    assert "Traceback" not in err


def test_bad_options_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["--batch-size", "0"], ["--kop-threshold", "1.5"]):
        with pytest.raises(SystemExit) as info:
            main(["analyze", SHIPPED, *argv])
        assert info.value.code == 2
    assert "expected" in capsys.readouterr().err
