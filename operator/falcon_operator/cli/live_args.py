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
    g.add_argument(
        "--batch-sizes",
        type=argtypes.csv_counts,
        default=_csv(_D.batch_sizes),
        metavar="LIST",
        help="max_batch_size values",
    )
    g.add_argument(
        "--instances",
        type=argtypes.csv_counts,
        default=_csv(_D.instances),
        metavar="LIST",
        help="model instances on the CPU",
    )
    g.add_argument(
        "--concurrency",
        type=argtypes.csv_counts,
        default=_csv(_D.concurrency),
        metavar="LIST",
        help="client requests in flight",
    )
    g.add_argument(
        "--ort-threads",
        type=argtypes.csv_counts,
        default=_csv(_D.ort_threads),
        metavar="LIST",
        help="onnxruntime intra-op threads",
    )
    g.add_argument(
        "--queue-delays-us",
        type=argtypes.csv_counts,
        default=_csv(_D.queue_delay_us),
        metavar="LIST",
        help="dynamic batcher queue delays in µs",
    )
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
