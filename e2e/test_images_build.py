"""The locally built OCI archives (e2e/images/, `make images`) against their Dockerfiles.

The archives are built when missing (cached otherwise) with ``images.build.archives``. Their
configs are checked against the Dockerfiles, read here with a parser of their own: entrypoint,
user, ENV, ports and labels; the names are the chart's and the operator's defaults. Each archive
is then imported into a throwaway containerd and its entrypoint run with runc. Needs root; a
missing tool or a failed build fails the test.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import shlex
import stat
import tarfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tritonclient.http as httpclient
import yaml
from images.build import archives
from images.containerd import Containerd
from images.oci import pack_layer, read_archive
from images.specs import images

from falcon_operator.core.knobs import BATCH
from falcon_operator.triton.repository import write_trial_model
from falcon_operator.triton.server import free_ports

REPO = Path(__file__).resolve().parents[1]
#: a trial's configuration as the operator gives it to Triton (the simulated GPU's input)
TRIAL_CONFIG = {"gputype": "T4", "cpus": 4, "batchsize": 4, "gpupower": 100, "gpumem": 0.0}
RESNET = REPO / "operator" / "falcon_operator" / "data" / "models" / "resnet-mini.onnx"
DOCKERFILES = {
    "operator": REPO / "Dockerfile",
    "runner": REPO / "trial-runner" / "Dockerfile",
    "triton": REPO / "e2e" / "images" / "triton.Dockerfile",
}


@pytest.fixture(scope="module")
def built() -> dict[str, Path]:
    """{short name: archive} of every image (built once if missing)."""
    by_name = archives()
    return {short: by_name[spec.name] for short, spec in images().items()}


@pytest.fixture(scope="module")
def containerd() -> Iterator[Containerd]:
    with Containerd() as c:
        yield c


def final_stage(path: Path) -> list[tuple[str, str]]:
    """(KEYWORD, rest) of the Dockerfile's last stage."""
    text = re.sub(r"\\\n\s*", " ", path.read_text())
    lines = [
        ln.strip() for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("#")
    ]
    last = max(i for i, ln in enumerate(lines) if ln.upper().startswith("FROM "))
    return [(ln.split(" ", 1)[0].upper(), ln.split(" ", 1)[1]) for ln in lines[last + 1 :]]


def test_layers_are_reproducible_and_carry_overlay_whiteouts(tmp_path: Path) -> None:
    """Sorted entries, hard links, empty dev/, overlay whiteouts become OCI ones, stable digests."""
    tree = tmp_path / "upper"
    (tree / "usr" / "bin").mkdir(parents=True)
    (tree / "dev").mkdir()
    (tree / "dev" / "null").write_text("not packed")
    (tree / "usr" / "bin" / "b").write_text("tool")
    os.link(tree / "usr" / "bin" / "b", tree / "usr" / "bin" / "a")
    os.mknod(tree / "usr" / "gone", stat.S_IFCHR | 0o600, os.makedev(0, 0))
    (tree / "etc").mkdir()
    os.setxattr(tree / "etc", "trusted.overlay.opaque", b"y")
    first = pack_layer(tree, tmp_path / "one.tar.gz")
    second = pack_layer(tree, tmp_path / "two.tar.gz")
    assert (first.digest, first.diff_id) == (second.digest, second.diff_id)
    raw = gzip.decompress(first.path.read_bytes())
    assert first.diff_id == f"sha256:{hashlib.sha256(raw).hexdigest()}"
    assert first.size == first.path.stat().st_size
    with tarfile.open(first.path) as tar:
        members = {m.name: m for m in tar.getmembers()}
        names = list(members)
    assert names == [
        "dev",
        "etc",
        "etc/.wh..wh..opq",
        "usr",
        "usr/bin",
        "usr/bin/a",
        "usr/bin/b",
        "usr/.wh.gone",
    ]
    assert members["usr/bin/b"].islnk() and members["usr/bin/b"].linkname == "usr/bin/a"
    assert {(m.uid, m.gid, m.uname) for m in members.values()} == {(0, 0, "")}


