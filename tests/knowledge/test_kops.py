"""Tests for operator shares and key-operator (KOP) selection."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import falcon_operator
from falcon_operator.core.errors import DataError, KnowledgeError
from falcon_operator.knowledge.kops import KopSelectionError, read_operator_shares, select_kops

MODELS = Path(falcon_operator.__file__).parent / "data/falcon/models/model-operator"


def test_read_bert_large_shares() -> None:
    shares = read_operator_shares(MODELS / "bert-large/operators.csv")
    assert shares == pytest.approx({"transpose": 0.6046, "dense": 0.3851, "add": 0.0103})
    assert math.isclose(sum(shares.values()), 1.0)


@pytest.mark.parametrize(
    ("threshold", "expected"),
    [(0.5, ["transpose"]), (0.8, ["transpose", "dense"]), (1.0, ["transpose", "dense", "add"])],
)
def test_bert_large_thresholds(threshold: float, expected: list[str]) -> None:
    shares = read_operator_shares(MODELS / "bert-large/operators.csv")
    assert select_kops(shares, kop_threshold=threshold) == expected


def test_all_real_share_files_parse() -> None:
    for f in sorted(MODELS.glob("*/operators.csv")):
        shares = read_operator_shares(f)
        assert math.isclose(sum(shares.values()), 1.0) and all(s > 0 for s in shares.values())
        assert select_kops(shares)  # never empty


def test_selection_rules() -> None:
    assert select_kops({"b": 0.3, "a": 0.3, "c": 0.4}, kop_threshold=0.7) == ["c", "a"]
    assert select_kops({"x": 60.0, "y": 40.0}, kop_threshold=0.6) == ["x"]  # percentages work
    assert select_kops({"x": 0.01, "y": 0.99}, kop_threshold=0.01) == ["y"]  # at least one
    assert select_kops({"x": 0.5, "y": 0.3, "z": 0.2}, kop_threshold=1.0, max_kops=2) == ["x", "y"]
    assert select_kops({"x": 1.0, "zero": 0.0}, kop_threshold=1.0) == ["x"]


@pytest.mark.parametrize("threshold", [0.0, -0.1, 1.01, math.nan])
def test_bad_threshold(threshold: float) -> None:
    with pytest.raises(KopSelectionError) as info:
        select_kops({"a": 1.0}, kop_threshold=threshold)
    assert isinstance(info.value, KnowledgeError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize("shares", [{}, {"a": -1.0, "b": 2.0}, {"a": 0.0}, {"a": math.inf}])
def test_bad_shares(shares: dict[str, float]) -> None:
    with pytest.raises(KopSelectionError):
        select_kops(shares)
    with pytest.raises(KopSelectionError):
        select_kops({"a": 1.0}, max_kops=0)


def test_read_canonicalises_and_strips(tmp_path: Path) -> None:
    f = tmp_path / "operators.csv"
    f.write_text("op_name,running time percentage\nnn.dense , 30 \nnn.conv2d,10\n\n")
    assert read_operator_shares(f) == pytest.approx({"dense": 0.75, "conv2d": 0.25})


@pytest.mark.parametrize(
    "text",
    [
        "",
        "op_name,running time percentage\n",
        "op_name,running time percentage\nadd,-1\nmul,2\n",
        "op_name,running time percentage\nadd,abc\n",
        "op_name,running time percentage\nadd\n",
        "op_name,running time percentage\nadd,0\n",
        "op_name,running time percentage\nadd,inf\n",
        "op_name,running time percentage\nnn.dense,1\ndense,2\n",
    ],
)
def test_bad_share_files(tmp_path: Path, text: str) -> None:
    f = tmp_path / "operators.csv"
    f.write_text(text)
    with pytest.raises(DataError):
        read_operator_shares(f)


def test_missing_share_file(tmp_path: Path) -> None:
    with pytest.raises(DataError):
        read_operator_shares(tmp_path / "operators.csv")
