"""The Helm chart charts/falcon-operator against the e2e cluster.

``helm lint --strict`` on several value sets; the rendered chart (CRDs included) passes
``kubectl apply --dry-run=server``; release names and overrides; ``helm install`` after
``kubectl apply -f crds/`` leaves the CRD alone, a CRD the release installed stays managed;
and the operator runs a search to Succeeded with nothing but the chart's ServiceAccount and
RBAC (a token of that ServiceAccount, output.mode Apply so that the Deployment permission is
exercised too), while it is refused what it does not need.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml
from falcon_e2e.cluster import REPO, Cluster
from falcon_e2e.operator import (
    EXAMPLE,
    OperatorProcess,
    create_search,
    delete_searches,
    wait_search,
)
from kubernetes import client

from falcon_operator.spec.constants import COMPONENT_LABEL, FIELD_MANAGER, MANAGED_BY_LABEL

CHART = REPO / "charts" / "falcon-operator"
# networkPolicy.modelStore of the "netpol" value set: a port-limited block and an open one
MODEL_STORE = '[{"cidr":"10.0.0.0/8","ports":[443]},{"cidr":"192.168.10.0/24"}]'
VALUE_SETS = {
    "default": [],
    "namespaced": ["--set", "watchNamespaces={a,b}"],
    "replicas": ["--set", "replicaCount=3", "--set", "metrics.serviceMonitor.enabled=true"],
    "minimal": ["--set", "rbac.allowApplyOutput=false", "--set", "leaderElection.enabled=false"],
    "netpol": ["--set", "networkPolicy.enabled=true", "--set", "networkPolicy.namespaces={a,b}",
               "--set-json", f"networkPolicy.modelStore={MODEL_STORE}"],
}  # fmt: skip


@pytest.mark.parametrize("values", sorted(VALUE_SETS))
def test_chart_lints(cluster: Cluster, values: str) -> None:
    out = cluster.tool("helm", "lint", "--strict", str(CHART), *VALUE_SETS[values])
    assert "1 chart(s) linted, 0 chart(s) failed" in out


def test_chart_rejects_unknown_values(cluster: Cluster) -> None:
    proc = subprocess.run(
        [str(cluster.binary("helm")), "template", "x", str(CHART), "--set", "imageTag=1"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode != 0 and "additional properties 'imageTag' not allowed" in proc.stderr


@pytest.mark.parametrize("values", ["default", "namespaced", "minimal", "netpol"])
def test_rendered_chart_passes_a_server_side_dry_run(
    cluster: Cluster, namespace: str, crds: None, values: str
) -> None:
    args = VALUE_SETS[values]
    if values == "namespaced":  # namespaces that exist
        args = ["--set", f"watchNamespaces={{{namespace}}}"]
    if values == "netpol":
        args = [*args, "--set", f"networkPolicy.namespaces={{{namespace}}}"]
    rendered = cluster.tool("helm", "template", "falcon", str(CHART), "-n", namespace, *args)
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    kinds = [d["kind"] for d in docs]
    assert "Deployment" in kinds and "CustomResourceDefinition" in kinds
    (crd,) = [d for d in docs if d["kind"] == "CustomResourceDefinition"]
    assert crd["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"  # crds.keep
    out = cluster.tool(
        "kubectl", "apply", "--dry-run=server", "-n", namespace, "-f", "-", stdin=rendered
    )
    assert out.count("(server dry run)") == len(kinds), out


def _policies(cluster: Cluster, *args: str) -> list[dict]:
    rendered = cluster.tool("helm", "template", "falcon", str(CHART), *args)
    return [d for d in yaml.safe_load_all(rendered) if d and d["kind"] == "NetworkPolicy"]


def test_network_policy_for_trial_pods(cluster: Cluster) -> None:
    """One egress policy per listed namespace on the trial pods: DNS (UDP and TCP 53 to
    kube-dns) and the model store's CIDR blocks with their ports; no ingress rules."""
    assert _policies(cluster) == []  # off by default
    policies = _policies(cluster, *VALUE_SETS["netpol"])
    assert sorted(p["metadata"]["namespace"] for p in policies) == ["a", "b"]
    for policy in policies:
        assert policy["metadata"]["name"] == "falcon-operator-trial-egress"
        spec = policy["spec"]
        # the labels the operator puts on trial pods (trials/naming.py)
        trial = {COMPONENT_LABEL: "trial", MANAGED_BY_LABEL: FIELD_MANAGER}
        assert spec["podSelector"] == {"matchLabels": trial}
        assert spec["policyTypes"] == ["Egress"] and "ingress" not in spec
        dns, store, other = spec["egress"]
        assert dns["to"] == [
            {
                "namespaceSelector": {
                    "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                },
                "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
            }
        ]
        assert dns["ports"] == [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
        assert store == {
            "to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}],
            "ports": [{"protocol": "TCP", "port": 443}],
        }
        assert other == {"to": [{"ipBlock": {"cidr": "192.168.10.0/24"}}]}  # every port

    # the namespaces default to watchNamespaces; extraEgress is appended as is; a custom DNS
    namespaced = _policies(cluster, "--set", "networkPolicy.enabled=true",
        "--set", "watchNamespaces={ml}", "--set", "networkPolicy.dns.podSelector.k8s-app=dns",
        "--set-json", 'networkPolicy.extraEgress=[{"ports":[{"port":8125,"protocol":"UDP"}]}]',
    )  # fmt: skip
    (policy,) = namespaced
    assert policy["metadata"]["namespace"] == "ml"
    dns, extra = policy["spec"]["egress"]
    assert dns["to"][0]["podSelector"] == {"matchLabels": {"k8s-app": "dns"}}
    assert extra == {"ports": [{"port": 8125, "protocol": "UDP"}]}


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ([], "networkPolicy.enabled needs networkPolicy.namespaces"),  # cluster-wide watching
        (["--set-json", 'networkPolicy.modelStore=[{"cidr":"10.0.0.0"}]'], "cidr"),
        (["--set-json", 'networkPolicy.modelStore=[{"cidr":"10.0.0.0/8","ports":["https"]}]'],
         "ports"),
        (["--set-json", 'networkPolicy.extraEgress=[{"from":[]}]'], "'from' not allowed"),
    ],
)  # fmt: skip
def test_network_policy_rejects_bad_values(cluster: Cluster, values: list[str], error: str) -> None:
    proc = subprocess.run(
        [str(cluster.binary("helm")), "template", "x", str(CHART),
         "--set", "networkPolicy.enabled=true", *values],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )  # fmt: skip
    assert proc.returncode != 0 and error in proc.stderr, proc.stderr


