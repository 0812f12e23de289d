"""pytest plugin of the e2e suite: a real control plane with simulated GPU node pools.

Session fixture ``cluster`` brings the cluster up with ``e2e/cluster/cluster.sh up`` (building
the pinned binaries on first use) or reuses a running one; a cluster this session started is
deleted at the end unless FALCON_E2E_KEEP=1. Each test that asks for ``namespace`` gets its own
namespace, deleted afterwards. If the environment cannot be built the tests FAIL with the
reason -- they are never skipped.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client
from kubernetes import config as kubeconfig

sys.path.insert(0, str(Path(__file__).resolve().parent))

from falcon_e2e.cluster import REPO, Cluster, ClusterError, up, wait_for
from falcon_e2e.operator import OperatorProcess, delete_searches, model_configmap

E2E_LABEL = "falcon.io/e2e"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "e2e: runs against the e2e Kubernetes control plane")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(str(item.fspath)).resolve().parents:
            item.add_marker(pytest.mark.e2e)


def pytest_report_header() -> str:
    return "e2e: control plane from e2e/cluster (docs/testing.md)"


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    log = tmp_path_factory.mktemp("e2e-cluster") / "cluster-up.log"
    error = ""
    try:
        c = up(log)
    except (ClusterError, OSError) as exc:
        error = str(exc)
    if error:  # outside the except block: the report shows the reason, not a traceback chain
        pytest.fail(f"e2e cluster could not be started: {error}", pytrace=False)
    print(
        f"\n[e2e] cluster {'started' if c.started_here else 'reused'} in "
        f"{c.startup_seconds:.1f} s; KUBECONFIG={c.kubeconfig}",
        file=sys.stderr,
    )
    yield c
    if c.started_here and os.environ.get("FALCON_E2E_KEEP") != "1":
        c.stop()


@pytest.fixture(scope="session")
def api_client(cluster: Cluster) -> client.ApiClient:
    return kubeconfig.new_client_from_config(config_file=str(cluster.kubeconfig))


@pytest.fixture(scope="session")
def core(api_client: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)


def _namespace_name(nodeid: str) -> str:
    base = re.sub(r"[^a-z0-9-]+", "-", nodeid.split("::")[-1].lower()).strip("-")
    return f"e2e-{base[:40].rstrip('-')}-{uuid.uuid4().hex[:6]}"


@pytest.fixture
def namespace(core: client.CoreV1Api, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace for one test (ready for pods: its default ServiceAccount exists)."""
    name = _namespace_name(request.node.nodeid)
    core.create_namespace(
        client.V1Namespace(metadata=client.V1ObjectMeta(name=name, labels={E2E_LABEL: "true"}))
    )
    # the ServiceAccount admission plugin rejects pods until the controller made `default`
    wait_for(
        lambda: any(
            sa.metadata.name == "default" for sa in core.list_namespaced_service_account(name).items
        ),
        timeout=30,
        what=f"ServiceAccount default in {name} (kube-controller-manager makes it)",
    )
    yield name
    core.delete_namespace(name, propagation_policy="Background")


# -- the operator (docs/operator.md) ----------------------------------------------------------


@pytest.fixture(scope="session")
def crds(cluster: Cluster) -> None:
    """The InferenceConfigSearch CRD, applied from crds/ with kubectl and Established."""
    kubectl = str(cluster.binary("kubectl"))
    env = dict(os.environ, KUBECONFIG=str(cluster.kubeconfig))
    subprocess.run(
        [kubectl, "apply", "-f", str(REPO / "crds")], env=env, check=True, capture_output=True
    )
    subprocess.run(
        [
            kubectl,
            "wait",
            "--for=condition=Established",
            "--timeout=30s",
            "crd/inferenceconfigsearches.autoconfig.falcon.io",
        ],
        env=env,
        check=True,
        capture_output=True,
    )


@pytest.fixture
def custom(api_client: client.ApiClient, crds: None) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api_client)


@pytest.fixture
def model(core: client.CoreV1Api, namespace: str) -> str:
    """ConfigMap resnet-mini-model (key model.onnx) holding the shipped ResNet-mini."""
    model_configmap(core, namespace)
    return "resnet-mini-model"


@pytest.fixture
def operator(
    cluster: Cluster,
    namespace: str,
    custom: client.CustomObjectsApi,
    tmp_path: Path,
) -> Iterator[OperatorProcess]:
    """``falcon operator run --simulate-trials`` watching the test's namespace (a subprocess).

    At teardown every search of the namespace is deleted while the operator still runs, so
    its finalizer is released and the namespace can go.
    """
    op = OperatorProcess(cluster.kubeconfig, [namespace], tmp_path / "operator.log").start()
    yield op
    if not op.alive():
        op.start()
    delete_searches(custom, namespace)
    op.stop()
    print(f"\n[e2e] operator log {op.log}:\n{op.tail(15)}", file=sys.stderr)
