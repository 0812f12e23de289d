"""``falcon report SEARCH --out DIR``: an operator search's report (HTML page with PNG plots).

Reads the InferenceConfigSearch (as ``falcon export`` does), its trial history ConfigMap, its
model ConfigMap (for the operator profile) and its prices ConfigMap when it has one, rebuilds
the search's engine from them (cli/operator_report.py) and writes ``DIR/index.html`` and its
plots.
``falcon search --report DIR`` writes the same report for an offline search (:func:`offline`).
Errors are one line on stderr, exit code 2.
"""

from __future__ import annotations

import argparse
import base64
import json
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from falcon_operator.cli.help import SubParsers, add_command
from falcon_operator.core.errors import FalconError

if TYPE_CHECKING:
    from falcon_operator.core.objective import Objective
    from falcon_operator.core.records import TrialRecord
    from falcon_operator.core.space import Space
    from falcon_operator.knowledge.base import Knowledge
    from falcon_operator.search.falcon import FalconStrategy
    from falcon_operator.search.strategy import Strategy


class ReportError(FalconError):
    """The report cannot be made (no kubeconfig, no such search or ConfigMap)."""


def add_parser(subparsers: SubParsers[argparse.ArgumentParser]) -> None:
    """Register ``report`` on the ``falcon`` sub-command parsers."""
    r = add_command(
        subparsers,
        "report",
        "write an operator search's report: an HTML page with plots",
        "Write the report of an InferenceConfigSearch: DIR/index.html with PNG plots\n"
        "(objective per trial, throughput vs p99 with the SLO, cost vs throughput, the space\n"
        "explored) and, for every knob value never tried, why the search skipped it. For an\n"
        "offline search: falcon search MODEL.onnx --report DIR.",
    )
    r.add_argument("search", metavar="SEARCH", help="name of the InferenceConfigSearch")
    r.add_argument(
        "-n",
        "--namespace",
        default=None,
        help="its namespace (default: the kubeconfig context's, else default)",
    )
    r.add_argument(
        "--out",
        type=Path,
        metavar="DIR",
        default=Path("falcon-report"),
        help="folder to write index.html and the plots into",
    )
    r.add_argument(
        "--kubeconfig", default=None, help="kubeconfig (default: $KUBECONFIG / ~/.kube/config)"
    )


def _configmap(namespace: str, name: str, kubeconfig: str | None) -> dict[str, Any] | None:
    """The ConfigMap, or None when it does not exist; ReportError for anything else."""
    import urllib3
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException

    from falcon_operator.reconcile.kube import load_api_client

    api = load_api_client(kubeconfig)
    api.configuration.retries = 1
    try:
        resp: Any = client.CoreV1Api(api).read_namespaced_config_map(
            name, namespace, _preload_content=False, _request_timeout=15
        )
        obj: dict[str, Any] = json.loads(resp.data or b"{}")
        return obj
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise ReportError(
            f"cannot get ConfigMap {namespace}/{name}: {exc.status} {exc.reason}"
        ) from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise ReportError(f"cannot reach the API server: {type(exc).__name__}") from None
    finally:
        api.close()  # type: ignore[no-untyped-call]


def _value(cm: Mapping[str, Any] | None, key: str) -> bytes | None:
    if cm is None:
        return None
    if key in (cm.get("binaryData") or {}):
        return base64.b64decode(cm["binaryData"][key])
    if key in (cm.get("data") or {}):
        return str(cm["data"][key]).encode()
    return None


def run(args: argparse.Namespace) -> int:
    from falcon_operator.cli.export import default_namespace, fetch
    from falcon_operator.cli.operator_report import operator_report
    from falcon_operator.reconcile.prepare import analyse, search_knowledge
    from falcon_operator.report.page import write
    from falcon_operator.spec import parse_spec, prices_from_document
    from falcon_operator.trials.history import decode_history
    from falcon_operator.trials.naming import history_configmap

    obj = fetch(args.search, args.namespace, args.kubeconfig)
    ns = args.namespace or obj.get("metadata", {}).get("namespace") or default_namespace(None)
    spec = parse_spec(obj.get("spec"))
    history = _configmap(ns, history_configmap(args.search), args.kubeconfig)
    if history is None:
        raise ReportError(
            f"{args.search} has no trial history yet (no ConfigMap "
            f"{ns}/{history_configmap(args.search)})"
        )
    entries = decode_history(history.get("data"))
    prices = None
    ref = spec.objective.prices_config_map
    if ref is not None:
        text = _value(_configmap(ns, ref.name, args.kubeconfig), ref.key)
        if text is None:
            raise ReportError(f"prices ConfigMap {ns}/{ref.name} has no key {ref.key!r}")
        prices = prices_from_document(text.decode(errors="replace"), where=ref.name)
    with tempfile.TemporaryDirectory(prefix="falcon-report-") as tmp:
        path = None
        mref = spec.model.config_map_ref
        data = _value(_configmap(ns, mref.name, args.kubeconfig), mref.key) if mref else None
        if data is not None:
            path = Path(tmp) / "model.onnx"
            path.write_bytes(data)
        _, profile = analyse(path, spec.model)
    report = operator_report(
        obj, entries, knowledge=search_knowledge, profile=profile, prices=prices
    )
    page = write(report, args.out)
    print(f"wrote {page} ({len(entries)} trials)")
    if report.why:
        print(f"why: {report.why}")
    return 0


def falcon_for(
    strategy: Strategy,
    space: Space,
    knowledge: Knowledge,
    *,
    profile: Mapping[str, float] | None,
    seed: int,
) -> FalconStrategy | None:
    """The search's strategy when it is Falcon's, else Falcon's over the same knowledge."""
    from falcon_operator.search.falcon import FalconStrategy
    from falcon_operator.search.registry import make_strategy

    if isinstance(strategy, FalconStrategy):
        return strategy
    made = make_strategy("falcon", space, knowledge, profile=profile, seed=seed)
    return made if isinstance(made, FalconStrategy) else None


def offline(
    out: Path | None,
    title: str,
    history: Sequence[TrialRecord],
    *,
    falcon: FalconStrategy | None,
    space: Space,
    slo_p99_ms: float | None,
    details: Mapping[str, str] | None = None,
    goal: Objective | None = None,
) -> tuple[Path | None, str]:
    """The why line of an offline search, and its report in ``out`` (when given)."""
    from falcon_operator.report.data import build
    from falcon_operator.report.page import write
    from falcon_operator.report.why import explain

    if out is None:
        return None, explain(falcon, history, goal=goal) if falcon is not None else ""
    data = build(
        title, space, history, strategy=falcon, slo_p99_ms=slo_p99_ms, details=details, goal=goal
    )
    return write(data, out), data.why
