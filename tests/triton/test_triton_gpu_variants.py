"""Trials on a MIG slice and under an MPS memory limit, served by real Triton from the pod's env.

Their config.pbtxt is the whole-GPU one; what differs is the Triton container's resources and
environment (``FALCON_TRIAL_CONFIG``, ``CUDA_MPS_PINNED_DEVICE_MEM_LIMIT``), which the servers
here are started with, exactly as the trial pod sets them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from triton_helpers import RESNET, VGG, client, infer, sample, settled, started

from falcon_operator.core.catalog import load_catalog
from falcon_operator.core.knobs import BATCH
from falcon_operator.fleet.performance import FleetModel
from falcon_operator.fleet.workload import workload_from_onnx
from falcon_operator.metrics import measure_window
from falcon_operator.spec import ResolvedSearch, parse_spec, resolve
from falcon_operator.trials.manifest import SearchRef, trial_pod
from falcon_operator.trials.modelconfig import model_config
from falcon_operator.trials.reload import ReloadError, reload_model
from falcon_operator.triton.repository import write_model
from falcon_operator.triton.server import TritonError, TritonServer

SCALE = 20.0  # FALCON_TIME_SCALE: the simulated time dominates onnxruntime's on a busy host
MIG = {"gputype": "A100/1g.5gb", "cpus": 2, "batchsize": 8, "gpupower": 100, "gpumem": 0.0}
MPS = {"gputype": "T4", "cpus": 2, "batchsize": 8, "gpupower": 100, "gpumem": 0.5}
WHOLE = {"gputype": "T4", "cpus": 2, "batchsize": 8, "gpupower": 100, "gpumem": 0.0}


@pytest.fixture(scope="module")
def rs() -> ResolvedSearch:
    spec = {
        "model": {"name": "model", "configMapRef": {"name": "m", "key": "model.onnx"}},
        "searchSpace": {
            "gpus": [{"type": "T4"}, {"type": "A100", "migProfiles": ["1g.5gb"]}],
            "cpus": [2],
            "gpuMemoryGB": [0, 0.5],
            "batchSizes": [1, 8, 16],
            "powerLimits": [100],
        },
    }
    return resolve(parse_spec(spec), load_catalog())


def pod_parts(rs: ResolvedSearch, config: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """(config.pbtxt, Triton container) of the trial pod in ``config``."""
    pod = trial_pod(rs, SearchRef("s", "default", "0"), 0, config)
    prepare = next(c for c in pod["spec"]["initContainers"] if c["name"] == "prepare-model")
    pbtxt = next(e["value"] for e in prepare["env"] if e["name"] == "FALCON_MODEL_CONFIG")
    return str(pbtxt), pod["spec"]["containers"][0]


def serve_pod(
    rs: ResolvedSearch, config: dict[str, Any], onnx: Any, tmp: Any, **extra: str
) -> TritonServer:
    """Real Triton with the trial container's env and the init container's repository."""
    pbtxt, triton = pod_parts(rs, config)
    write_model(tmp, "model", onnx, pbtxt)
    env = {e["name"]: e["value"] for e in triton["env"]} | extra
    server = started(tmp, env=env)
    server.load("model")
    return server


@pytest.fixture(scope="module")
def mig_server(
    rs: ResolvedSearch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TritonServer]:
    server = serve_pod(rs, MIG, RESNET, tmp_path_factory.mktemp("mig"),
                       FALCON_TIME_SCALE=f"{SCALE:g}")  # fmt: skip
    yield server
    server.stop()


def test_only_resources_and_env_differ_on_mig_and_mps(rs: ResolvedSearch) -> None:
    whole, mig, mps = (pod_parts(rs, c) for c in (WHOLE, MIG, MPS))
    assert whole[0] == mig[0] == mps[0]  # the same config.pbtxt
    assert "nvidia.com/mig-1g.5gb" in mig[1]["resources"]["limits"]
    assert "nvidia.com/gpu" in whole[1]["resources"]["limits"]
    mps_env = {e["name"]: e["value"] for e in mps[1]["env"]}
    assert mps_env["CUDA_MPS_PINNED_DEVICE_MEM_LIMIT"] == "0=0.5G"


def test_a_mig_trial_is_served_on_its_slice(mig_server: TritonServer) -> None:
    assert mig_server.model_ready("model")
    assert "simulated A100/1g.5gb at 100% power" in mig_server.log()


def _compute_ms(server: TritonServer, batch: int, requests: int) -> float:
    """Average compute time per execution of ``requests`` sequential batch-``batch`` requests."""
    c = client(server)
    name, x = sample(RESNET, batch)
    infer(c, "model", name, x)  # warm
    before = settled(server, "model")
    for _ in range(requests):
        infer(c, "model", name, x)
    w = measure_window(before, settled(server, "model"), model="model")
    assert w.executions == requests and w.inferences == requests * batch
    assert w.avg_compute_ms is not None
    return w.avg_compute_ms


@pytest.mark.slow
def test_the_hold_tracks_the_fleet_models_batch_time(mig_server: TritonServer) -> None:
    fleet = FleetModel(load_catalog())
    workload, _ = workload_from_onnx(RESNET)
    sl = fleet.catalog.slice("A100/1g.5gb")
    for batch in (1, 8):
        want = fleet.batch_seconds(workload, sl, batch, 1.0) * SCALE * 1e3
        got = _compute_ms(mig_server, batch, 6)
        assert 0.95 * want <= got <= 1.3 * want + 10.0, (batch, got, want)


@pytest.mark.slow
def test_the_instances_share_one_gpu(mig_server: TritonServer) -> None:
    """Four full batches sent at once run one after another on the simulated GPU."""
    config = mig_server.model_config("model")
    assert sum(g["count"] for g in config["instance_group"]) >= 2  # two instances could overlap
    fleet = FleetModel(load_catalog())
    workload, _ = workload_from_onnx(RESNET)
    t = fleet.batch_seconds(workload, fleet.catalog.slice("A100/1g.5gb"), 8, 1.0) * SCALE
    name, x = sample(RESNET, 8)
    infer(client(mig_server), "model", name, x)  # warm
    start = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda _: infer(client(mig_server), "model", name, x), range(4)))
    assert time.monotonic() - start >= 0.95 * 4 * t


def test_an_mps_limit_refuses_a_batch_that_does_not_fit(
    rs: ResolvedSearch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    server = serve_pod(rs, MPS, VGG, tmp_path_factory.mktemp("mps"))
    try:
        assert server.model_config("model")["max_batch_size"] == 8  # 0.45 GB fits in 0.5 GB
        with pytest.raises(ReloadError, match=r"out of memory: .* at batch 16, T4 allows 0.50 GB"):
            reload_model(
                "127.0.0.1", "model", model_config("model", {BATCH: 16}), port=server.ports.http
            )
        assert server.model_ready("model")
        assert server.model_config("model")["max_batch_size"] == 8
    finally:
        server.stop()


@pytest.fixture(scope="module")
def rs_instances(rs: ResolvedSearch) -> ResolvedSearch:
    """The same search with the instance-count knob."""
    spec = {
        "model": {"name": "model", "configMapRef": {"name": "m", "key": "model.onnx"}},
        "searchSpace": {"gpus": [{"type": "T4"}], "cpus": [2], "gpuMemoryGB": [0, 0.5],
                        "batchSizes": [8], "instanceCounts": [1, 2]},
    }  # fmt: skip
    return resolve(parse_spec(spec), load_catalog())


@pytest.mark.slow
def test_n_instances_load_and_share_the_simulated_gpu(
    rs_instances: ResolvedSearch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """instance_group count 2 loads here (KIND_AUTO: the CPU); both instances take turns on the
    simulated GPU, each batch for the fleet model's two-instance time."""
    config = WHOLE | {"instances": 2}
    server = serve_pod(rs_instances, config, RESNET, tmp_path_factory.mktemp("two"),
                       FALCON_TIME_SCALE=f"{SCALE:g}")  # fmt: skip
    try:
        groups = server.model_config("model")["instance_group"]
        assert [(g["count"], g["kind"]) for g in groups] == [(2, "KIND_CPU")]
        fleet = FleetModel(load_catalog())
        workload, _ = workload_from_onnx(RESNET)
        sl = fleet.catalog.slice("T4")
        t2 = fleet.batch_seconds(workload, sl, 8, 1.0, instances=2) * SCALE
        assert t2 < fleet.batch_seconds(workload, sl, 8, 1.0) * SCALE
        name, x = sample(RESNET, 8)
        infer(client(server), "model", name, x)  # warm
        start = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda _: infer(client(server), "model", name, x), range(4)))
        assert time.monotonic() - start >= 0.95 * 4 * t2
    finally:
        server.stop()


def test_two_instances_run_out_of_memory_where_one_fits(
    rs_instances: ResolvedSearch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """VGG at batch 8 needs 0.45 GB: one instance fits a 0.5 GB MPS limit, two do not."""
    pbtxt, triton = pod_parts(rs_instances, MPS | {"instances": 2})
    tmp = tmp_path_factory.mktemp("two-oom")
    write_model(tmp, "model", VGG, pbtxt)
    server = started(tmp, env={e["name"]: e["value"] for e in triton["env"]})
    try:
        with pytest.raises(TritonError, match=r"out of memory: .* at batch 8 × 2 instances"):
            server.load("model")
    finally:
        server.stop()
