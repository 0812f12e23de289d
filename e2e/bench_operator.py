"""Many concurrent searches against one operator: wall time, trials, operator CPU and memory.

    .venv/bin/python e2e/bench_operator.py --searches 20      # make bench-operator

Starts (or reuses) the e2e cluster, creates a namespace with the model ConfigMap, runs
``falcon operator run --simulate-trials`` as a subprocess, creates N copies of the example
search (seeds 0..N-1) at once and waits until every one has ended. The GPU pools are shared,
so trials queue for GPUs (pendingTimeoutSeconds is raised accordingly). Prints one summary line
and writes JSON with --out.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml
from kubernetes import client
from kubernetes import config as kubeconfig

sys.path.insert(0, str(Path(__file__).resolve().parent))

from falcon_e2e.cluster import up
from falcon_e2e.operator import (
    EXAMPLE,
    GROUP,
    PLURAL,
    VERSION,
    OperatorProcess,
    delete_searches,
    model_configmap,
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--searches", type=int, default=20)
    ap.add_argument("--trials", type=int, default=6)
    ap.add_argument(
        "--trial-seconds",
        type=float,
        default=None,
        help="wall-clock seconds per simulated trial (default: the example budget's)",
    )
    ap.add_argument("--timeout", type=float, default=900.0)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="falcon-bench-"))
    cluster = up(work / "cluster-up.log")
    api = kubeconfig.new_client_from_config(config_file=str(cluster.kubeconfig))
    core, custom = client.CoreV1Api(api), client.CustomObjectsApi(api)
    import subprocess

    subprocess.run(
        [
            str(cluster.binary("kubectl")),
            "--kubeconfig",
            str(cluster.kubeconfig),
            "apply",
            "-f",
            str(EXAMPLE.parents[1] / "crds"),
        ],
        check=True,
        capture_output=True,
    )
    ns = f"bench-{uuid.uuid4().hex[:6]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    while not any(
        sa.metadata.name == "default" for sa in core.list_namespaced_service_account(ns).items
    ):
        time.sleep(0.2)
    model_configmap(core, ns)
    extra = [] if args.trial_seconds is None else ["--sim-trial-seconds", str(args.trial_seconds)]
    op = OperatorProcess(cluster.kubeconfig, [ns], work / "operator.log", *extra).start()
    time.sleep(4)  # operator start-up (imports, knowledge base)
    base = yaml.safe_load(EXAMPLE.read_text())
    base["spec"]["budget"].update(maxTrials=args.trials, pendingTimeoutSeconds=600)
    base["spec"]["output"]["mode"] = "Status"
    t0 = time.monotonic()
    for i in range(args.searches):
        body = copy.deepcopy(base)
        body["metadata"]["name"] = f"s{i:02d}"
        body["spec"]["algorithm"]["seed"] = i
        custom.create_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, body)
    cpu0, peak, samples = op.sample().cpu_s, 0.0, []
    phases: dict[str, str] = {}
    while time.monotonic() - t0 < args.timeout:
        items = custom.list_namespaced_custom_object(GROUP, VERSION, ns, PLURAL)["items"]
        phases = {o["metadata"]["name"]: (o.get("status") or {}).get("phase", "") for o in items}
        u = op.sample()
        peak = max(peak, u.peak_rss_mb)
        samples.append((time.monotonic() - t0, u.cpu_s - cpu0))
        if all(p in ("Succeeded", "Failed") for p in phases.values()):
            break
        time.sleep(1.0)
    wall = time.monotonic() - t0
    cpu = op.sample().cpu_s - cpu0
    items = custom.list_namespaced_custom_object(GROUP, VERSION, ns, PLURAL)["items"]
    trials = sum(((o.get("status") or {}).get("trials") or {}).get("done", 0) for o in items)
    infeasible = sum(
        ((o.get("status") or {}).get("trials") or {}).get("infeasible", 0) for o in items
    )
    result = {
        "searches": args.searches,
        "trials": trials,
        "infeasible": infeasible,
        "succeeded": sum(p == "Succeeded" for p in phases.values()),
        "failed": sum(p == "Failed" for p in phases.values()),
        "wall_s": round(wall, 1),
        "operator_cpu_s": round(cpu, 1),
        "operator_cpu_percent": round(100 * cpu / wall, 1),
        "operator_peak_rss_mb": round(peak, 1),
        "trial_seconds": args.trial_seconds,
    }
    print(json.dumps(result))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    delete_searches(custom, ns)
    op.stop()
    core.delete_namespace(ns)
    return 0 if result["succeeded"] == args.searches else 1


if __name__ == "__main__":
    sys.exit(main())
