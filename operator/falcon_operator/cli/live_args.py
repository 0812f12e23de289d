"""The flags of a live search and a live knowledge build (``--live``; docs/live.md)."""

from __future__ import annotations

import argparse

from falcon_operator.cli import args as argtypes
from falcon_operator.live.space import DEFAULT_SAMPLES, DEFAULT_SOURCES, LiveSpaceSettings

_D = LiveSpaceSettings()


def _csv(values: tuple[int, ...]) -> str:
    return ",".join(str(v) for v in values)


def add_space_args(parser: argparse.ArgumentParser) -> None:
    """The live space's knob values (each a comma-separated list)."""
    g = parser.add_argument_group("live space (with --live; docs/live.md)")
    for flag, values, what in (
        ("--batch-sizes", _D.batch_sizes, "max_batch_size values"),
        ("--instances", _D.instances, "model instances on the CPU"),
        ("--concurrency", _D.concurrency, "client requests in flight"),
        ("--ort-threads", _D.ort_threads, "onnxruntime intra-op threads"),
        ("--queue-delays-us", _D.queue_delay_us, "dynamic batcher queue delays in µs"),
    ):
        g.add_argument(flag, type=argtypes.csv_counts, default=_csv(values), metavar="LIST",
                       help=what)  # fmt: skip
    g.add_argument(
        "--cpus",
        type=argtypes.csv_counts,
        default=None,
        metavar="LIST",
        help="cores the server is pinned to (default: 1 up to this host's cores)",
    )


def add_profile_args(parser: argparse.ArgumentParser) -> None:
    """How the source models are profiled live."""
    g = parser.add_argument_group("live profiling (with --live)")
    g.add_argument(
        "--live-sources",
        type=argtypes.csv,
        default=",".join(DEFAULT_SOURCES),
        metavar="LIST",
        help="source models to profile",
    )
    g.add_argument(
        "--samples",
        type=argtypes.positive,
        default=DEFAULT_SAMPLES,
        help="configurations measured per source",
    )


def space_settings(args: argparse.Namespace) -> LiveSpaceSettings:
    """The live space the flags describe."""
    return LiveSpaceSettings(
        batch_sizes=tuple(args.batch_sizes),
        cpus=None if args.cpus is None else tuple(args.cpus),
        instances=tuple(args.instances),
        concurrency=tuple(args.concurrency),
        ort_threads=tuple(args.ort_threads),
        queue_delay_us=tuple(args.queue_delays_us),
    )
