"""From an ONNX file to the fleet's workload."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest

from falcon_operator.analysis import analyze
from falcon_operator.analysis.zoo import resnet_cnn
from falcon_operator.fleet.workload import initializer_bytes, workload_from_onnx


def test_workload_separates_per_sample_and_per_batch_work(tmp_path: Path) -> None:
    path = tmp_path / "cnn.onnx"
    model = resnet_cnn()
    onnx.save(model, path)
    workload, profile = workload_from_onnx(path)
    expected_weights = sum(
        float(np.prod(i.dims))
        * np.dtype(onnx.helper.tensor_dtype_to_np_dtype(i.data_type)).itemsize
        for i in model.graph.initializer
    )
    assert workload.weight_bytes == pytest.approx(expected_weights) == initializer_bytes(model)
    conv = next(o for o in workload.operators if o.operator == "conv2d")
    at4 = next(r for r in analyze(path, batch_size=4).rows if r.operator == "conv2d")
    # linear in the batch: per-sample work × 4 + per-batch weight traffic
    assert conv.flops_per_sample * 4 == pytest.approx(at4.flops, rel=1e-6)
    assert conv.bytes_per_sample * 4 + conv.weight_bytes == pytest.approx(at4.bytes, rel=1e-6)
    assert conv.weight_bytes > 0
    assert workload.activation_bytes_per_sample > 0
    assert workload.cpu_seconds_per_request > 2e-4  # fixed cost plus the input's bytes
    assert profile.kops[0] == "conv2d"
