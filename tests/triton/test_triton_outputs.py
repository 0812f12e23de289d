"""Real outputs through real dynamic batching, and what the hold adds (nothing without a config).

Outputs of the simulated-GPU backend equal onnxruntime run directly on the same input, for a
request alone and for requests Triton's dynamic batcher merged into one execution.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from triton_helpers import RESNET, VGG, client, infer, reference, sample, settled, started

from falcon_operator.core.knobs import BATCH
from falcon_operator.metrics import measure_window
from falcon_operator.triton.repository import write_trial_model
from falcon_operator.triton.server import TritonServer


@pytest.mark.parametrize(("onnx", "batch"), [(RESNET, 1), (RESNET, 5), (VGG, 1), (VGG, 4)])
def test_outputs_equal_onnxruntime(t4_server: TritonServer, onnx: Path, batch: int) -> None:
    model = f"outputs-{onnx.stem}"
    if not t4_server.model_ready(model):
        write_trial_model(t4_server.repository, model, onnx, {BATCH: 8})
        t4_server.load(model)
    name, x = sample(onnx, batch, seed=batch)
    got, want = infer(client(t4_server), model, name, x), reference(onnx, name, x)
    assert got.keys() == want.keys()
    for key in want:
        assert got[key].shape == want[key].shape
        np.testing.assert_allclose(got[key], want[key], rtol=1e-5, atol=1e-6)


def test_dynamic_batching_merges_requests_and_answers_each_its_own(
    t4_server: TritonServer,
) -> None:
    model = "batching-resnet"
    write_trial_model(t4_server.repository, model, RESNET, {BATCH: 8})
    t4_server.load(model)
    inputs = [sample(RESNET, 1, seed=i) for i in range(24)]
    before = settled(t4_server, model)
    with ThreadPoolExecutor(12) as pool:
        got = list(pool.map(lambda item: infer(client(t4_server), model, *item), inputs))
    w = measure_window(before, settled(t4_server, model), model=model)
    assert w.requests == 24 and w.inferences == 24
    assert w.executions is not None and w.executions < 24  # the batcher merged requests
    for (name, x), out in zip(inputs, got, strict=True):
        np.testing.assert_allclose(
            out["logits"], reference(RESNET, name, x)["logits"], rtol=1e-5, atol=1e-6
        )


@pytest.fixture(scope="module")
def plain_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TritonServer]:
    """No FALCON_TRIAL_CONFIG: plain onnxruntime on CPU."""
    repository = tmp_path_factory.mktemp("plain")
    write_trial_model(repository, "plain-resnet", RESNET, {BATCH: 8})
    server = started(repository)
    server.load("plain-resnet")
    yield server
    server.stop()


def test_without_a_configuration_there_is_no_hold(plain_server: TritonServer) -> None:
    plain = r"onnxruntime on CPU, \d+ intra-op threads, no simulated GPU"
    assert re.search(plain, plain_server.log())
    name, x = sample(RESNET, 2)
    got = infer(client(plain_server), "plain-resnet", name, x)
    np.testing.assert_allclose(got["logits"], reference(RESNET, name, x)["logits"], rtol=1e-5)
    assert "holds it" not in plain_server.log()  # no instance set up a simulated GPU
