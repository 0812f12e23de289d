"""Every config.pbtxt the project writes loads unchanged in real Triton and serves real outputs.

The trial pod's (written by its init container), the recommendation's ConfigMap (reconcile),
the one ``falcon export`` prints, the recommend module's own, and a user ``modelConfig`` merged
in. Each is written byte for byte into the repository of the session's simulated-T4 server and
loaded through the repository API.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from triton_helpers import RESNET, VGG, client, infer, reference, sample

from falcon_operator.cli import export
from falcon_operator.core.catalog import load_catalog
from falcon_operator.core.knobs import BATCH
from falcon_operator.core.records import Outcome, TrialRecord
from falcon_operator.recommend.serving import model_config as recommended_pbtxt
from falcon_operator.reconcile.output import recommendation
from falcon_operator.spec import ResolvedSearch, parse_spec, resolve
from falcon_operator.trials.manifest import SearchRef, trial_pod
from falcon_operator.triton.repository import write_model
from falcon_operator.triton.server import TritonError, TritonServer

CONFIG = {"gputype": "T4", "cpus": 4, "batchsize": 8, "gpupower": 100, "gpumem": 0.0}
REF = SearchRef("search", "default", "0000")


def resolved(name: str, **model: Any) -> ResolvedSearch:
    spec = {
        "model": {"name": name, "configMapRef": {"name": "m", "key": "model.onnx"}, **model},
        "searchSpace": {"gpus": [{"type": "T4"}], "cpus": [4], "batchSizes": [1, 8]},
    }
    return resolve(parse_spec(spec), load_catalog())


def trial_pbtxt(rs: ResolvedSearch, config: dict[str, Any]) -> str:
    """config.pbtxt exactly as the trial pod's init container writes it."""
    pod = trial_pod(rs, REF, 0, config)
    (prepare,) = [c for c in pod["spec"]["initContainers"] if c["name"] == "prepare-model"]
    return str(next(e["value"] for e in prepare["env"] if e["name"] == "FALCON_MODEL_CONFIG"))


def serves(server: TritonServer, name: str, pbtxt: str, onnx: Path) -> dict[str, Any]:
    """Load ``pbtxt`` unchanged; check real outputs at batch 3; the served configuration."""
    write_model(server.repository, name, onnx, pbtxt)
    assert (server.repository / name / "config.pbtxt").read_text() == pbtxt
    server.load(name)
    assert server.model_ready(name)
    input_name, x = sample(onnx, 3)
    got, want = infer(client(server), name, input_name, x), reference(onnx, input_name, x)
    assert got.keys() == want.keys()
    for key, value in want.items():
        np.testing.assert_allclose(got[key], value, rtol=1e-5, atol=1e-6)
    return server.model_config(name)


def test_the_trial_pods_config_loads(t4_server: TritonServer) -> None:
    pbtxt = trial_pbtxt(resolved("trial-resnet"), CONFIG)
    served = serves(t4_server, "trial-resnet", pbtxt, RESNET)
    assert served["platform"] == "onnxruntime_onnx" and served["backend"] == "onnxruntime"
    assert served["runtime"] == "model.py"  # our Python-based backend serves it
    assert served["max_batch_size"] == 8
    assert served["dynamic_batching"]["preferred_batch_size"] == [8]
    assert served["dynamic_batching"]["max_queue_delay_microseconds"] == 2000
    assert [i["name"] for i in served["input"]] == ["input"]  # auto-completed from the graph
    assert served["input"][0]["dims"] == [3, 64, 64]


def test_a_user_model_config_is_merged_and_loads(t4_server: TritonServer) -> None:
    extra = {"modelConfig": {"instance_group": [{"count": 1, "kind": "KIND_CPU"}]}}
    pbtxt = trial_pbtxt(resolved("trial-vgg", **extra), CONFIG)
    assert "KIND_CPU" in pbtxt
    served = serves(t4_server, "trial-vgg", pbtxt, VGG)
    assert [(g["kind"], g["count"]) for g in served["instance_group"]] == [("KIND_CPU", 1)]


def test_a_kind_gpu_instance_group_is_refused_on_this_cpu_host(t4_server: TritonServer) -> None:
    extra = {"modelConfig": {"instance_group": [{"count": 1, "kind": "KIND_GPU"}]}}
    pbtxt = trial_pbtxt(resolved("trial-gpu-group", **extra), CONFIG)
    write_model(t4_server.repository, "trial-gpu-group", RESNET, pbtxt)
    with pytest.raises(TritonError, match="KIND_GPU but no GPUs are available"):
        t4_server.load("trial-gpu-group")


def _recommendation(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return recommendation(resolved(name), REF, TrialRecord(CONFIG, Outcome.OK, 1.0))


def test_the_recommendations_config_loads(t4_server: TritonServer) -> None:
    configmap, deployment = _recommendation("rec-vgg")
    served = serves(t4_server, "rec-vgg", configmap["data"]["config.pbtxt"], VGG)
    assert served["max_batch_size"] == 8
    (triton,) = deployment["spec"]["template"]["spec"]["containers"]
    assert triton["args"][0] == "tritonserver"  # the image's default backend directory applies


def test_the_config_falcon_export_prints_loads(t4_server: TritonServer) -> None:
    configmap, deployment = _recommendation("export-resnet")
    search = {
        "metadata": {"name": "search", "namespace": "default"},
        "status": {
            "phase": "Succeeded",
            "recommendation": deployment,
            "recommendedModelConfig": configmap,
        },
    }
    docs = [d for d in yaml.safe_load_all(export.render(search, "yaml")) if d]
    (exported,) = [d for d in docs if d["kind"] == "ConfigMap"]
    served = serves(t4_server, "export-resnet", exported["data"]["config.pbtxt"], RESNET)
    assert served["max_batch_size"] == 8


def test_the_recommend_modules_own_config_loads(t4_server: TritonServer) -> None:
    served = serves(
        t4_server, "deploy-resnet", recommended_pbtxt("deploy-resnet", {BATCH: 4}), RESNET
    )
    assert served["max_batch_size"] == 4 and "dynamic_batching" in served
