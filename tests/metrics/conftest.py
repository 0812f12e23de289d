"""Hand-written Triton metrics bodies (Triton's documented names, HELP/TYPE lines and labels).

``triton_before.txt`` and ``triton_after.txt`` are 10 s apart; ``triton_restarted.txt`` is the
same server after a restart that loaded only version 1 of resnet50.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from falcon_operator.metrics import Snapshot, parse_metrics

DATA = Path(__file__).parent / "data"


def load(name: str, taken_at: float) -> Snapshot:
    return parse_metrics((DATA / name).read_text(), taken_at=taken_at)


@pytest.fixture
def before() -> Snapshot:
    return load("triton_before.txt", 100.0)


@pytest.fixture
def after() -> Snapshot:
    return load("triton_after.txt", 110.0)


@pytest.fixture
def restarted() -> Snapshot:
    return load("triton_restarted.txt", 110.0)
