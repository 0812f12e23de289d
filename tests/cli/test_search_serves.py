"""The Deployment ``falcon search`` writes serves the model in real Triton.

The written file is played the way a kubelet would: its volumes become folders (a ConfigMap's
keys become files, a PVC a prepared folder, an emptyDir an empty one), its init container's
script runs for real with ``sh`` (mount paths mapped to those folders, env resolved from the
written ConfigMaps), and real Triton (``make triton``) starts on the folder the Triton container
mounts as its model repository, as its ``args`` say. The model must become ready and answer a
request with the outputs onnxruntime gives.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
import tritonclient.http as http
import yaml

from falcon_operator.cli.main import main
from falcon_operator.triton.server import TritonError, TritonServer

VGG = Path(__file__).resolve().parents[2] / "operator/falcon_operator/data/models/vgg-plain.onnx"
Obj = dict[str, Any]
Cms = dict[str, dict[str, bytes]]  #: ConfigMap name -> key -> bytes


def search(tmp_path: Path, *extra: str) -> list[Obj]:
    """Run ``falcon search`` on the demo model (short, paper knowledge); the written documents."""
    out = tmp_path / "falcon-recommendation.yaml"
    argv = ["search", str(VGG), "--trials", "2", "--knowledge", "paper", "--output", str(out)]
    assert main([*argv, *extra]) == 0
    return [d for d in yaml.safe_load_all(out.read_text()) if d]


def configmaps(docs: list[Obj], created: Cms) -> Cms:
    """Every ConfigMap's keys as bytes: the written ones and those the user ``created``."""
    out = dict(created)
    for d in docs:
        if d["kind"] == "ConfigMap":
            data = {k: v.encode() for k, v in (d.get("data") or {}).items()}
            binary = {k: base64.b64decode(v) for k, v in (d.get("binaryData") or {}).items()}
            out[d["metadata"]["name"]] = data | binary
    return out


def volumes(pod: Obj, root: Path, cms: Cms, claims: dict[str, Path]) -> dict[str, Path]:
    """Each pod volume as a folder, filled as the kubelet would."""
    out = {}
    for v in pod["volumes"]:
        folder = root / v["name"]
        if "configMap" in v:
            keys = cms[v["configMap"]["name"]]  # KeyError: the ConfigMap does not exist
            items = v["configMap"].get("items") or [{"key": k, "path": k} for k in keys]
            for item in items:
                (folder / item["path"]).parent.mkdir(parents=True, exist_ok=True)
                (folder / item["path"]).write_bytes(keys[item["key"]])
        elif "persistentVolumeClaim" in v:
            folder = claims[v["persistentVolumeClaim"]["claimName"]]
        else:
            assert v.get("emptyDir") == {}, v
            folder.mkdir(parents=True)
        out[v["name"]] = folder
    return out


def mapped(text: str, mounts: list[Obj], folders: dict[str, Path]) -> str:
    """``text`` with each mount path (whole path components) replaced by its folder, in one pass."""
    paths = {m["mountPath"]: str(folders[m["name"]]) for m in mounts}
    pattern = "|".join(re.escape(p) for p in sorted(paths, key=len, reverse=True))
    return re.sub(rf"(?<![\w./-])({pattern})(?=[/\s'\"]|$)", lambda m: paths[m.group(1)], text)


def env(container: Obj, cms: Cms) -> dict[str, str]:
    out = {}
    for e in container.get("env") or []:
        ref = (e.get("valueFrom") or {}).get("configMapKeyRef")
        out[e["name"]] = cms[ref["name"]][ref["key"]].decode() if ref else e["value"]
    return out


def play(docs: list[Obj], root: Path, *, created: Cms | None = None,
         claims: dict[str, Path] | None = None) -> tuple[Path, Obj]:  # fmt: skip
    """Run the init containers; (the Triton container's model repository folder, the container)."""
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    cms = configmaps(docs, created or {})
    folders = volumes(pod, root, cms, claims or {})
    for c in pod["initContainers"]:
        assert c["command"][:2] == ["sh", "-c"], c["name"]  # POSIX shell in a busybox image
        script = mapped(c["command"][2], c["volumeMounts"], folders)
        path = {"PATH": os.environ["PATH"]}
        subprocess.run(["sh", "-c", script], env=path | env(c, cms), check=True, timeout=60)
    (triton,) = pod["containers"]
    (flag,) = [a for a in triton["args"] if a.startswith("--model-repository=")]
    repository = mapped(flag.removeprefix("--model-repository="), triton["volumeMounts"], folders)
    return Path(repository), triton


def serves(repository: Path, triton: Obj, batch: int, log: Path) -> None:
    """Real Triton on ``repository``: the one model there becomes ready and answers like ORT."""
    (model_dir,) = repository.iterdir()
    assert (model_dir / "1" / "model.onnx").read_bytes() == VGG.read_bytes()
    name = model_dir.name
    try:
        server = TritonServer(repository, models=[name], env=env(triton, {}), log_path=log)
        server.start()
    except TritonError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        assert server.model_ready(name)
        assert server.model_config(name)["max_batch_size"] == batch
        (inp,) = ort.InferenceSession(str(VGG)).get_inputs()
        x = np.random.default_rng(0).random([min(batch, 2), *inp.shape[1:]], dtype=np.float32)
        item = http.InferInput(inp.name, list(x.shape), "FP32")
        item.set_data_from_numpy(x)
        c = http.InferenceServerClient(server.url.removeprefix("http://"), network_timeout=120.0)
        result = c.infer(name, [item])
        session = ort.InferenceSession(str(VGG), providers=["CPUExecutionProvider"])
        for out, want in zip(session.get_outputs(), session.run(None, {inp.name: x}), strict=True):
            np.testing.assert_allclose(result.as_numpy(out.name), want, rtol=1e-5, atol=1e-6)
    finally:
        server.stop()


def batch_of(docs: list[Obj]) -> int:
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    config = json.loads(deployment["metadata"]["annotations"]["autoconfig.falcon.io/configuration"])
    return int(config["batchsize"])


def test_the_default_output_serves_the_demo_model(tmp_path: Path) -> None:
    docs = search(tmp_path)
    assert [d["kind"] for d in docs] == ["ConfigMap", "ConfigMap", "Deployment"]
    repository, triton = play(docs, tmp_path / "pod")
    serves(repository, triton, batch_of(docs), tmp_path / "tritonserver.log")


def test_a_user_configmap_serves_once_created(tmp_path: Path) -> None:
    docs = search(tmp_path, "--model-configmap", "weights:vgg.onnx")
    assert [d["kind"] for d in docs] == ["ConfigMap", "Deployment"]
    with pytest.raises(KeyError, match="weights"):  # not created yet: the pod cannot start
        play(docs, tmp_path / "early")
    created = {"weights": {"vgg.onnx": VGG.read_bytes()}}  # kubectl create configmap ...
    repository, triton = play(docs, tmp_path / "pod", created=created)
    serves(repository, triton, batch_of(docs), tmp_path / "tritonserver.log")


def test_a_pvc_uri_serves(tmp_path: Path) -> None:
    docs = search(tmp_path, "--model-uri", "pvc://models/cnn/vgg.onnx")
    claim = tmp_path / "claim"
    (claim / "cnn").mkdir(parents=True)
    (claim / "cnn" / "vgg.onnx").write_bytes(VGG.read_bytes())
    repository, triton = play(docs, tmp_path / "pod", claims={"models": claim})
    serves(repository, triton, batch_of(docs), tmp_path / "tritonserver.log")