def test_crds_switches(cluster: Cluster) -> None:
    off = cluster.tool("helm", "template", "falcon", str(CHART), "--set", "crds.enabled=false")
    assert "CustomResourceDefinition" not in off
    loose = cluster.tool("helm", "template", "falcon", str(CHART), "--set", "crds.keep=false")
    assert "CustomResourceDefinition" in loose and "resource-policy" not in loose


@pytest.mark.parametrize(
    ("release", "values", "fullname"),
    [
        ("falcon", [], "falcon-operator"),  # the README's release
        ("falcon-operator", [], "falcon-operator"),
        ("ml", [], "ml-falcon-operator"),
        ("ml", ["--set", "nameOverride=tuner"], "ml-tuner"),
        ("ml", ["--set", "fullnameOverride=tuner"], "tuner"),
    ],
)
def test_release_naming(cluster: Cluster, release: str, values: list[str], fullname: str) -> None:
    rendered = cluster.tool("helm", "template", release, str(CHART), *values)
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
    assert deployment["metadata"]["name"] == fullname
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == fullname
    names = {d["metadata"]["name"] for d in docs if d["kind"] != "CustomResourceDefinition"}
    assert names == {fullname, f"{fullname}-discovery", f"{fullname}-leader-election",
                     f"{fullname}-metrics"}  # fmt: skip


def test_install_after_kubectl_apply_crds_leaves_the_crd_alone(
    cluster: Cluster, namespace: str, crds: None
) -> None:
    """The README's order: ``kubectl apply -f crds/``, then ``helm install`` with the default
    values. The release does not take the CRD over (Helm would refuse: invalid ownership
    metadata); its NOTES say so, and ``helm uninstall`` leaves the CRD."""
    crd = "crd/inferenceconfigsearches.autoconfig.falcon.io"
    release = f"fo-{uuid.uuid4().hex[:6]}"
    try:
        out = cluster.tool("helm", "install", release, str(CHART), "-n", namespace,
            "--set", f"watchNamespaces={{{namespace}}}")  # fmt: skip
        assert "STATUS: deployed" in out
        assert "already existed" in out and "kubectl apply -f crds/" in out
        manifest = cluster.tool("helm", "get", "manifest", release, "-n", namespace)
        assert "kind: Deployment" in manifest and "CustomResourceDefinition" not in manifest
        live = yaml.safe_load(cluster.tool("kubectl", "get", crd, "-o", "yaml"))
        assert "meta.helm.sh/release-name" not in (live["metadata"].get("annotations") or {})
    finally:
        cluster.tool("helm", "uninstall", release, "-n", namespace)
        cluster.tool("kubectl", "delete", "clusterrole,clusterrolebinding", "-l",
            f"app.kubernetes.io/instance={release}", "--ignore-not-found")  # fmt: skip
    cluster.tool("kubectl", "get", crd)  # still there


