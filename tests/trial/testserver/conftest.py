"""Fixtures for the test-server tests: the models and a running (fast) simulated server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from testserver_helpers import RESNET, write_mlp

from falcon_trial.testserver import RunningServer, SimulatedBackend, running_server


@pytest.fixture(scope="session")
def resnet() -> Path:
    """resnet-mini: input ``input`` FP32 [-1, 3, 64, 64], output ``logits`` FP32 [-1, 10]."""
    return RESNET


@pytest.fixture
def mlp(tmp_path: Path) -> Path:
    return write_mlp(tmp_path / "mlp.onnx")


@pytest.fixture
def fast_server(resnet: Path) -> Iterator[RunningServer]:
    """resnet-mini on a simulated T4, batch 8, time compressed 100x (capacity ~600k req/s)."""
    backend = SimulatedBackend.from_onnx(resnet, gpu="T4", batch_size=8, time_scale=0.01)
    with running_server(backend, model_name="resnet") as srv:
        yield srv
