"""The dynamic batcher under concurrency, throughput at saturation, reload and faults."""

from __future__ import annotations

import asyncio
import http.client
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import tritonclient.http.aio as tha
from testserver_helpers import client, drive, resnet_input, snapshot
from tritonclient.utils import InferenceServerException

from falcon_operator.metrics import measure_window
from falcon_trial.testserver import RunningServer, SimulatedBackend, TestServer, running_server

GONE = (OSError, http.client.HTTPException)  # refused, reset, or closed mid-response


def _backend(
    resnet: Path,
    *,
    gpu: str = "T4",
    cpus: float = 4,
    batch_size: int = 8,
    power: float | None = None,
    gpu_memory_gb: float | None = None,
    time_scale: float = 1.0,
) -> SimulatedBackend:
    return SimulatedBackend.from_onnx(resnet, gpu=gpu, cpus=cpus, batch_size=batch_size,
                                      power=power, gpu_memory_gb=gpu_memory_gb,
                                      time_scale=time_scale)  # fmt: skip


def test_concurrent_requests_are_batched(resnet: Path) -> None:
    backend = _backend(resnet, gpu="T4", batch_size=8, time_scale=5.0)  # ~6.5 ms per batch
    with running_server(backend, model_name="m", max_queue_delay_ms=2.0) as srv:
        before = snapshot(srv)
        drive(srv.url, "m", workers=16, seconds=1.0)
        m = measure_window(before, snapshot(srv), model="m")
    assert m.requests > 100
    assert m.avg_batch_size is not None and m.avg_batch_size > 4
    assert m.avg_queue_ms is not None and m.avg_queue_ms > 0


@pytest.mark.slow
def test_throughput_at_saturation_is_within_10_percent_of_capacity(resnet: Path) -> None:
    backend = _backend(resnet, gpu="T4", batch_size=8, time_scale=20.0)
    assert 250 < backend.capacity_rps < 350  # 6105 req/s on a T4, slowed 20x
    with running_server(backend, model_name="m") as srv:
        load = threading.Thread(
            target=drive, args=(srv.url, "m"), kwargs={"workers": 64, "seconds": 3.5}
        )
        load.start()
        time.sleep(1.0)  # ramp-up
        before = snapshot(srv)
        time.sleep(2.0)
        after = snapshot(srv)
        load.join()
    m = measure_window(before, after, model="m")
    assert m.request_rps == pytest.approx(backend.capacity_rps, rel=0.10)
    assert m.avg_batch_size == pytest.approx(8.0, rel=0.05)
    assert m.gpu_utilization is not None and m.gpu_utilization > 0.9


def test_capacity_follows_the_configuration(resnet: Path) -> None:
    t4 = _backend(resnet, gpu="T4", batch_size=8)
    assert t4.capacity_rps == pytest.approx(8 / t4.batch_seconds(8))
    assert _backend(resnet, gpu="T4", batch_size=32).capacity_rps > t4.capacity_rps
    assert _backend(resnet, gpu="T4", power=50).capacity_rps < t4.capacity_rps
    assert _backend(resnet, gpu="K80").capacity_rps < t4.capacity_rps
    cpu_bound = _backend(resnet, gpu="V100", batch_size=32, cpus=1)
    assert cpu_bound.capacity_rps == pytest.approx(cpu_bound.cpu_capacity_rps_unscaled)
    assert _backend(resnet, time_scale=10).capacity_rps == pytest.approx(t4.capacity_rps / 10)