def config_of(archive: Path) -> tuple[str, dict[str, Any]]:
    index, config = read_archive(archive)
    name = index["manifests"][0]["annotations"]["io.containerd.image.name"]
    return name, config


@pytest.mark.parametrize("short", sorted(DOCKERFILES))
def test_archive_config_matches_its_dockerfile(built: dict[str, Path], short: str) -> None:
    _, image = config_of(built[short])
    config = image["config"]
    stage = final_stage(DOCKERFILES[short])
    for keyword, rest in stage:
        if keyword in ("ENTRYPOINT", "CMD"):
            assert config[keyword.capitalize()] == json.loads(rest)
        elif keyword == "USER":
            assert config["User"] == rest == "65532:65532"
        elif keyword == "ENV":
            for pair in shlex.split(rest):
                assert pair in config["Env"], f"{short}: {pair} missing from {config['Env']}"
        elif keyword == "LABEL":
            for pair in shlex.split(rest):
                key, _, value = pair.partition("=")
                assert config["Labels"][key] == value
        elif keyword == "EXPOSE":
            assert sorted(config["ExposedPorts"]) == sorted(f"{p}/tcp" for p in rest.split())
    keywords = {kw for kw, _ in stage}
    assert ("Entrypoint" in config) == ("ENTRYPOINT" in keywords)
    path = next(e for e in config["Env"] if e.startswith("PATH="))
    assert path.startswith("PATH=/opt/venv/bin:"), path
    assert image["os"] == "linux" and image["architecture"] == "amd64"
    assert len(image["rootfs"]["diff_ids"]) == len(image["history"]) >= 3


def test_names_are_the_defaults_of_the_chart_and_the_operator(built: dict[str, Path]) -> None:
    chart = REPO / "charts" / "falcon-operator"
    values = yaml.safe_load((chart / "values.yaml").read_text())
    app = yaml.safe_load((chart / "Chart.yaml").read_text())["appVersion"]
    assert config_of(built["operator"])[0] == f"{values['image']['repository']}:{app}"
    assert config_of(built["runner"])[0] == values["runnerImage"]
    assert config_of(built["triton"])[0] == "ghcr.io/falcon-operator/tritonserver-cpu:2.51.0"
    assert config_of(built["busybox"])[0] == "ghcr.io/falcon-operator/busybox:1.35.0"


def test_triton_image_has_the_stub_requirements(
    built: dict[str, Path], containerd: Containerd
) -> None:
    """numpy < 2 and the rest exactly as stub-requirements.txt pins them (the Dockerfile too)."""
    requirements = (
        REPO / "operator" / "falcon_operator" / "data" / "triton" / "stub-requirements.txt"
    )
    assert str(requirements.relative_to(REPO)) in DOCKERFILES["triton"].read_text()
    wanted = sorted(
        ln.strip().lower().replace("_", "-")
        for ln in requirements.read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    )
    name = images()["triton"].name
    containerd.load(built["triton"])
    proc = containerd.run(name, "pip", "freeze", "--exclude", "falcon-operator")
    assert proc.returncode == 0, proc.stderr[-2000:]
    frozen = sorted(ln.lower().replace("_", "-") for ln in proc.stdout.split())
    assert frozen == wanted
    assert "numpy==1." in proc.stdout


def test_archives_are_cached(built: dict[str, Path]) -> None:
    mtimes = {p: p.stat().st_mtime_ns for p in built.values()}
    again = archives()
    assert sorted(again.values()) == sorted(built.values())
    assert {p: p.stat().st_mtime_ns for p in again.values()} == mtimes


BUSYBOX_SCRIPT = (
    "mkdir -p /tmp/m/1 && printf %s ok > /tmp/m/c && cp /tmp/m/c /tmp/m/1/ && cat /tmp/m/1/c"
)


