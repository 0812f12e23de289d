"""``falcon export SEARCH``: a finished search's recommendation as manifests to commit to Git.

Reads ``status.recommendedModelConfig`` (the ConfigMap with Triton's config.pbtxt) and
``status.recommendation`` (the Deployment) of an InferenceConfigSearch, strips what the API
server manages (uid, resourceVersion, managedFields, ownerReferences, status, ...) and prints
them, ConfigMap first, as a YAML stream (``--format yaml``) or a ``v1/List``
(``--format json``); either can be piped to ``kubectl apply -f -``. ``-o/--output FILE`` writes
them to FILE atomically: a failed export leaves FILE as it was (no empty file). Errors (no
kubeconfig, search not found, no recommendation yet) are one line on stderr and exit code 2.

``-o yaml`` and ``-o json`` (before ``--format``, ``-o`` was the format) still work, with a
note on stderr; write ``-o ./json`` for a file of that name.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from falcon_operator.cli.files import write_atomic
from falcon_operator.cli.help import SubParsers, add_command
from falcon_operator.core.errors import FalconError

Obj = dict[str, Any]
#: the resource exported (as ``spec.constants.KIND``; not imported: ``falcon --help`` stays fast)
KIND = "InferenceConfigSearch"
FORMATS = ("yaml", "json")

#: metadata fields the API server sets; never part of a manifest kept in Git
SERVER_METADATA = (
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "managedFields",
    "selfLink",
    "ownerReferences",
    "finalizers",
    "generateName",
)
#: annotations written by tools rather than by the recommendation
SERVER_ANNOTATIONS = (
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
)


class ExportError(FalconError):
    """The recommendation cannot be exported (no kubeconfig, no such search, not finished)."""


def add_parser(subparsers: SubParsers[argparse.ArgumentParser]) -> None:
    """Register ``export`` on the ``falcon`` sub-command parsers."""
    e = add_command(
        subparsers,
        "export",
        "print a finished search's recommended Deployment and model config",
        "Print (or write to FILE) the recommendation of a finished InferenceConfigSearch:\n"
        "the ConfigMap with Triton's config.pbtxt, then the Deployment, without what the API\n"
        "server manages; pipe it to 'kubectl apply -f -' or commit it to Git.",
    )
    e.add_argument("search", metavar="SEARCH", help="name of the InferenceConfigSearch")
    e.add_argument(
        "-n",
        "--namespace",
        default=None,
        help="its namespace (default: the kubeconfig context's, else default)",
    )
    e.add_argument(
        "-o",
        "--output",
        default=None,
        metavar="FILE",
        help="write the manifests to FILE, atomically (default: standard output)",
    )
    e.add_argument("--format", choices=FORMATS, default="yaml", help="YAML stream or JSON v1/List")
    e.add_argument(
        "--kubeconfig", default=None, help="kubeconfig (default: $KUBECONFIG / ~/.kube/config)"
    )


def clean(obj: Mapping[str, Any]) -> Obj:
    """A copy of ``obj`` without server-managed metadata, annotations and status."""
    out: Obj = copy.deepcopy(dict(obj))
    out.pop("status", None)
    meta: Obj = out.setdefault("metadata", {})
    for key in SERVER_METADATA:
        meta.pop(key, None)
    annotations = meta.get("annotations")
    if isinstance(annotations, dict):
        for key in SERVER_ANNOTATIONS:
            annotations.pop(key, None)
        if not annotations:
            meta.pop("annotations")
    template = out.get("spec", {}).get("template", {})
    if isinstance(template, dict) and isinstance(template.get("metadata"), dict):
        template["metadata"].pop("creationTimestamp", None)
    return out


def manifests(search: Mapping[str, Any]) -> list[Obj]:
    """The recommendation of an InferenceConfigSearch object: [ConfigMap,] Deployment."""
    meta = search.get("metadata") or {}
    where = f"{meta.get('namespace', '?')}/{meta.get('name', '?')}"
    status = search.get("status") or {}
    deployment = status.get("recommendation")
    if not isinstance(deployment, dict) or not deployment:
        phase = status.get("phase") or "Pending"
        progress = (status.get("trials") or {}).get("progress")
        detail = f", {progress} trials" if progress else ""
        if phase in ("Succeeded", "Failed"):
            message = status.get("message") or "no message"
            raise ExportError(f"{KIND} {where} is {phase} without a recommendation ({message})")
        raise ExportError(
            f"{KIND} {where} has not finished yet ({phase}{detail}); no recommendation to export"
        )
    out = []
    configmap = status.get("recommendedModelConfig")
    if isinstance(configmap, dict) and configmap:
        out.append(clean(configmap))
    out.append(clean(deployment))
    return out


def header(search: Mapping[str, Any]) -> str:
    """YAML comment lines saying where the manifests come from."""
    meta = search.get("metadata") or {}
    status = search.get("status") or {}
    lines = [f"# recommendation of {KIND} {meta.get('namespace')}/{meta.get('name')}"]
    best = status.get("best") or {}
    if best:
        lines.append(
            f"# best trial {best.get('trial')}: {best.get('gpu')}, "
            f"{best.get('rps')} req/s, p99 {best.get('p99Ms')} ms, "
            f"{best.get('costPerHour')} $/h (objective {best.get('objective')})"
        )
    if status.get("finishedAt"):
        lines.append(f"# search finished at {status['finishedAt']} ({status.get('phase')})")
    return "\n".join(lines) + "\n"


def render(search: Mapping[str, Any], output: str = "yaml") -> str:
    """The exported manifests as text: a commented YAML stream, or a JSON ``v1/List``."""
    from falcon_operator.recommend.deployment import to_yaml

    objs = manifests(search)
    if output == "json":
        return json.dumps({"apiVersion": "v1", "kind": "List", "items": objs}, indent=2) + "\n"
    return header(search) + "---\n" + to_yaml(objs)


def default_namespace(kubeconfig: str | None) -> str:
    """The current context's namespace, else ``default``."""
    from kubernetes import config

    if kubeconfig is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
        path = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"
        try:
            with open(path) as fh:
                return fh.read().strip() or "default"
        except OSError:
            return "default"
    try:
        _, active = config.list_kube_config_contexts(config_file=kubeconfig)  # type: ignore[no-untyped-call]
    except (config.ConfigException, OSError):
        return "default"
    ns = (active or {}).get("context", {}).get("namespace")
    return str(ns) if ns else "default"


