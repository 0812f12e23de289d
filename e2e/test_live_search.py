"""``falcon search --live`` end to end: real Triton trials on this host, under two minutes.

Runs the installed ``falcon`` console script on the shipped ResNet-mini over a small live space
(3 trials, each a real ``tritonserver`` pinned to its cores and measured by ``falcon-trial``),
then checks what a user sees: the trial lines with measured throughput and p99, the
recommendation, and the written manifests (a CPU Deployment whose config.pbtxt carries the
recommended instances, batch size, queue delay and onnxruntime threads). With a live knowledge
base in ``$FALCON_CACHE`` (``falcon kb build --live``) Falcon starts from it; without one it
says so and starts from no sources: the test passes either way.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
MODEL = REPO / "operator/falcon_operator/data/models/resnet-mini.onnx"
FALCON = Path(sys.executable).parent / "falcon"


def test_a_live_search_measures_real_trials_and_writes_a_cpu_deployment(tmp_path: Path) -> None:
    out = tmp_path / "rec.yaml"
    argv = [
        str(FALCON), "search", str(MODEL), "--live", "--trials", "3", "--slo-p99-ms", "500",
        "--batch-sizes", "1,4", "--instances", "1,2", "--concurrency", "2", "--ort-threads", "1",
        "--queue-delays-us", "0,500", "--output", str(out),
    ]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False,
                          cwd=tmp_path, env=os.environ | {"COLUMNS": "120"})  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    text = done.stdout
    assert "Traceback" not in text + done.stderr
    assert re.search(r"live space on this host \(\d+ cores\)", text)
    trials = [ln for ln in text.splitlines() if re.match(r"\s*\d/3 ", ln)]
    assert len(trials) == 3, text
    measured = [ln for ln in trials if re.search(r"\d+\.\d+\s+\d+\.\d+\s+\d+\s+\d+\.\d+$", ln)]
    assert measured, f"no trial measured a throughput: {text}"
    assert "recommendation" in text and "rps/core" in text

    docs = [d for d in yaml.safe_load_all(out.read_text()) if d]
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    configuration = json.loads(
        deployment["metadata"]["annotations"]["autoconfig.falcon.io/configuration"]
    )
    assert set(configuration) == {
        "batchsize", "cpus", "instances", "concurrency", "ortthreads", "queuedelayus"
    }  # fmt: skip
    pod = deployment["spec"]["template"]["spec"]
    assert "nodeSelector" not in pod or not pod["nodeSelector"]  # a CPU Deployment: no GPU pool
    container = pod["containers"][0]
    assert container["resources"]["limits"]["cpu"] == str(configuration["cpus"])
    assert "nvidia.com/gpu" not in container["resources"]["limits"]
    pbtxt = next(d for d in docs if d["metadata"]["name"].endswith("-model-config"))["data"][
        "config.pbtxt"
    ]
    assert f"max_batch_size: {configuration['batchsize']}" in pbtxt
    assert f"max_queue_delay_microseconds: {configuration['queuedelayus']}" in pbtxt
    assert f"count: {configuration['instances']}" in pbtxt
    assert 'key: "intra_op_thread_count"' in pbtxt
