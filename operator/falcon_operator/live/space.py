"""The live space: what this host really offers a Triton server, in the knob registry's terms.

Knobs (core/knobs.py): ``batchsize`` (``max_batch_size`` and the preferred batch),
``cpus`` (cores the server process is pinned to), ``instances`` (``instance_group`` count on the
CPU), ``concurrency`` (the load generator's requests in flight), ``ortthreads`` (onnxruntime
intra-op threads per instance) and ``queuedelayus`` (the dynamic batcher's queue delay). The
``cpus`` values are bounded by the cores this process may run on (``os.sched_getaffinity``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from falcon_operator.core.errors import SpaceError
from falcon_operator.core.knobs import (
    BATCH,
    CONCURRENCY,
    CPUS,
    INSTANCES,
    ORT_THREADS,
    QUEUE_DELAY,
    build_space,
)
from falcon_operator.core.space import Space, Value

#: the source models ``falcon kb build --live`` profiles: small and fast on a CPU, and of
#: different character (a CNN, an attention block, a recurrent net, an embedding recommender)
DEFAULT_SOURCES = ("resnet-s", "bert-s", "lstm-m", "mlp-rec-s")
#: configurations profiled per source model
DEFAULT_SAMPLES = 30


def host_cores() -> tuple[int, ...]:
    """The CPU cores this process may run on, in increasing order."""
    return tuple(sorted(os.sched_getaffinity(0)))


def pinned_cores(count: int, *, available: Sequence[int] | None = None) -> tuple[int, ...]:
    """The ``count`` cores a server of ``count`` cores is pinned to: the *last* ones, so that
    a server on fewer cores than the host leaves the first core to the load generator."""
    cores = tuple(available) if available is not None else host_cores()
    if not 1 <= count <= len(cores):
        raise SpaceError(f"cannot pin a server to {count} cores: this host offers {len(cores)}")
    return cores[-count:]


@dataclass(frozen=True)
class LiveSpaceSettings:
    """The candidate values of every live knob (``falcon search --live``'s flags)."""

    #: ``max_batch_size`` values (and the dynamic batcher's preferred batch size)
    batch_sizes: tuple[int, ...] = (1, 2, 4, 8, 16)
    #: CPU core counts the server is pinned to; None: 1 up to every core of this host
    cpus: tuple[int, ...] | None = None
    #: model instances (``instance_group`` count, on the CPU)
    instances: tuple[int, ...] = (1, 2, 3)
    #: requests the load generator keeps in flight
    concurrency: tuple[int, ...] = (1, 2, 4, 8, 16)
    #: onnxruntime intra-op threads per model instance
    ort_threads: tuple[int, ...] = (1, 2)
    #: the dynamic batcher's ``max_queue_delay_microseconds``
    queue_delay_us: tuple[int, ...] = (0, 500, 2000)

    def __post_init__(self) -> None:
        lowest = {"batch_sizes": 1, "cpus": 1, "instances": 1, "concurrency": 1,
                  "ort_threads": 1, "queue_delay_us": 0}  # fmt: skip
        for name, low in lowest.items():
            values = getattr(self, name)
            if values is None:
                continue
            if not values:
                raise SpaceError(f"live knob {name}: no values")
            if min(values) < low or len(set(values)) != len(values):
                raise SpaceError(f"live knob {name}: {list(values)} (distinct values >= {low})")

    def values(self, *, cores: int | None = None) -> dict[str, tuple[Value, ...]]:
        """Knob name → values, with ``cpus`` bounded by ``cores`` (default: this host's)."""
        limit = len(host_cores()) if cores is None else cores
        cpus = self.cpus if self.cpus is not None else tuple(range(1, limit + 1))
        too_many = [c for c in cpus if c > limit]
        if too_many:
            raise SpaceError(f"cpus {too_many}: this host offers {limit} cores")
        return {
            BATCH: self.batch_sizes,
            CPUS: cpus,
            INSTANCES: self.instances,
            CONCURRENCY: self.concurrency,
            ORT_THREADS: self.ort_threads,
            QUEUE_DELAY: self.queue_delay_us,
        }


def live_space(settings: LiveSpaceSettings | None = None, *, cores: int | None = None) -> Space:
    """The live space of ``settings`` on a host of ``cores`` cores (default: this one)."""
    return build_space((settings or LiveSpaceSettings()).values(cores=cores))
