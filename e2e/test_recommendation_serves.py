"""The Deployment ``falcon search`` writes serves the model on the real node real-0.

``falcon search`` runs on the shipped demo model; its output is applied the way it says
(``kubectl apply --server-side -f``: the model's ConfigMap is too big for client-side apply)
with only what the test world needs changed: the CPU Triton and busybox images built for real-0,
real-0's pool and power label (100) in the node selector, its taints tolerated, small CPU and
memory requests (real-0 is this 2-core machine, not a g4dn). The init container copies the model
from the ConfigMap into the repository, Triton (started by the Deployment's own args) loads it,
the pod becomes Ready through its readiness probe, and an inference from the host through the
pod's IP answers what onnxruntime answers.
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import yaml
from falcon_e2e.cluster import REPO, Cluster, wait_for
from falcon_e2e.mission import BUSYBOX_IMAGE, NODE_SELECTOR, TRITON_IMAGE, diagnostics, log
from falcon_e2e.nodepools import GPU_TAINT
from falcon_e2e.realnode import NODE_NAME, REAL_TAINT
from kubernetes import client

from falcon_operator.cli.main import main

VGG = REPO / "operator/falcon_operator/data/models/vgg-plain.onnx"
Obj = dict[str, Any]


def import_images(cluster: Cluster) -> None:
    """The CPU Triton and busybox images into real-0's containerd (built when missing)."""
    from images.build import archives

    built = archives()
    for name in (TRITON_IMAGE, BUSYBOX_IMAGE):
        imported = cluster.import_image(built[name])
        assert any(name in n for n in imported), f"{built[name]} imported as {imported}"


def for_real_0(docs: list[Obj]) -> list[Obj]:
    """The written documents with the test world's images, real-0's pool and small requests."""
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    pod["nodeSelector"] |= dict(NODE_SELECTOR) | {"autoconfig.falcon.io/gpu-power-limit": "100"}
    pod["tolerations"] = [
        {"key": t["key"], "operator": "Exists", "effect": t["effect"]}
        for t in (GPU_TAINT, REAL_TAINT)
    ]
    for c in pod["initContainers"]:
        c["image"] = BUSYBOX_IMAGE
    (triton,) = pod["containers"]
    triton["image"] = TRITON_IMAGE
    small = {"cpu": "1", "memory": "2Gi", "nvidia.com/gpu": "1"}
    triton["resources"] = {"requests": small, "limits": dict(small)}
    return docs


def ready_pod(core: client.CoreV1Api, namespace: str, name: str) -> client.V1Pod | None:
    selector = f"app.kubernetes.io/name={name}"
    for pod in core.list_namespaced_pod(namespace, label_selector=selector).items:
        if any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions or []):
            return pod
    return None


def test_the_search_output_serves_on_real_0(
    cluster: Cluster, core: client.CoreV1Api, namespace: str, tmp_path: Path
) -> None:
    import_images(cluster)
    written = tmp_path / "falcon-recommendation.yaml"
    argv = ["search", str(VGG), "--trials", "3", "--knowledge", "paper", "--gpus", "T4",
            "--no-mig", "--namespace", namespace, "--output", str(written)]  # fmt: skip
    assert main(argv) == 0
    text = written.read_text()
    assert "# apply: kubectl apply --server-side -f" in text
    docs = for_real_0([d for d in yaml.safe_load_all(text) if d])
    assert [d["kind"] for d in docs] == ["ConfigMap", "ConfigMap", "Deployment"]
    applied = tmp_path / "applied.yaml"
    applied.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    t0 = time.monotonic()
    cluster.tool("kubectl", "apply", "--server-side", "-n", namespace, "-f", str(applied))
    name = docs[-1]["metadata"]["name"]
    try:
        pod = wait_for(lambda: ready_pod(core, namespace, name), timeout=300, interval=1,
                       what=f"a Ready pod of Deployment {name}")  # fmt: skip
    except BaseException:
        log("the recommendation's pod never became Ready:\n" + diagnostics(cluster, namespace))
        raise
    log(f"pod {pod.metadata.name} Ready on {pod.spec.node_name} in {time.monotonic() - t0:.1f} s")
    assert pod.spec.node_name == NODE_NAME
    # the kubelet ran it: KWOK, which fakes every other node's pods, never wrote to it
    managers = {f.manager or "" for f in pod.metadata.managed_fields or []}
    assert "kubelet" in managers and not any("kwok" in m for m in managers), managers
    (init,) = pod.status.init_container_statuses
    assert init.name == "prepare-model" and init.state.terminated.exit_code == 0

    model = "vgg-plain"
    base = f"http://{pod.status.pod_ip}:8000/v2/models/{model}"
    with urllib.request.urlopen(f"{base}/ready", timeout=10) as resp:
        assert resp.status == 200
    with urllib.request.urlopen(f"{base}/config", timeout=10) as resp:
        config = json.loads(resp.read())
    batch = json.loads(docs[-1]["metadata"]["annotations"]["autoconfig.falcon.io/configuration"])
    assert config["max_batch_size"] == batch["batchsize"]
    session = ort.InferenceSession(str(VGG), providers=["CPUExecutionProvider"])
    (inp,) = session.get_inputs()
    x = np.random.default_rng(0).random([1, *inp.shape[1:]], dtype=np.float32)
    body = {"inputs": [{"name": inp.name, "shape": list(x.shape), "datatype": "FP32",
                        "data": x.ravel().tolist()}]}  # fmt: skip
    request = urllib.request.Request(f"{base}/infer", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})  # fmt: skip
    with urllib.request.urlopen(request, timeout=60) as resp:
        outputs = {o["name"]: o for o in json.loads(resp.read())["outputs"]}
    for out, want in zip(session.get_outputs(), session.run(None, {inp.name: x}), strict=True):
        got = np.asarray(outputs[out.name]["data"], dtype=np.float32).reshape(want.shape)
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
