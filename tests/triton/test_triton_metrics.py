"""Live `/metrics` of real Triton parsed by falcon_operator.metrics: counters match the traffic."""

from __future__ import annotations

import numpy as np
import pytest
import tritonclient.http as http
from triton_helpers import RESNET, client, infer, sample, settled
from tritonclient.utils import InferenceServerException

from falcon_operator.core.knobs import BATCH
from falcon_operator.metrics import measure_window
from falcon_operator.metrics import names as n
from falcon_operator.triton.repository import write_trial_model
from falcon_operator.triton.server import TritonServer

MODEL = "metrics-resnet"


def test_window_counters_agree_with_the_requests_sent(t4_server: TritonServer) -> None:
    write_trial_model(t4_server.repository, MODEL, RESNET, {BATCH: 4})
    t4_server.load(MODEL)
    c = client(t4_server)
    name, x = sample(RESNET, 2)
    before = settled(t4_server, MODEL)
    for _ in range(10):  # one at a time: each request is its own execution
        infer(c, MODEL, name, x)
    bad = http.InferInput(name, [2, 3, 8, 8], "FP32")
    bad.set_data_from_numpy(np.zeros((2, 3, 8, 8), np.float32))
    with pytest.raises(InferenceServerException):
        c.infer(MODEL, [bad])  # wrong shape: refused before it reaches the model
    after = settled(t4_server, MODEL)
    w = measure_window(before, after, model=MODEL)
    assert (w.requests, w.inferences, w.executions) == (10, 20, 10)
    assert w.failures == 0  # a request refused at validation is neither a success nor a failure
    assert w.avg_batch_size == pytest.approx(2.0)
    assert w.compute_us is not None and w.compute_us > 0
    assert w.request_us is not None and w.request_us >= w.compute_us
    assert not w.counter_reset
    assert MODEL in after.models()
    assert after.samples(n.PENDING_REQUESTS)  # the gauges Triton exports are there too
