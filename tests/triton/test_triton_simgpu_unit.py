"""The simulated GPU and the ONNX helpers on their own (no server): times, memory, the timeline."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from triton_helpers import RESNET, VGG, reference, sample

from falcon_operator.core.catalog import load_catalog
from falcon_operator.fleet.performance import FleetModel
from falcon_operator.fleet.workload import workload_from_onnx
from falcon_operator.triton.onnxio import OnnxIoError, OnnxRunner, batch_size, io_entries
from falcon_operator.triton.simgpu import SimGpuError, SimulatedGpu, TrialConfig, mps_limit_gb


def _gpu(tmp_path: Path, text: str, **env: str) -> SimulatedGpu:
    workload, _ = workload_from_onnx(VGG)
    gpu = SimulatedGpu.from_env(workload, {"FALCON_TRIAL_CONFIG": text, **env})
    assert gpu is not None
    gpu.lock_path = tmp_path / "gpu.lock"
    return gpu


def test_batch_time_is_the_fleet_models_times_the_scale(tmp_path: Path) -> None:
    text = '{"gputype": "A100/1g.5gb", "cpus": 2, "batchsize": 4, "gpupower": 50, "gpumem": 0}'
    gpu = _gpu(tmp_path, text, FALCON_TIME_SCALE="3")
    fleet = FleetModel(load_catalog())
    workload, _ = workload_from_onnx(VGG)
    want = fleet.batch_seconds(workload, fleet.catalog.slice("A100/1g.5gb"), 4, 0.5) * 3
    assert gpu.batch_seconds(4) == pytest.approx(want)
    assert gpu.batch_seconds(8) > gpu.batch_seconds(4)


def test_no_configuration_no_simulated_gpu() -> None:
    workload, _ = workload_from_onnx(VGG)
    assert SimulatedGpu.from_env(workload, {}) is None


def test_bad_configurations_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(SimGpuError, match="FALCON_TRIAL_CONFIG"):
        TrialConfig.parse("not json")
    with pytest.raises(SimGpuError, match="unknown GPU"):
        _gpu(tmp_path, '{"gputype": "Z9"}')
    with pytest.raises(SimGpuError, match="like 0=2G"):
        mps_limit_gb("lots")
    assert mps_limit_gb("0=2G") == 2.0 and mps_limit_gb("0=512M") == pytest.approx(0.512)


def test_memory_limits_come_from_the_slice_gpumem_and_mps(tmp_path: Path) -> None:
    gpu = _gpu(tmp_path, '{"gputype": "T4", "gpumem": 0.5}')
    gpu.check_memory(8)  # 0.45 GB
    with pytest.raises(SimGpuError, match=r"out of memory: .* at batch 16, T4 allows 0.50 GB"):
        gpu.check_memory(16)
    mps = _gpu(tmp_path, '{"gputype": "T4"}', CUDA_MPS_PINNED_DEVICE_MEM_LIMIT="0=400M")
    assert mps.memory_limit_gb == pytest.approx(0.4)
    assert _gpu(tmp_path, '{"gputype": "A100/1g.5gb"}').memory_limit_gb == 5.0


def test_batches_of_two_instances_never_overlap_on_the_gpu(tmp_path: Path) -> None:
    a = _gpu(tmp_path, '{"gputype": "T4"}')
    b = _gpu(tmp_path, '{"gputype": "T4"}')  # another stub process of the same server
    t = a.batch_seconds(8)
    s1, e1 = a.reserve(8, arrival=100.0)
    s2, e2 = b.reserve(8, arrival=100.0)
    assert (s1, e1) == (100.0, pytest.approx(100.0 + t))
    assert s2 == pytest.approx(e1) and e2 == pytest.approx(e1 + t)
    s3, _ = a.reserve(1, arrival=e2 + 1.0)  # an idle GPU starts at once
    assert s3 == pytest.approx(e2 + 1.0)


def test_without_a_writable_lock_file_an_instance_keeps_its_own_timeline(tmp_path: Path) -> None:
    gpu = _gpu(tmp_path, '{"gputype": "T4"}')
    gpu.lock_path = tmp_path / "missing-dir" / "gpu.lock"
    t = gpu.batch_seconds(8)
    assert gpu.reserve(8, arrival=5.0) == (5.0, pytest.approx(5.0 + t))
    assert gpu.reserve(8, arrival=5.0)[0] == pytest.approx(5.0 + t)


def test_io_entries_come_from_the_graph() -> None:
    inputs, outputs = io_entries(RESNET, max_batch_size=8)
    assert inputs == [{"name": "input", "data_type": "TYPE_FP32", "dims": [3, 64, 64]}]
    assert outputs == [{"name": "logits", "data_type": "TYPE_FP32", "dims": [10]}]
    unbatched, _ = io_entries(RESNET, max_batch_size=0)
    assert unbatched[0]["dims"] == [-1, 3, 64, 64]


def test_a_file_that_is_not_onnx_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "model.onnx"
    bad.write_bytes(b"garbage")
    with pytest.raises(OnnxIoError, match="not a readable ONNX model"):
        io_entries(bad, max_batch_size=8)
    with pytest.raises(OnnxIoError, match="onnxruntime cannot load it"):
        OnnxRunner(bad)


def test_one_run_for_a_batch_of_requests_splits_back_per_request() -> None:
    runner = OnnxRunner(VGG)
    name, x = sample(VGG, 6)
    feeds = [{name: x[:1]}, {name: x[1:4]}, {name: x[4:]}]
    assert batch_size(feeds, batching=True) == 6 and batch_size(feeds, batching=False) == 3
    out = runner.run(feeds, ["fc1"], batching=True)
    want = reference(VGG, name, x)["fc1"]
    np.testing.assert_allclose(np.concatenate([o["fc1"] for o in out]), want, rtol=1e-5, atol=1e-6)
    assert [o["fc1"].shape[0] for o in out] == [1, 3, 2]


def test_instances_share_the_gpu_memory_and_overlap_their_batches(tmp_path: Path) -> None:
    one = _gpu(tmp_path, '{"gputype": "T4", "gpumem": 0.5}')
    two = _gpu(tmp_path, '{"gputype": "T4", "gpumem": 0.5, "instances": 2}')
    assert two.config.instances == 2 and one.config.instances == 1
    one.check_memory(8)  # 0.45 GB
    with pytest.raises(SimGpuError, match=r"at batch 8 × 2 instances, T4 allows 0.50 GB"):
        two.check_memory(8)
    fleet = FleetModel(load_catalog())
    workload, _ = workload_from_onnx(VGG)
    want = fleet.batch_seconds(workload, fleet.catalog.slice("T4"), 4, 1.0, instances=2)
    assert two.batch_seconds(4) == pytest.approx(want) and want < one.batch_seconds(4)
    with pytest.raises(SimGpuError, match="instances must be at least 1"):
        TrialConfig.parse('{"gputype": "T4", "instances": 0}')
