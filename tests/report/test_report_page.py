"""The report on disk: index.html references every plot, and every plot is a real PNG."""

from __future__ import annotations

import re
from pathlib import Path

from PIL import Image

from falcon_operator.core.records import FailureKind, TrialRecord
from falcon_operator.report import plots
from falcon_operator.report.data import build
from falcon_operator.report.page import write
from falcon_operator.search.falcon import FalconStrategy


def _pngs(page: Path) -> list[str]:
    return re.findall(r'<img src="([^"]+)"', page.read_text())


def _check_images(out: Path, names: list[str]) -> None:
    assert sorted(names) == sorted(plots.PLOTS)
    for name in names:
        path = out / name
        assert path.stat().st_size > 1000
        with Image.open(path) as img:
            assert img.format == "PNG"
            width, height = img.size
            assert width >= 600 and height >= 200
            img.verify()


def test_the_page_shows_the_winner_the_plots_and_why_values_were_skipped(
    small: tuple[FalconStrategy, list[TrialRecord]], tmp_path: Path
) -> None:
    strategy, history = small
    slow = TrialRecord.failed(
        {"batchsize": 1, "gputype": "B"},
        FailureKind.SLO,
        "measured p99 5.01 ms breaks the 5 ms SLO",
        metrics={"p99_ms": 5.01, "rps": 20.0},
    )
    data = build("small search", strategy.space, [*history, slow], strategy=strategy,
                 slo_p99_ms=5.0, details={"method": "falcon"})  # fmt: skip
    page = write(data, tmp_path / "report")
    assert page == tmp_path / "report" / "index.html"
    _check_images(page.parent, _pngs(page))
    text = page.read_text()
    assert "<b>Best:</b> trial 2, A b2: 100 req/s per $/h" in text
    assert "A b2: best measured of 2 ok trials; next best GPU type" not in text  # B only failed
    assert "C infeasible according to the sources" in text
    rows = dict(re.findall(r"<tr><td>gputype</td><td>(\w+)</td><td>([^<]+)</td></tr>", text))
    assert rows["C"].startswith("infeasible according to the sources")
    assert "batchsize" in text and "estimated at most 0.8× of the best measured" in text
    assert "measured p99 5.01 ms breaks the 5 ms SLO" in text


def test_a_search_without_success_still_gets_its_report(
    small: tuple[FalconStrategy, list[TrialRecord]], tmp_path: Path
) -> None:
    strategy, _ = small
    bad = [
        TrialRecord.failed({"batchsize": 1, "gputype": "A"}, FailureKind.SLO, "slow",
                    metrics={"p99_ms": 9.0, "rps": 5.0}),
        TrialRecord.failed({"batchsize": 2, "gputype": "C"}, FailureKind.UNSCHEDULABLE,
                           "unschedulable"),
    ]  # fmt: skip
    data = build("bad", strategy.space, bad, strategy=strategy, slo_p99_ms=1.0)
    page = write(data, tmp_path)
    _check_images(tmp_path, _pngs(page))
    assert "the lowest p99 measured is 9 ms (trial 1, A b1)" in page.read_text()
