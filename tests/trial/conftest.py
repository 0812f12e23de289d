"""Real Triton Inference Server for the runner's tests: one shared server, and fresh ones to break.

The shared server (session scope) serves the test models of ``triton_models`` and the shipped
ResNet-mini through the project's onnxruntime backend; ``unloaded`` sits in its repository
without being loaded (explicit model control). Tests that kill, restart or unready a server
start their own with ``fresh_server``. Triton must be installed (``make triton``): without it
these tests fail with that instruction, they do not skip.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from triton_models import CAPPED, LOADED, SHARED_MODELS, ServerFactory, write_repository

from falcon_operator.triton.repository import write_model
from falcon_operator.triton.server import TritonServer

RESNET_PATH = (
    Path(__file__).resolve().parents[2] / "operator/falcon_operator/data/models/resnet-mini.onnx"
)
RESNET_CONFIG = """name: "resnet"
platform: "onnxruntime_onnx"
max_batch_size: 8
instance_group [ { kind: KIND_CPU count: 1 } ]
"""


@pytest.fixture(scope="session")
def triton(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TritonServer]:
    """The shared server: the test models, and ResNet-mini on onnxruntime (no simulated GPU)."""
    repository = write_repository(tmp_path_factory.mktemp("repository"), SHARED_MODELS)
    write_model(repository, "resnet", RESNET_PATH, RESNET_CONFIG)
    with TritonServer(repository, models=[*(m.name for m in LOADED), "resnet"]) as server:
        yield server


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[ServerFactory]:
    """Start a server of its own (default: only ``capped``); every one is stopped afterwards."""
    started: list[TritonServer] = []

    def start(*models: str) -> TritonServer:
        repository = write_repository(tmp_path / f"repository-{len(started)}", SHARED_MODELS)
        server = TritonServer(repository, models=models or (CAPPED.name,))
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()