def test_a_crd_the_release_installed_stays_managed(
    cluster: Cluster, namespace: str, crds: None
) -> None:
    """A CRD carrying this release's ownership annotations (the release installed it on a
    fresh cluster) is rendered, so upgrades upgrade it; another release leaves it alone."""
    crd = "crd/inferenceconfigsearches.autoconfig.falcon.io"
    keys = ["meta.helm.sh/release-name", "meta.helm.sh/release-namespace"]
    try:
        cluster.tool("kubectl", "annotate", crd, "--overwrite",
            f"{keys[0]}=falcon", f"{keys[1]}={namespace}")  # fmt: skip
        for release, rendered in [("falcon", True), ("other", False)]:
            out = cluster.tool(
                "helm", "template", release, str(CHART), "-n", namespace, "--dry-run=server"
            )
            assert ("kind: CustomResourceDefinition" in out) is rendered, release
    finally:
        cluster.tool("kubectl", "annotate", crd, *(f"{k}-" for k in keys))


def _token_kubeconfig(cluster: Cluster, namespace: str, sa: str, path: Path) -> Path:
    token = cluster.tool("kubectl", "create", "token", sa, "-n", namespace, "--duration=1h")
    admin = yaml.safe_load(cluster.kubeconfig.read_text())
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": admin["clusters"][:1],
        "users": [{"name": sa, "user": {"token": token.strip()}}],
        "contexts": [
            {
                "name": sa,
                "context": {"cluster": admin["clusters"][0]["name"], "user": sa},
            }
        ],
        "current-context": sa,
    }
    path.write_text(yaml.safe_dump(config))
    return path


def test_operator_runs_a_search_with_only_the_chart_rbac(
    cluster: Cluster,
    custom: client.CustomObjectsApi,
    namespace: str,
    model: str,
    tmp_path: Path,
) -> None:
    release = f"fo-{uuid.uuid4().hex[:6]}"
    sa = f"{release}-falcon-operator"
    op: OperatorProcess | None = None
    try:
        # a real release (the CRD is already there, applied from crds/ by the fixture); the
        # operator pod it creates runs no container on KWOK, so the operator runs here, as the
        # release's ServiceAccount
        cluster.tool("helm", "install", release, str(CHART), "-n", namespace, "--set",
            f"watchNamespaces={{{namespace}}}", "--set", "crds.enabled=false")  # fmt: skip
        assert "STATUS: deployed" in cluster.tool("helm", "status", release, "-n", namespace)
        apps = client.AppsV1Api(custom.api_client)
        pod_spec = apps.read_namespaced_deployment(sa, namespace).spec.template.spec
        assert pod_spec.service_account_name == sa
        assert pod_spec.containers[0].security_context.read_only_root_filesystem is True
        who = f"--as=system:serviceaccount:{namespace}:{sa}"
        for verb, resource, ns, allowed in [
            ("create", "pods", namespace, "yes"),
            ("patch", "inferenceconfigsearches.autoconfig.falcon.io", namespace, "yes"),
            ("patch", "deployments.apps", namespace, "yes"),
            ("create", "pods", "default", "no"),
            ("get", "secrets", namespace, "no"),
            ("delete", "configmaps", namespace, "no"),
            ("delete", "inferenceconfigsearches.autoconfig.falcon.io", namespace, "no"),
            ("update", "leases.coordination.k8s.io/other", namespace, "no"),
        ]:
            proc = subprocess.run(
                [str(cluster.binary("kubectl")), "auth", "can-i", verb, resource, "-n", ns, who],
                env=dict(os.environ, KUBECONFIG=str(cluster.kubeconfig)),
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert proc.stdout.strip() == allowed, f"can-i {verb} {resource} -n {ns}"

        kubeconfig = _token_kubeconfig(cluster, namespace, sa, tmp_path / "sa.kubeconfig")
        op = OperatorProcess(kubeconfig, [namespace], tmp_path / "operator.log").start()
        body = yaml.safe_load(EXAMPLE.read_text())
        body["spec"]["budget"]["maxTrials"] = 2
        body["spec"]["output"]["mode"] = "Apply"
        create_search(custom, namespace, body)
        obj = wait_search(custom, namespace, body["metadata"]["name"], timeout=120)
        status = obj["status"]
        assert status["phase"] == "Succeeded", status.get("message")
        assert status["outputRef"] == f"Deployment/{body['metadata']['name']}"
        assert "Forbidden" not in op.log.read_text() and " 403 " not in op.log.read_text()
    finally:
        if op is not None:
            delete_searches(custom, namespace)
            op.stop()
            print(f"\n[e2e] operator (chart RBAC) log:\n{op.tail(15)}", file=sys.stderr)
        cluster.tool("helm", "uninstall", release, "-n", namespace)
        cluster.tool(
            "kubectl",
            "delete",
            "clusterrole,clusterrolebinding",
            "-l",
            f"app.kubernetes.io/instance={release}",
            "--ignore-not-found",
        )