def test_reload_with_a_new_config(resnet: Path) -> None:
    backend = _backend(resnet, batch_size=8, gpu_memory_gb=0.45, time_scale=0.01)
    with running_server(backend, model_name="m") as srv:
        c = client(srv)
        before = backend.capacity_rps
        c.load_model(
            "m", config='{"max_batch_size": 4, "dynamic_batching": {"preferred_batch_size": [4]}}'
        )
        cfg = c.get_model_config("m")
        assert cfg["max_batch_size"] == 4 and cfg["dynamic_batching"]["preferred_batch_size"] == [4]
        assert backend.capacity_rps < before
        with pytest.raises(InferenceServerException, match="between 1 and 4"):
            c.infer("m", [resnet_input(8)])
        with pytest.raises(InferenceServerException, match="out of memory") as info:
            c.load_model("m", config='{"max_batch_size": 64}')  # 0.55 GB > 0.45 GB
        assert str(info.value.status()) == "400"
        assert c.get_model_config("m")["max_batch_size"] == 4  # unchanged
        assert c.infer("m", [resnet_input(4)]).as_numpy("logits").shape == (4, 10)


def test_unload_then_requests_fail_until_loaded(fast_server: RunningServer) -> None:
    c = client(fast_server)
    c.unload_model("resnet")
    assert not c.is_model_ready("resnet")
    with pytest.raises(InferenceServerException, match="no available versions"):
        c.infer("resnet", [resnet_input(1)])
    assert c.get_model_repository_index()[0]["state"] == "UNAVAILABLE"
    c.load_model("resnet")
    assert c.infer("resnet", [resnet_input(1)]).as_numpy("logits").shape == (1, 10)


def test_stop_now_kills_the_server(resnet: Path) -> None:
    with running_server(_backend(resnet, time_scale=0.01), model_name="m") as srv:
        c = client(srv)
        assert c.is_server_live()
        srv.stop_now()
        with pytest.raises(GONE):
            client(srv).is_server_live()


def test_die_after_kills_the_server_mid_load(resnet: Path) -> None:
    backend = _backend(resnet, time_scale=1.0)
    with running_server(backend, model_name="m", die_after_s=0.4) as srv:
        c = client(srv)
        started, served = time.monotonic(), 0
        with pytest.raises(GONE):
            while time.monotonic() - started < 5:
                c.infer("m", [resnet_input(1)])
                served += 1
        assert served > 10 and 0.3 < time.monotonic() - started < 2.0
        assert srv.server.killed


def test_a_lone_request_waits_the_max_queue_delay(resnet: Path) -> None:
    backend = _backend(resnet, time_scale=0.01)
    with running_server(backend, model_name="m", max_queue_delay_ms=40.0) as srv:
        before = snapshot(srv)
        for _ in range(3):
            client(srv).infer("m", [resnet_input(1)])  # never fills a batch of 8
        m = measure_window(before, snapshot(srv), model="m")
    assert m.avg_batch_size == 1.0
    assert m.avg_queue_ms is not None and 38.0 <= m.avg_queue_ms <= 80.0


def test_stop_fails_waiting_requests_quickly(resnet: Path) -> None:
    backend = _backend(resnet, time_scale=50.0)  # 65 ms per batch of 8

    async def run() -> tuple[list[object], float]:
        server = TestServer(backend, model_name="m")
        await server.start()
        aio = tha.InferenceServerClient(server.url.removeprefix("http://"), conn_limit=64)
        tensor = tha.InferInput("input", [1, 3, 64, 64], "FP32")
        tensor.set_data_from_numpy(np.zeros((1, 3, 64, 64), np.float32))
        calls = [asyncio.ensure_future(aio.infer("m", [tensor])) for _ in range(40)]
        await asyncio.sleep(0.25)  # host work (~26 ms a request on 4 cores), then batches
        loop = asyncio.get_running_loop()
        started = loop.time()
        await server.stop()
        took = loop.time() - started
        results = await asyncio.gather(*calls, return_exceptions=True)
        await aio.close()
        return list(results), took

    results, took = asyncio.run(run())
    assert took < 1.0
    served = [r for r in results if not isinstance(r, BaseException)]
    refused = [
        r for r in results if isinstance(r, InferenceServerException) and r.status() == "503"
    ]
    assert 0 < len(served) < 40  # the batches that had started finished ...
    assert len(served) + len(refused) == 40  # ... and everything still waiting got a 503
