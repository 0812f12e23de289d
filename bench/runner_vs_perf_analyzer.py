"""``make bench-runner``: falcon-trial against NVIDIA's perf_analyzer on one real Triton server.

One Triton 2.51 on loopback serves the shipped ResNet-mini through the project's onnxruntime
backend, on a simulated GPU slow enough that the server, not the client, is the bottleneck at
the highest concurrency (see ``SERVING`` and docs/trial-runner.md). At each concurrency the two
tools measure the same server in turn (their order alternates from one concurrency to the next)
with the same window length and the same stability rule: the last 3 windows agree within 10 %
on throughput and p99, at most 10 windows. Printed side by side and written as markdown and
JSON: throughput and p99 of each tool, their ratio, and the CPU seconds each client process,
the server (tritonserver and its backend stubs) and the whole host spent during each run.

Usage: ``python bench/runner_vs_perf_analyzer.py [--concurrency 1,4,16] [--window-s 5]``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from falcon_operator.metrics import scrape
from falcon_operator.triton.repository import write_model
from falcon_operator.triton.server import TritonError, TritonServer

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "operator/falcon_operator/data/models/resnet-mini.onnx"
PA_VERSION = "2.41.0"
TICK = os.sysconf("SC_CLK_TCK")
SERVING = {"gputype": "T4", "batchsize": 8, "time_scale": 40.0, "max_queue_delay_us": 0}
"""A T4's time for ResNet-mini (0.53 ms at batch 1, 1.31 ms at batch 8) stretched 40 times:
21 ms and 52 ms per batch, so the server tops out near 8 / 52 ms = 150 inferences/s. That is
well under what either client sends, and leaves most of the two cores idle (onnxruntime's own
CPU work is a fraction of each hold), so the comparison is between load generators, not a
fight for the CPU. One instance, dynamic batching up to 8 (16 requests in flight: two full
batches, one running and one queued)."""
CONFIG = """name: "resnet"
platform: "onnxruntime_onnx"
max_batch_size: {batch}
dynamic_batching {{ max_queue_delay_microseconds: {delay} }}
instance_group [ {{ kind: KIND_CPU count: 1 }} ]
"""


class BenchError(Exception):
    """A one-line reason the benchmark cannot run."""


@dataclass(frozen=True)
class Usage:
    """Wall time of one client run, and the CPU seconds spent meanwhile (user + system)."""

    wall_s: float
    client_cpu_s: float  #: the client process
    server_cpu_s: float  #: tritonserver and its Python backend stubs
    host_cpu_s: float  #: every core of the host, every process (other work on it included)
    requests: int  #: requests the server answered meanwhile (its nv_inference_request_success)

    @property
    def client_ms_per_request(self) -> float | None:
        return 1e3 * self.client_cpu_s / self.requests if self.requests else None

    @property
    def other_cores(self) -> float:
        """Cores busy with every other process on the host (other builds and tests)."""
        return (self.host_cpu_s - self.client_cpu_s - self.server_cpu_s) / self.wall_s


@dataclass(frozen=True)
class Run:
    """One tool at one concurrency: its figures and where the CPU went meanwhile."""

    tool: str
    concurrency: int
    throughput_rps: float | None
    p99_ms: float | None
    stable: bool
    windows: int
    usage: Usage
    note: str = ""


def perf_analyzer_path() -> Path:
    cache = Path(os.environ.get("FALCON_CACHE") or Path.home() / ".cache/falcon-operator")
    path = cache / "perf_analyzer" / PA_VERSION / "perf_analyzer"
    if not os.access(path, os.X_OK):
        raise BenchError(f"perf_analyzer is not installed at {path}: run make perf-analyzer")
    return path


def _proc_cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def tree_cpu_s(root: int) -> float:
    """CPU seconds of ``root`` and every live descendant (tritonserver and its stubs)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int(
                    (entry / "stat").read_text().rpartition(")")[2].split()[1]
                )
            except (OSError, ValueError, IndexError):
                continue
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    total = 0.0
    for pid in tree:
        try:
            total += _proc_cpu_s(pid)
        except (OSError, ValueError, IndexError):
            continue
    return total


