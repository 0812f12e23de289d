"""Tests for the table oracle and the Falcon-layout table reader it answers from."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from falcon_operator.backends.base import Backend
from falcon_operator.backends.table import TableOracle
from falcon_operator.core.errors import DataError, SpaceError
from falcon_operator.core.records import Outcome
from falcon_operator.core.space import Value
from falcon_operator.knowledge.dataset import FalconDataset, default_data_dir
from falcon_operator.knowledge.tables import Table, read_table

BERT_CSV = default_data_dir() / "models" / "targets" / "reg-bert-large.csv"


@pytest.fixture(scope="module")
def bert() -> Table:
    (table,) = FalconDataset(default_data_dir()).tables("targets", ["bert-large"])
    return table


def _csv_rows() -> tuple[list[str], list[list[str]]]:
    with BERT_CSV.open(newline="") as fh:
        rows = [r for r in csv.reader(fh) if r]
    return rows[0], rows[1:]


def _expected(cells: tuple[str, ...]) -> float:
    """The objective of the CSV row whose knob cells are exactly ``cells`` (read with csv)."""
    _, rows = _csv_rows()
    found = [r for r in rows if tuple(c.strip() for c in r[:-1]) == cells]
    assert len(found) == 1
    return float(found[0][-1])


@pytest.mark.parametrize(
    ("config", "cells"),
    [
        (
            {"batchsize": 4, "cpus": 4, "gpumem": 1.2, "gpupower": 50, "gputype": "T4"},
            ("4", "4", "1.2", "50", "T4"),
        ),
        (
            {"batchsize": 128, "cpus": 4, "gpumem": 1.2, "gpupower": 50, "gputype": "T4"},
            ("128", "4", "1.2", "50", "T4"),
        ),
    ],
)
def test_oracle_returns_the_configs_own_row(
    bert: Table, config: dict[str, Value], cells: tuple[str, ...]
) -> None:
    header, _ = _csv_rows()
    assert header[:-1] == ["batchsize", "cpus", "gpumem", "gpupower", "gputype"]
    oracle = TableOracle(bert)
    rec = oracle.run(config)
    assert rec.outcome is Outcome.OK
    assert rec.objective == _expected(cells)
    assert rec.config == config
    assert oracle.calls == 1


def test_oracle_agrees_with_every_row_of_the_file(bert: Table) -> None:
    _, rows = _csv_rows()
    oracle = TableOracle(bert)
    assert len(rows) == bert.space.size == 1440
    for row in rows:
        config: dict[str, Value] = {
            "batchsize": int(row[0]),
            "cpus": int(row[1]),
            "gpumem": float(row[2]),
            "gpupower": int(row[3]),
            "gputype": row[4],
        }
        assert oracle.run(config).objective == float(row[5])
    assert oracle.calls == len(rows)
    assert isinstance(oracle, Backend)


def test_missing_row_is_infeasible_with_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "reg-small.csv"
    path.write_text("bs,gpu,rps\n4,T4,1.5\n4,V100,2.5\n8,T4,3.5\n")
    table = read_table(path)
    assert table.name == "small"
    assert table.space.size == 4
    oracle = TableOracle(table)
    rec = oracle.run({"bs": 8, "gpu": "V100"})
    assert rec.outcome is Outcome.INFEASIBLE
    assert rec.objective is None
    assert rec.reason
    ok = oracle.run({"bs": 8, "gpu": "T4"})
    assert (ok.outcome, ok.objective) == (Outcome.OK, 3.5)
    assert oracle.calls == 2


@pytest.mark.parametrize(
    "config",
    [
        {"batchsize": 5, "cpus": 4, "gpumem": 1.2, "gpupower": 50, "gputype": "T4"},
        {"batchsize": 4, "cpus": 4, "gpumem": 1.2, "gpupower": 50, "gputype": "A100"},
        {"batchsize": 4, "cpus": 4, "gpumem": 1.2, "gpupower": 50},
        {"batchsize": 4, "cpus": 4, "gpumem": 1.2, "gpupower": 50, "gputype": "T4", "x": 1},
    ],
)
def test_config_outside_the_space_raises(bert: Table, config: dict[str, Value]) -> None:
    with pytest.raises(SpaceError):
        TableOracle(bert).run(config)


# -- read_table errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("bs,gpu,rps\n4,T4,1.5\n8,T4\n", "expected 3 cells"),  # ragged row
        ("bs,gpu,rps\n4,T4,1.5\n8,T4,fast\n", "not a number"),  # non-numeric objective
        ("bs,gpu,rps\n4,T4,1.5\n8,T4,nan\n", "non-finite"),  # non-finite objective
        ("bs,gpu,rps\n4,T4,1.5\n8,T4,2\n4,T4,3\n", "appears twice"),  # duplicate configuration
        ("bs,gpu,rps\n", "at least one row"),  # header only
    ],
)
def test_read_table_errors_name_the_file(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "reg-broken-model.csv"
    path.write_text(text)
    with pytest.raises(DataError, match=match) as info:
        read_table(path)
    assert "reg-broken-model.csv" in str(info.value)


def test_read_table_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DataError) as info:
        read_table(tmp_path / "reg-nowhere.csv")
    assert "reg-nowhere.csv" in str(info.value)


def test_read_table_error_gives_the_line_number(tmp_path: Path) -> None:
    path = tmp_path / "reg-x.csv"
    path.write_text("bs,gpu,rps\n4,T4,1.5\n8,T4\n")
    with pytest.raises(DataError, match=r"reg-x\.csv:3:"):
        read_table(path)


def test_read_table_line_number_counts_blank_lines(tmp_path: Path) -> None:
    path = tmp_path / "reg-x.csv"
    path.write_text("bs,gpu,rps\n\n4,T4,1.5\n8,T4\n")  # the ragged row is on line 4
    with pytest.raises(DataError, match=r"reg-x\.csv:4:"):
        read_table(path)


def test_read_table_aligns_rows_in_any_order(tmp_path: Path) -> None:
    a, b = tmp_path / "reg-a.csv", tmp_path / "reg-b.csv"
    a.write_text("bs,gpu,rps\n4,T4,1\n4,V100,2\n8,T4,3\n8,V100,4\n")
    b.write_text("bs,gpu,rps\n8,V100,4\n4,T4,1\n8,T4,3\n4,V100,2\n")
    ta = read_table(a)
    tb = read_table(b, space=ta.space)
    np.testing.assert_array_equal(ta.values, tb.values)
    assert TableOracle(tb).run({"bs": 8, "gpu": "T4"}).objective == 3.0