@pytest.mark.parametrize(
    ("short", "args", "code", "expect"),
    [
        ("operator", ["falcon", "operator", "run", "--help"], 0, "--runner-image"),
        ("runner", ["falcon-trial", "--help"], 0, "--model"),
        # tritonserver --help prints its usage and exits 1
        ("triton", ["tritonserver", "--help"], 1, "--model-repository"),
        ("busybox", ["sh", "-c", BUSYBOX_SCRIPT], 0, "ok"),
    ],
)
def test_archive_imports_and_runs(
    built: dict[str, Path],
    containerd: Containerd,
    short: str,
    args: list[str],
    code: int,
    expect: str,
) -> None:
    name = images()[short].name
    assert name in containerd.load(built[short])
    proc = containerd.run(name, *args)
    assert proc.returncode == code, proc.stderr[-2000:]
    assert expect in proc.stdout + proc.stderr


@pytest.mark.parametrize("short", ["operator", "runner", "triton"])
def test_python_images_run_as_non_root(
    built: dict[str, Path], containerd: Containerd, short: str
) -> None:
    name = images()[short].name
    containerd.load(built[short])
    proc = containerd.run(
        name, "sh", "-c", "id -u; command -v python; python -c 'import falcon_trial'"
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split()[:2] == ["65532", "/opt/venv/bin/python"]


def _wait_ready(client: httpclient.InferenceServerClient, box: Containerd, cid: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if client.is_server_ready() and client.is_model_ready("resnet"):
                return
        except Exception:  # connection refused while it starts
            pass
        time.sleep(1)
    raise AssertionError(f"tritonserver not ready in 120 s:\n{box.log(cid)[-3000:]}")


def test_triton_image_serves_a_trial_model(
    built: dict[str, Path], containerd: Containerd, tmp_path: Path
) -> None:
    """The pod's args start real Triton; the simulated-GPU backend answers and counts."""
    name = images()["triton"].name
    containerd.load(built["triton"])
    repository = tmp_path / "models"
    write_trial_model(repository, "resnet", RESNET, {BATCH: 4})
    ports = free_ports()
    cid = containerd.start(
        name,
        "tritonserver",
        "--model-repository=/models",
        "--model-control-mode=explicit",
        "--load-model=resnet",
        "--http-address=127.0.0.1",
        f"--http-port={ports.http}",
        "--grpc-address=127.0.0.1",
        f"--grpc-port={ports.grpc}",
        "--metrics-address=127.0.0.1",
        f"--metrics-port={ports.metrics}",
        "--exit-timeout-secs=1",
        mounts={repository: "/models"},
        env={"FALCON_TRIAL_CONFIG": json.dumps(TRIAL_CONFIG)},
    )
    try:
        client = httpclient.InferenceServerClient(f"127.0.0.1:{ports.http}")
        _wait_ready(client, containerd, cid)
        meta = client.get_model_metadata("resnet")
        spec = meta["inputs"][0]
        shape = [2 if d == -1 else d for d in spec["shape"]]
        tensor = httpclient.InferInput(spec["name"], shape, spec["datatype"])
        tensor.set_data_from_numpy(np.zeros(shape, dtype=np.float32))
        output = meta["outputs"][0]["name"]
        wanted = [httpclient.InferRequestedOutput(output, binary_data=True)]
        out = client.infer("resnet", [tensor], outputs=wanted).as_numpy(output)
        assert out is not None and out.shape[0] == 2
        with urllib.request.urlopen(f"http://127.0.0.1:{ports.metrics}/metrics") as r:
            metrics = r.read().decode()
        assert 'nv_inference_request_success{model="resnet",version="1"} 1' in metrics
        assert "resnet_0: simulated T4 at 100% power" in containerd.log(cid)
    finally:
        containerd.stop(cid)