def host_cpu_s() -> float:
    """CPU seconds the whole host has been busy (every core; /proc/stat minus idle and iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:8]]
    return (sum(values) - values[3] - values[4]) / TICK


def _served(server: TritonServer) -> int:
    samples = scrape(server.metrics_url).model_samples(
        "nv_inference_request_success", model="resnet"
    )
    return round(sum(s.value for s in samples))


def measured(
    tool: str, concurrency: int, argv: list[str], server: TritonServer, timeout_s: float
) -> tuple[subprocess.CompletedProcess[str], Usage]:
    """Run one client process to completion; its output and the CPU seconds spent meanwhile."""
    assert server.process is not None
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        served0 = _served(server)
        server0, host0, t0 = tree_cpu_s(server.process.pid), host_cpu_s(), time.monotonic()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, text=True)
        deadline = t0 + timeout_s
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        cpu = Usage(
            wall_s=time.monotonic() - t0,
            client_cpu_s=usage.ru_utime + usage.ru_stime,
            server_cpu_s=tree_cpu_s(server.process.pid) - server0,
            host_cpu_s=host_cpu_s() - host0,
            requests=_served(server) - served0,
        )
        out.seek(0)
        err.seek(0)
        done = subprocess.CompletedProcess(argv, proc.returncode, out.read(), err.read())
    print(f"  {tool} at concurrency {concurrency}: exit {done.returncode}, "
          f"{cpu.wall_s:.0f} s", file=sys.stderr, flush=True)  # fmt: skip
    return done, cpu


def falcon_trial(server: TritonServer, c: int, window_s: float) -> Run:
    """falcon-trial at concurrency ``c``: warm-up one window, then windows until stable."""
    w = f"{window_s:g}"
    argv = [sys.executable, "-m", "falcon_trial", "--url", server.url, "--model", "resnet"]
    argv += ["--concurrency", str(c), "--warmup-s", w, "--window-s", w, "--stable-windows", "3"]
    argv += ["--max-windows", "10", "--tolerance", "0.10", "--quiet"]
    argv += ["--termination-log", os.devnull]
    done, usage = measured("falcon-trial", c, argv, server, timeout_s=30 * window_s + 120)
    try:
        result = json.loads(done.stdout)["result"]
    except (ValueError, KeyError):
        note = (done.stderr.strip().splitlines() or ["no report"])[-1]
        return Run("falcon-trial", c, None, None, False, 0, usage, note)
    rps, p99 = result["throughput_rps"], result["p99_ms"]
    return Run("falcon-trial", c, rps, p99, bool(result["stable"]), len(result["windows"]), usage)


def _passes(stdout: str) -> list[tuple[float, float]]:
    """``(throughput, p99 ms)`` of every measurement window perf_analyzer printed (``-v``)."""
    out = []
    for line in stdout.splitlines():
        if line.strip().startswith("Pass [") and "throughput:" in line:
            words = line.replace(",", "").split()
            rps = float(words[words.index("throughput:") + 1])
            p99 = float(words[words.index("latency:") + 1]) / 1000.0
            out.append((rps, p99))
    return out


def perf_analyzer(server: TritonServer, c: int, window_s: float, pa: Path) -> Run:
    """perf_analyzer at concurrency ``c``: windows until the last 3 agree within 10 % (p99)."""
    with tempfile.TemporaryDirectory() as tmp:
        table = Path(tmp) / "pa.csv"
        argv = [str(pa), "-m", "resnet", "-u", server.url.removeprefix("http://"), "-b", "1"]
        argv += ["--concurrency-range", str(c), "--measurement-interval", str(int(window_s * 1e3))]
        argv += ["--percentile", "99", "--stability-percentage", "10", "--max-trials", "10"]
        argv += ["-v", "-f", str(table)]
        done, usage = measured("perf_analyzer", c, argv, server, timeout_s=30 * window_s + 120)
        rows = list(csv.DictReader(table.open())) if table.exists() else []
    passes = _passes(done.stdout)
    if done.returncode == 0 and rows:
        rps, p99 = float(rows[0]["Inferences/Second"]), float(rows[0]["p99 latency"]) / 1e3
        return Run("perf_analyzer", c, rps, p99, True, len(passes), usage)
    # not stable (or failed): the mean of its last 3 windows, as falcon-trial pools its last 3
    last = passes[-3:]
    lines = (done.stdout + done.stderr).splitlines()
    note = next((ln.strip() for ln in lines if "Failed" in ln or "rror" in ln), "")
    mean_rps = sum(r for r, _ in last) / len(last) if last else None
    mean_p99 = sum(p for _, p in last) / len(last) if last else None
    note = note or f"exit {done.returncode}"
    return Run("perf_analyzer", c, mean_rps, mean_p99, False, len(passes), usage, note)


def _f(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(runs: Sequence[Run]) -> str:
    """The side-by-side markdown table: one row per concurrency."""
    lines = [
        "| concurrency | falcon-trial infer/s | falcon-trial p99 ms | perf_analyzer infer/s "
        "| perf_analyzer p99 ms | throughput ratio | client CPU ms/request (ft / pa) "
        "| server CPU s (ft / pa) | other processes, cores busy (ft / pa) |",
        "|" + "---:|" * 9,
    ]
    for c in sorted({r.concurrency for r in runs}):
        ft = next(r for r in runs if r.concurrency == c and r.tool == "falcon-trial")
        pa = next(r for r in runs if r.concurrency == c and r.tool == "perf_analyzer")
        ratio = None
        if ft.throughput_rps and pa.throughput_rps:
            ratio = ft.throughput_rps / pa.throughput_rps
        mark = {True: "", False: " (unstable)"}
        lines.append(
            f"| {c} | {_f(ft.throughput_rps)}{mark[ft.stable]} | {_f(ft.p99_ms)} "
            f"| {_f(pa.throughput_rps)}{mark[pa.stable]} | {_f(pa.p99_ms)} | {_f(ratio, 3)} "
            f"| {_f(ft.usage.client_ms_per_request, 2)} / {_f(pa.usage.client_ms_per_request, 2)} "
            f"| {ft.usage.server_cpu_s:.1f} / {pa.usage.server_cpu_s:.1f} "
            f"| {ft.usage.other_cores:.2f} / {pa.usage.other_cores:.2f} |"
        )
    return "\n".join(lines)


CORES = os.cpu_count() or 1


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--concurrency", default="1,4,16", help="levels (default %(default)s)")
    p.add_argument("--window-s", type=float, default=5.0, help="window (default %(default)s)")
    p.add_argument("--out", type=Path, default=ROOT / "bench/results/runner")
    ns = p.parse_args(argv)
    try:
        levels = [int(c) for c in ns.concurrency.split(",")]
        pa = perf_analyzer_path()
        runs = bench(levels, ns.window_s, pa)
    except (BenchError, TritonError, ValueError) as exc:
        print(f"bench-runner: error: {exc}", file=sys.stderr)
        return 2
    text = table(runs)
    print(text)
    ns.out.mkdir(parents=True, exist_ok=True)
    meta = {"model": MODEL.name, "serving": SERVING, "window_s": ns.window_s, "cores": CORES,
            "perf_analyzer": PA_VERSION, "runs": [asdict(r) for r in runs]}  # fmt: skip
    (ns.out / "runner_vs_perf_analyzer.json").write_text(json.dumps(meta, indent=1) + "\n")
    notes = [f"- {r.tool} at concurrency {r.concurrency}: {r.note}" for r in runs if r.note]
    (ns.out / "runner_vs_perf_analyzer.md").write_text(
        f"# falcon-trial vs perf_analyzer {PA_VERSION} on real Triton 2.51\n\n"
        f"ResNet-mini, {json.dumps(SERVING)}, windows of {ns.window_s:g} s, {CORES} cores "
        f"(`make bench-runner`; CPU seconds are user + system; the host's include every other "
        f"process on the machine). See docs/trial-runner.md.\n\n{text}\n"
        + ("\n" + "\n".join(notes) + "\n" if notes else "")
    )
    return 0


def bench(levels: Sequence[int], window_s: float, pa: Path) -> list[Run]:
    """Start the server, then measure each level with both tools, alternating which goes first."""
    with tempfile.TemporaryDirectory() as tmp:
        repository = Path(tmp) / "repository"
        config = CONFIG.format(batch=SERVING["batchsize"], delay=SERVING["max_queue_delay_us"])
        write_model(repository, "resnet", MODEL, config)
        trial = {"gputype": SERVING["gputype"], "batchsize": SERVING["batchsize"]}
        env = {"FALCON_TRIAL_CONFIG": json.dumps(trial),
               "FALCON_TIME_SCALE": str(SERVING["time_scale"])}  # fmt: skip
        runs: list[Run] = []
        with TritonServer(repository, models=["resnet"], env=env) as server:
            print(f"bench-runner: Triton at {server.url}", file=sys.stderr, flush=True)
            for i, c in enumerate(levels):
                first_ft = i % 2 == 0
                for tool in ("falcon-trial", "perf_analyzer")[:: 1 if first_ft else -1]:
                    if tool == "falcon-trial":
                        runs.append(falcon_trial(server, c, window_s))
                    else:
                        runs.append(perf_analyzer(server, c, window_s, pa))
        return runs


if __name__ == "__main__":
    sys.exit(main())
