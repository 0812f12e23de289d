"""README.md's 5-minute tour, run as written against the e2e cluster.

Every ``sh`` block of the tour section runs in one bash script (``set -euo pipefail``) from
the repository root, in order: the offline search, the operator part (CRD from ``crds/``,
operator in the background, the example search) and the Helm install on top of it. Two lines
are not run as written: ``kubectl get ics -w`` (it never ends) becomes a loop that prints the
phase every half second until the search has Succeeded, and ``make cluster-down`` is left out
(the other e2e tests use the cluster). The search must read ``Pending`` from its very first
read, never a blank phase.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator

import pytest
from falcon_e2e.cluster import REPO, Cluster
from falcon_e2e.operator import delete_searches
from kubernetes import client

README = REPO / "README.md"
WATCH = "kubectl get ics -w"
POLL = """for _ in $(seq 1 360); do
  phase=$(kubectl get ics resnet-mini -o jsonpath='{.status.phase}')
  echo "PHASE ${phase:-<blank>}"
  [ "$phase" = Succeeded ] && break
  [ "$phase" = Failed ] && exit 1
  sleep 0.5
done
[ "$phase" = Succeeded ]"""
OUTPUTS = ["falcon-recommendation.yaml", "resnet-mini.yaml", "operator.log"]


def tour_script() -> str:
    text = README.read_text()
    start = text.index("## 5-minute tour")
    section = text[start : text.index("\n## ", start + 1)]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    lines = "\n".join(blocks).splitlines()
    watch = [i for i, line in enumerate(lines) if line.startswith(WATCH)]
    down = [i for i, line in enumerate(lines) if line.strip() == "make cluster-down"]
    assert len(watch) == 1 and len(down) == 1, "the tour changed: update e2e/test_tour.py"
    lines[watch[0]] = POLL
    del lines[down[0]]
    return "set -euo pipefail\n" + "\n".join(lines) + "\n"


def _clean(cluster: Cluster, custom: client.CustomObjectsApi) -> None:
    helm = [str(cluster.binary("helm")), "uninstall", "falcon", "-n", "falcon-system"]
    env = dict(os.environ, KUBECONFIG=str(cluster.kubeconfig))
    subprocess.run(helm, env=env, capture_output=True, timeout=120, check=False)
    delete_searches(custom, "default", timeout=10)  # the tour's operator has been stopped
    cluster.tool("kubectl", "delete", "configmap", "-n", "default", "--ignore-not-found",
        "resnet-mini-model", "resnet-mini-trials", "resnet-mini-recommendation")  # fmt: skip


@pytest.fixture
def clean_default(cluster: Cluster, custom: client.CustomObjectsApi) -> Iterator[None]:
    _clean(cluster, custom)
    yield
    _clean(cluster, custom)


def test_the_readme_tour_runs_as_written(cluster: Cluster, clean_default: None) -> None:
    for name in OUTPUTS:
        (REPO / name).unlink(missing_ok=True)
    proc = subprocess.run(
        ["bash", "-c", tour_script()],
        cwd=REPO,
        env={k: v for k, v in os.environ.items() if k != "KUBECONFIG"},  # the tour sets it
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    phases = re.findall(r"^PHASE (\S+)$", proc.stdout, re.M)
    assert phases[0] == "Pending" and phases[-1] == "Succeeded", phases
    assert "<blank>" not in phases, phases
    assert "kind: Deployment" in (REPO / "falcon-recommendation.yaml").read_text()
    assert "kind: Deployment" in (REPO / "resnet-mini.yaml").read_text()
    assert "STATUS: deployed" in out and "already existed" in out
