"""One operator under load on the e2e cluster: concurrent searches, an API-server pause, a long
history. ``make bench-operator`` runs the three scenarios and writes bench/results/operator/.

    .venv/bin/python e2e/bench_operator.py                       # make bench-operator
    .venv/bin/python e2e/bench_operator.py --scenario many --searches 20 --namespaces 2

Scenarios (each with its own operator process, ``falcon operator run --simulate-trials`` with
the chart's defaults: poll every 2 s, leader election on):

- ``many``: N copies of the example search (seeds 0..N-1) spread over K namespaces, created at
  once, on roomy KWOK pools (``falcon_e2e.bench.roomy_pools``: no trial waits for a GPU), until
  every search is terminal. Reports the operator's peak RSS and CPU, with the simulated fleet's
  CPU (``falcon_simulation_cpu_seconds_total``, the stand-in for Triton) apart; the API requests
  per search from the API server's ``apiserver_request_total`` (the bench's own polling
  subtracted); searches the operator never picked up; duplicate trials.
- ``pause``: the same, with the kube-apiserver process stopped (SIGSTOP) for ``--pause-s``
  seconds once the searches are under way. Every search must still end, without a trial
  recorded twice or a configuration measured twice.
- ``history``: one search of 500 trials (32 in parallel, a 512-configuration space, short
  simulated trials): the JSON size of the search object and of its history ConfigMap against
  the API server's 1 MiB object limit (etcd's request limit is 1.5 MiB).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client
from kubernetes import config as kubeconfig

sys.path.insert(0, str(Path(__file__).resolve().parent))

from falcon_e2e import bench
from falcon_e2e.cluster import Cluster, up
from falcon_e2e.nodepools import load, sync
from falcon_e2e.operator import (
    EXAMPLE,
    GROUP,
    PLURAL,
    VERSION,
    OperatorProcess,
    delete_searches,
    model_configmap,
)

REPO = Path(__file__).resolve().parents[1]
LIMIT_BYTES = 1024 * 1024
TERMINAL = ("Succeeded", "Failed")


class Bench:
    """The cluster, the API clients and the bench's own request count."""

    def __init__(self, cluster: Cluster, work: Path) -> None:
        self.cluster, self.work = cluster, work
        api = kubeconfig.new_client_from_config(config_file=str(cluster.kubeconfig))
        self.core, self.custom = client.CoreV1Api(api), client.CustomObjectsApi(api)
        #: the bench's own requests while measuring, subtracted from the API server's counts
        self.own: Counter[bench.Key] = Counter()

    def namespaces(self, n: int) -> list[str]:
        tag = uuid.uuid4().hex[:5]
        names = [f"bench-{tag}-{i}" for i in range(n)]
        for ns in names:
            self.core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
        for ns in names:
            while not any(
                sa.metadata.name == "default"
                for sa in self.core.list_namespaced_service_account(ns).items
            ):
                time.sleep(0.2)
            model_configmap(self.core, ns)
        return names

    def drop(self, op: OperatorProcess, namespaces: list[str]) -> None:
        """Delete the searches while the operator runs (their finalizers), stop it, delete the
        namespaces and wait until they are gone: the next scenario counts its own requests."""
        for ns in namespaces:
            delete_searches(self.custom, ns, timeout=120)
        op.stop()
        for ns in namespaces:
            self.core.delete_namespace(ns)
        left = set(namespaces)
        deadline = time.monotonic() + 180
        while left and time.monotonic() < deadline:
            left &= {n.metadata.name for n in self.core.list_namespace().items}
            time.sleep(1.0)
        if left:
            print(f"[bench] namespaces not gone after 180 s: {sorted(left)}", file=sys.stderr)

    def searches(self) -> list[dict[str, Any]]:
        self.own[("autoconfig.falcon.io", "inferenceconfigsearches", "", "LIST")] += 1
        items: list[dict[str, Any]] = self.custom.list_cluster_custom_object(
            GROUP, VERSION, PLURAL
        )["items"]
        return items

    def wait(
        self,
        op: OperatorProcess,
        names: set[str],
        *,
        timeout: float,
        pause_at: float | None = None,
        pause_s: float = 0.0,
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Poll every 2 s until the searches in ``names`` are terminal; (their objects, figures)."""
        t0, peak, paused = time.monotonic(), 0.0, {}
        objs: list[dict[str, Any]] = []
        while time.monotonic() - t0 < timeout:
            if pause_at is not None and not paused and time.monotonic() - t0 >= pause_at:
                paused = self.pause(pause_s, t0)
            objs = [o for o in self.searches() if _key(o) in names]
            peak = max(peak, op.sample().peak_rss_mb)
            done = sum((o.get("status") or {}).get("phase") in TERMINAL for o in objs)
            print(f"[bench] {time.monotonic() - t0:6.1f} s: {done}/{len(names)} terminal, "
                  f"operator peak RSS {peak:.0f} MB", file=sys.stderr, flush=True)  # fmt: skip
            if done == len(names) and len(objs) == len(names):
                break
            time.sleep(2.0)
        return objs, {"wall_s": round(time.monotonic() - t0, 1), "peak": peak, **paused}

    def pause(self, seconds: float, t0: float) -> dict[str, Any]:
        pid = bench.apiserver_pid(self.cluster)
        at = time.monotonic() - t0
        print(f"[bench] pausing kube-apiserver (pid {pid}) for {seconds:g} s", file=sys.stderr)
        with bench.paused(pid):
            time.sleep(seconds)
        back = bench.wait_ready(self.core)
        return {
            "paused_at_s": round(at, 1),
            "paused_s": seconds,
            "answered_after_s": round(back, 1),
        }


def _key(obj: dict[str, Any]) -> str:
    return f"{obj['metadata']['namespace']}/{obj['metadata']['name']}"


def _example(seed: int, name: str) -> dict[str, Any]:
    body = yaml.safe_load(EXAMPLE.read_text())
    body["metadata"]["name"] = name
    body["spec"]["algorithm"]["seed"] = seed
    body["spec"]["output"]["mode"] = "Status"
    return body


def many(b: Bench, args: argparse.Namespace, *, pause: bool) -> dict[str, Any]:
    """N searches over K namespaces; optionally the API server paused mid-run."""
    namespaces = b.namespaces(args.namespaces)
    log = b.work / f"operator-{'pause' if pause else 'many'}.log"
    op = OperatorProcess(b.cluster.kubeconfig, namespaces, log, "--poll-seconds", "2").start()
    time.sleep(5)  # imports and the knowledge base
    before, cpu0 = bench.ApiRequests.snapshot(b.cluster), op.sample().cpu_s
    sim0 = op.metric("falcon_simulation_cpu_seconds_total")
    b.own.clear()
    names = set()
    for i in range(args.searches):
        ns = namespaces[i % len(namespaces)]
        body = _example(i, f"s{i:03d}")
        b.own[("autoconfig.falcon.io", "inferenceconfigsearches", "", "POST")] += 1
        b.custom.create_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, body)
        names.add(f"{ns}/s{i:03d}")
    objs, figures = b.wait(
        op, names, timeout=args.timeout, pause_at=args.pause_at if pause else None,
        pause_s=args.pause_s,
    )  # fmt: skip
    delta = bench.ApiRequests.snapshot(b.cluster).since(before)
    cpu = op.sample().cpu_s - cpu0
    sim = op.metric("falcon_simulation_cpu_seconds_total") - sim0
    requests = bench.operator_requests(delta, own=b.own)
    reports = [bench.search_report(b.core, o) for o in objs]
    b.drop(op, namespaces)
    n = len(names)
    phases = Counter((o.get("status") or {}).get("phase") for o in objs)
    result = {
        "scenario": "pause" if pause else "many",
        "searches": n,
        "namespaces": len(namespaces),
        "terminal": sum(phases[p] for p in TERMINAL),
        "succeeded": phases["Succeeded"],
        "failed": phases["Failed"],
        "not_picked_up": sum(not r["picked_up"] for r in reports),
        "trials": sum(r["trials"] for r in reports),
        "duplicate_configs": sum(r["duplicate_configs"] for r in reports),
        "duplicate_indices": sum(r["duplicate_indices"] for r in reports),
        "wall_s": figures["wall_s"],
        "operator_peak_rss_mb": round(figures["peak"], 1),
        "operator_cpu_s": round(cpu, 1),
        "simulation_cpu_s": round(sim, 1),
        "operator_cpu_s_without_simulation": round(cpu - sim, 1),
        "cpu_s_per_search": round((cpu - sim) / n, 2),
        "api_requests": sum(requests.values()),
        "api_requests_per_search": round(sum(requests.values()) / n, 1),
        "api_requests_by_kind": dict(requests.most_common()),
        "largest_search_bytes": max(r["search_bytes"] for r in reports),
        "largest_history_bytes": max(r["history_bytes"] for r in reports),
    }
    result |= {k: v for k, v in figures.items() if k not in ("wall_s", "peak")}
    return result


def history(b: Bench, args: argparse.Namespace) -> dict[str, Any]:
    """One search of 500 trials: how large its status and history grow."""
    (ns,) = b.namespaces(1)
    log = b.work / "operator-history.log"
    op = OperatorProcess(
        b.cluster.kubeconfig, [ns], log, "--poll-seconds", "1", "--sim-trial-seconds", "0.2"
    ).start()
    time.sleep(5)
    body = _example(0, "long")
    body["spec"]["searchSpace"] = {
        "gpus": [{"type": "T4"}, {"type": "V100"}, {"type": "A100"}, {"type": "H100"}],
        "cpus": [1, 2, 4, 8],
        "batchSizes": [1, 2, 4, 8, 16, 32, 64, 128],
        "instanceCounts": [1, 2, 3, 4],
    }
    body["spec"]["budget"] |= {"maxTrials": 500, "maxParallelTrials": 32, "maxFailedTrials": 500,
                               "pendingTimeoutSeconds": 300}  # fmt: skip
    b.custom.create_namespaced_custom_object(GROUP, VERSION, ns, PLURAL, body)
    objs, figures = b.wait(op, {f"{ns}/long"}, timeout=args.timeout)
    (obj,) = objs
    report = bench.search_report(b.core, obj)
    b.drop(op, [ns])
    status = obj.get("status") or {}
    result = {
        "scenario": "history",
        "phase": status.get("phase"),
        "message": status.get("message"),
        "trials": report["trials"],
        "wall_s": figures["wall_s"],
        "search_bytes": report["search_bytes"],
        "status_bytes": len(json.dumps(status)),
        "history_bytes": report["history_bytes"],
        "limit_bytes": LIMIT_BYTES,
        "history_share_of_limit": round(report["history_bytes"] / LIMIT_BYTES, 3),
        "duplicate_configs": report["duplicate_configs"],
        "operator_peak_rss_mb": round(figures["peak"], 1),
    }
    return result


def _cell(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items())
    return str(value)


def _spread(values: list[Any]) -> str:
    """``median [min-max]`` of numbers, or "" for anything else."""
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
        return ""
    return f"{statistics.median(values):g} [{min(values):g}-{max(values):g}]"


def markdown(results: list[dict[str, Any]]) -> str:
    """bench/results/operator/results.md: one table per scenario, from results.json; a scenario
    run more than once (``--repeat``) has a column per run and the median [min-max]."""
    note = "<!-- GENERATED by e2e/bench_operator.py from results.json; do not edit -->"
    lines = ["# make bench-operator", "", note, ""]
    scenarios: dict[str, list[dict[str, Any]]] = {}
    for r in results:
        scenarios.setdefault(r["scenario"], []).append(r)
    for scenario, runs in scenarios.items():
        lines += [f"## {scenario}", ""]
        keys = [k for k in runs[0] if k not in ("scenario", "run")]
        if len(runs) == 1:
            lines += ["| figure | value |", "|---|---|"]
            lines += [f"| {k} | {_cell(runs[0].get(k))} |" for k in keys]
        else:
            head = " | ".join(f"run {i + 1}" for i in range(len(runs)))
            lines += [f"| figure | {head} | median [min-max] |",
                      "|---" * (len(runs) + 2) + "|"]  # fmt: skip
            for k in keys:
                cells = " | ".join(_cell(r.get(k)) for r in runs)
                lines.append(f"| {k} | {cells} | {_spread([r.get(k) for r in runs])} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", action="append", choices=["many", "pause", "history"],
                    help="repeatable; default: all three")  # fmt: skip
    ap.add_argument("--searches", type=int, default=100)
    ap.add_argument("--namespaces", type=int, default=10)
    ap.add_argument("--nodes-per-pool", type=int, default=13,
                    help="roomy KWOK nodes (8 GPUs each) added per GPU pool")  # fmt: skip
    ap.add_argument("--pause-at", type=float, default=20.0, help="seconds into the run")
    ap.add_argument("--pause-s", type=float, default=30.0)
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs of many and of pause (history: one); >1 reports ranges")  # fmt: skip
    ap.add_argument("--timeout", type=float, default=900.0)
    ap.add_argument("--out", type=Path, default=REPO / "bench/results/operator")
    ap.add_argument("--render", action="store_true",
                    help="only rewrite results.md from the results.json in --out")  # fmt: skip
    args = ap.parse_args(argv)
    if args.repeat < 1:
        ap.error("--repeat must be at least 1")
    if args.render:
        results = json.loads((args.out / "results.json").read_text())
        (args.out / "results.md").write_text(markdown(results))
        return 0
    scenarios = args.scenario or ["many", "pause", "history"]
    work = Path(tempfile.mkdtemp(prefix="falcon-bench-"))
    cluster = up(work / "cluster-up.log")
    cluster.tool("kubectl", "apply", "-f", str(REPO / "crds"))
    b = Bench(cluster, work)
    sync(b.core, load() + bench.roomy_pools(args.nodes_per_pool), timeout=120)
    results = []
    try:
        for scenario in scenarios:
            for run in range(1 if scenario == "history" else args.repeat):
                if scenario == "history":
                    results.append(history(b, args))
                else:
                    results.append({"run": run + 1} | many(b, args, pause=scenario == "pause"))
                print(json.dumps(results[-1]), flush=True)
    finally:
        sync(b.core, load(), timeout=120)  # the e2e pools as they were
        print(f"[bench] operator logs in {work}", file=sys.stderr)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (args.out / "results.md").write_text(markdown(results))
    ok = all(r.get("terminal", 1) == r.get("searches", 1) for r in results)
    ok = ok and all(r.get("duplicate_configs", 0) == 0 for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
