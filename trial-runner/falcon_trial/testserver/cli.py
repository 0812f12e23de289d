"""``falcon-triton-sim``: run the test server in the foreground until SIGINT/SIGTERM.

Bad flags or an unusable configuration print one line on stderr and exit 2; a port that cannot
be bound exits 1; with ``--die-after`` the server kills itself and the command exits 3.
``--never-ready`` and ``--fail-inference`` inject the other faults (``Faults``).
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence
from pathlib import Path

from falcon_trial.testserver.backend import Backend
from falcon_trial.testserver.errors import ConfigError
from falcon_trial.testserver.faults import Faults
from falcon_trial.testserver.server import TestServer

PROG = "falcon-triton-sim"
EXIT_BAD_INPUT, EXIT_BIND, EXIT_DIED = 2, 1, 3


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description="A Triton-compatible test server.")
    p.add_argument("--model", required=True, metavar="PATH", help="ONNX model file")
    p.add_argument("--model-name", help="name the model is served under (default: file stem)")
    p.add_argument("--backend", choices=("simulated", "onnxruntime"), default="simulated")
    sim = p.add_argument_group("simulated backend")
    sim.add_argument("--gpu", default="T4", help="GPU or MIG slice label, e.g. A100/3g.20gb")
    sim.add_argument("--cpus", type=float, default=4.0, help="host cores")
    sim.add_argument("--power", type=float, help="GPU power cap, percent of TDP (default 100)")
    sim.add_argument("--gpu-memory-gb", type=float, help="MPS memory limit in GB")
    sim.add_argument("--seed", type=int, default=0, help="seeds the simulated GPU's UUID")
    sim.add_argument("--time-scale", type=float, default=1.0, help="multiply every delay")
    p.add_argument("--batch-size", type=int, default=8, help="max (and preferred) batch size")
    p.add_argument("--instances", type=int, default=1, help="model instances (executors)")
    p.add_argument("--max-queue-delay-ms", type=float, default=1.0)
    p.add_argument("--host", default="0.0.0.0")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--metrics-port", type=int, default=8002)
    faults = p.add_argument_group("fault injection")
    faults.add_argument("--die-after", type=float, metavar="S", help="kill the server after S s")
    faults.add_argument(
        "--never-ready", action="store_true", help="/v2/health/ready answers 503 forever"
    )
    faults.add_argument(
        "--fail-inference",
        metavar="MESSAGE",
        help='every inference fails: HTTP 500, {"error": MESSAGE}',
    )
    return p


def make_backend(args: argparse.Namespace) -> Backend:
    if args.backend == "onnxruntime":
        from falcon_trial.testserver.onnxrt import OnnxRuntimeBackend

        return OnnxRuntimeBackend(args.model, max_batch_size=args.batch_size)
    from falcon_trial.testserver.simulated import SimulatedBackend

    return SimulatedBackend.from_onnx(args.model, gpu=args.gpu, cpus=args.cpus,
                                      batch_size=args.batch_size, power=args.power,
                                      gpu_memory_gb=args.gpu_memory_gb, seed=args.seed,
                                      time_scale=args.time_scale)  # fmt: skip


async def serve(server: TestServer) -> None:
    """Start, announce, and run until a signal (or ``--die-after``) stops the server."""
    await server.start()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: loop.create_task(server.stop()))
    capacity = getattr(server.backend, "capacity_rps", None)
    extra = f", capacity {capacity:.0f} req/s" if capacity is not None else ""
    print(f"{PROG}: serving {server.model_name!r} at {server.url}, metrics at "
          f"{server.metrics_url}{extra}", file=sys.stderr, flush=True)  # fmt: skip
    await server.stopped.wait()


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    for flag in ("port", "metrics_port"):
        if not 0 <= getattr(args, flag) <= 65535:
            print(f"{PROG}: error: --{flag.replace('_', '-')} must be in 0..65535", file=sys.stderr)
            return EXIT_BAD_INPUT
    try:
        faults = Faults(never_ready=args.never_ready, fail_inference=args.fail_inference)
        backend = make_backend(args)
        name = args.model_name or Path(args.model).stem
        server = TestServer(backend, model_name=name, host=args.host, port=args.port,
                            metrics_port=args.metrics_port, instance_count=args.instances,
                            max_queue_delay_ms=args.max_queue_delay_ms,
                            die_after_s=args.die_after, faults=faults)  # fmt: skip
        asyncio.run(serve(server))
    except ConfigError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as exc:
        print(
            f"{PROG}: error: cannot listen on {args.host}: {exc.strerror or exc}", file=sys.stderr
        )
        return EXIT_BIND
    if server.killed:
        print(f"{PROG}: killed after {args.die_after:g} s (--die-after)", file=sys.stderr)
        return EXIT_DIED
    return 0


if __name__ == "__main__":
    sys.exit(main())
