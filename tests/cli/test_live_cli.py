"""``falcon search --live`` and ``falcon kb build --live``: bad input is one clear line, exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest

from falcon_operator.cli.main import main

MODEL = str(
    Path(__file__).resolve().parents[2] / "operator/falcon_operator/data/models/vgg-plain.onnx"
)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--cpus", "1,999"], "cpus [999]: this host offers"),
        (["--batch-sizes", "0,2"], "live knob batch_sizes: [0, 2]"),
        (["--instances", "2,2"], "live knob instances: [2, 2]"),
        (["--gpus", "T4"], "--metric, --gpus and --catalog do not apply"),
        (["--metric", "CostAtTargetThroughput", "--target-rps", "5"], "do not apply"),
    ],
)
def test_a_bad_live_search_says_why_in_one_line(
    extra: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["search", MODEL, "--live", "--trials", "1", *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_list_that_is_not_numbers_is_refused_by_the_parser(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["search", MODEL, "--live", "--concurrency", "a,b"])
    assert exit_.value.code == 2
    assert "expected comma-separated integers >= 0, got 'a,b'" in capsys.readouterr().err


def test_kb_build_needs_an_output_unless_it_profiles_live(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["kb", "build"]) == 2
    assert "kb build needs --out FILE" in capsys.readouterr().err


def test_an_unknown_live_source_is_refused_before_anything_runs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["kb", "build", "--live", "--live-sources", "nope", "--samples", "1"]) == 2
    assert "unknown source model 'nope'" in capsys.readouterr().err