def fetch(name: str, namespace: str | None, kubeconfig: str | None) -> Obj:
    """GET the InferenceConfigSearch; ExportError with one line on any failure."""
    import urllib3
    from kubernetes import client, config
    from kubernetes.client.exceptions import ApiException

    from falcon_operator.reconcile.kube import load_api_client
    from falcon_operator.spec.constants import GROUP, PLURAL, VERSION

    if kubeconfig is not None and not os.path.isfile(kubeconfig):
        raise ExportError(f"kubeconfig {kubeconfig} does not exist")
    try:
        api = load_api_client(kubeconfig)
    except (config.ConfigException, OSError, TypeError) as exc:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        where = kubeconfig or os.environ.get("KUBECONFIG") or "~/.kube/config"
        raise ExportError(f"no usable kubeconfig ({where}): {text}") from None
    ns = namespace or default_namespace(kubeconfig)
    api.configuration.retries = 1
    custom = client.CustomObjectsApi(api)
    try:
        resp: Any = custom.get_namespaced_custom_object(
            GROUP, VERSION, ns, PLURAL, name, _preload_content=False, _request_timeout=15
        )
        data = resp.data
    except ApiException as exc:
        if exc.status == 404:
            raise ExportError(f"{KIND} {ns}/{name} not found") from None
        try:
            message = json.loads(exc.body or "{}").get("message") or exc.reason
        except (ValueError, AttributeError):
            message = exc.reason
        raise ExportError(f"cannot get {KIND} {ns}/{name}: {exc.status} {message}") from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        host = api.configuration.host
        raise ExportError(f"cannot reach the API server {host}: {type(exc).__name__}") from None
    finally:
        api.close()  # type: ignore[no-untyped-call]
    obj: Obj = json.loads(data or b"{}")
    return obj


def output_and_format(args: argparse.Namespace) -> tuple[Path | None, str]:
    """Where to write and in which format; ``-o yaml``/``-o json`` is the old format option."""
    output: str | None = args.output  # a str: Path("./json") would lose the "./"
    if output in FORMATS:
        print(
            f"falcon export: '-o {output}' now means --format {output} "
            f"(-o/--output is a file; write -o ./{output} for a file of that name)",
            file=sys.stderr,
        )
        return None, output
    if output is None or output == "-":
        return None, args.format
    return Path(output), args.format


def run(args: argparse.Namespace) -> int:
    """Fetch the search, render its recommendation, print it or write ``--output``."""
    output, fmt = output_and_format(args)
    text = render(fetch(args.search, args.namespace, args.kubeconfig), fmt)
    if output is None:
        print(text, end="")
    else:
        write_atomic(output, text)
        print(f"wrote {output}", file=sys.stderr)
    return 0
