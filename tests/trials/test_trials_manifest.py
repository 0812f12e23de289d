"""Trial pod manifests: names, owner, selectors, resources, security, the model's way in."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from falcon_operator.core.knobs import BATCH
from falcon_operator.spec import ResolvedSearch, parse_spec, resolve
from falcon_operator.trials.manifest import SearchRef, trial_pod
from falcon_operator.trials.modelconfig import model_config, to_pbtxt
from falcon_operator.trials.naming import history_configmap, trial_index, trial_name

T4 = {"batchsize": 8, "cpus": 4, "gpumem": 0.0, "gpupower": 75, "gputype": "T4"}
MIG = {"batchsize": 1, "cpus": 2, "gpumem": 2.0, "gpupower": 100, "gputype": "H100/1g.10gb"}


def _containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    return [*pod["spec"]["initContainers"], *pod["spec"]["containers"]]


def test_names_are_deterministic() -> None:
    assert trial_name("s", 7) == "s-t007"
    assert trial_name("s", 1234) == "s-t1234"
    assert trial_index("s", "s-t007") == 7
    assert trial_index("s", "other-t007") is None
    assert trial_index("s-t", "s-t-t001") == 1
    assert history_configmap("s") == "s-trials"


def test_pod_identity_owner_and_configuration(rs: ResolvedSearch, owner: SearchRef) -> None:
    pod = trial_pod(rs, owner, 3, T4)
    meta = pod["metadata"]
    assert meta["name"] == "resnet-search-t003" and meta["namespace"] == "team-a"
    assert meta["labels"]["autoconfig.falcon.io/search"] == "resnet-search"
    assert meta["labels"]["autoconfig.falcon.io/trial"] == "resnet-search-t003"
    assert json.loads(meta["annotations"]["autoconfig.falcon.io/configuration"]) == T4
    assert meta["annotations"]["autoconfig.falcon.io/trial-index"] == "3"
    (ref,) = meta["ownerReferences"]
    assert ref == {
        "apiVersion": "autoconfig.falcon.io/v1alpha1",
        "kind": "InferenceConfigSearch",
        "name": "resnet-search",
        "uid": "0000-1111",
        "controller": True,
        "blockOwnerDeletion": True,
    }
    assert "falcon.io/fault" not in meta["labels"]
    assert (
        trial_pod(rs, owner, 3, T4, fault="oom")["metadata"]["labels"]["falcon.io/fault"] == "oom"
    )


def test_pod_runs_restricted(rs: ResolvedSearch, owner: SearchRef) -> None:
    pod = trial_pod(rs, owner, 0, T4)
    spec = pod["spec"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["restartPolicy"] == "Never"
    assert spec["activeDeadlineSeconds"] > 0
    assert spec["automountServiceAccountToken"] is False
    for c in _containers(pod):
        sc = c["securityContext"]
        assert sc["runAsNonRoot"] is True and sc["allowPrivilegeEscalation"] is False, c["name"]
        assert sc["capabilities"] == {"drop": ["ALL"]}


def test_whole_gpu_selector_and_resources(rs: ResolvedSearch, owner: SearchRef) -> None:
    pod = trial_pod(rs, owner, 0, T4)
    assert pod["spec"]["nodeSelector"] == {
        "nvidia.com/gpu.product": "Tesla-T4",
        "autoconfig.falcon.io/gpu-power-limit": "75",
    }
    triton = pod["spec"]["containers"][0]
    assert (
        triton["resources"]["requests"]
        == triton["resources"]["limits"]
        == {"cpu": "4", "memory": "4Gi", "nvidia.com/gpu": "1"}
    )
    assert "--model-control-mode=explicit" in triton["args"]
    assert not any(e["name"] == "CUDA_MPS_PINNED_DEVICE_MEM_LIMIT" for e in triton["env"])
    env = {e["name"]: e["value"] for e in triton["env"]}
    assert json.loads(env["FALCON_TRIAL_CONFIG"]) == T4  # the simulated GPU's configuration
    runner = pod["spec"]["containers"][1]
    assert "--sweep=32" in runner["args"] and "--slo-p99-ms=50" in runner["args"]
    assert runner["terminationMessagePolicy"] == "File"


def test_mig_slice_and_mps_limit(rs: ResolvedSearch, owner: SearchRef) -> None:
    pod = trial_pod(rs, owner, 1, MIG)
    triton = pod["spec"]["containers"][0]
    assert triton["resources"]["limits"]["nvidia.com/mig-1g.10gb"] == "1"
    assert "nvidia.com/gpu" not in triton["resources"]["limits"]
    env = {e["name"]: e["value"] for e in triton["env"]}
    assert env["CUDA_MPS_PINNED_DEVICE_MEM_LIMIT"] == "0=2G"
    assert json.loads(env["FALCON_TRIAL_CONFIG"]) == MIG  # the simulated GPU's configuration
    assert pod["spec"]["nodeSelector"]["nvidia.com/gpu.product"] == "NVIDIA-H100-80GB-HBM3"


def test_model_from_a_configmap_is_copied_with_its_config(
    rs: ResolvedSearch, owner: SearchRef
) -> None:
    pod = trial_pod(rs, owner, 0, T4)
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes["model-src"]["configMap"]["name"] == "resnet-model"
    (prepare,) = pod["spec"]["initContainers"]
    config = next(e["value"] for e in prepare["env"] if e["name"] == "FALCON_MODEL_CONFIG")
    assert "max_batch_size: 8" in config and 'name: "resnet"' in config
    assert "count: 2" in config  # spec.model.modelConfig merged in


def test_model_from_a_uri_is_fetched_with_credentials(owner: SearchRef) -> None:
    from falcon_operator.core.catalog import load_catalog

    spec = {
        "model": {
            "name": "m",
            "storageUri": "s3://bucket/models/m.onnx",
            "credentialsSecretRef": {"name": "aws"},
        },
        "searchSpace": {"gpus": [{"type": "T4"}]},
    }
    rs = resolve(parse_spec(spec), load_catalog())
    config = {"batchsize": 1, "cpus": 2, "gpumem": 0.0, "gpupower": 100, "gputype": "T4"}
    fetch, prepare = trial_pod(rs, owner, 0, config)["spec"]["initContainers"]
    assert fetch["args"] == ["s3://bucket/models/m.onnx", "/model-src"]
    assert fetch["envFrom"] == [{"secretRef": {"name": "aws"}}]
    assert "/model-src/m.onnx" in prepare["command"][-1]
    pvc = resolve(
        parse_spec(spec | {"model": {"name": "m", "storageUri": "pvc://claim/a/m.onnx"}}),
        load_catalog(),
    )
    pod = trial_pod(pvc, owner, 0, config)
    assert pod["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == "claim"
    assert dataclasses.is_dataclass(owner)


def test_model_config_renders_as_pbtxt() -> None:
    config = model_config(
        "bert",
        {BATCH: 16},
        extra={
            "instance_group": [{"count": 2, "kind": "KIND_GPU"}],
            "dynamic_batching": {"max_queue_delay_microseconds": 500},
        },
    )
    assert config["max_batch_size"] == 16
    assert config["dynamic_batching"] == {
        "max_queue_delay_microseconds": 500,
        "preferred_batch_size": [16],
    }
    text = to_pbtxt(config)
    assert 'name: "bert"' in text and "max_batch_size: 16" in text
    assert "preferred_batch_size: [16]" in text
    assert "instance_group [\n  {\n    count: 2\n    kind: KIND_GPU\n  }\n]" in text
