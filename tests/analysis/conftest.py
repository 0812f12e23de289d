"""Fixtures of the model-analysis tests (one-node models live in onnx_single.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def kb_operators() -> list[str]:
    from falcon_operator.knowledge.dataset import FalconDataset, default_data_dir

    return FalconDataset(default_data_dir()).knowledge().operators
