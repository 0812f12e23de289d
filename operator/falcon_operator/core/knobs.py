"""The knob registry: every knob of a serving configuration, declared once.

A knob declares its name (the key of a configuration), its CRD field under
``spec.searchSpace`` (and the per-GPU override where one exists), its kind, value type, bounds and
default values, a one-line doc, and how a value renders into a :class:`Rendering`: the Triton
container's resources and environment, the pod's node selector, the Triton model config, and the
keyword arguments of the simulator (``FleetModel.measure``). The trial pod, the recommended
Deployment, the model-config renderer and the fleet all call :func:`render`; none spells a knob.

Adding a knob: one :class:`KnobDef` in :data:`KNOBS` (with its renderer), its CRD field, and the
one layer that consumes its rendering (e.g. the simulator's model).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from falcon_operator.core.errors import SpaceError
from falcon_operator.core.space import Constraint, Knob, KnobKind, Space, Value

GPU = "gputype"
CPUS = "cpus"
GPU_MEMORY = "gpumem"
BATCH = "batchsize"
POWER = "gpupower"
INSTANCES = "instances"
QUEUE_DELAY = "queuedelayus"
ORT_THREADS = "ortthreads"
CONCURRENCY = "concurrency"

#: GPU Feature Discovery's product label, the default node selector of a GPU type
PRODUCT_LABEL = "nvidia.com/gpu.product"
#: node label of a GPU pool's power cap (percent of TDP)
POWER_LABEL = "autoconfig.falcon.io/gpu-power-limit"
GPU_RESOURCE = "nvidia.com/gpu"
MIG_RESOURCE_PREFIX = "nvidia.com/mig-"
BATCH_ENV = "FALCON_MAX_BATCH_SIZE"
MPS_LIMIT_ENV = "CUDA_MPS_PINNED_DEVICE_MEM_LIMIT"
#: a trial's configuration (JSON) in its Triton container, played by the simulated GPU
TRIAL_CONFIG_ENV = "FALCON_TRIAL_CONFIG"
#: the model-config parameter Triton's onnxruntime backend reads its intra-op thread count from
ORT_THREADS_PARAMETER = "intra_op_thread_count"

DEFAULT_CPUS: tuple[int, ...] = (2, 4)
DEFAULT_GPU_MEMORY: tuple[float, ...] = (0.0,)
DEFAULT_BATCHES: tuple[int, ...] = (1, 4, 8, 16)
DEFAULT_POWER: tuple[int, ...] = (100,)
DEFAULT_INSTANCES: tuple[int, ...] = (1,)


@dataclass
class Rendering:
    """What a configuration means for the serving pod, its Triton model config and the simulator."""

    resources: dict[str, str] = field(default_factory=dict)  #: container requests = limits
    env: list[dict[str, str]] = field(default_factory=list)  #: Triton container environment
    node_selector: dict[str, str] = field(default_factory=dict)  #: added to the pod's
    model_config: dict[str, Any] = field(default_factory=dict)  #: Triton model config fields
    load: dict[str, Any] = field(default_factory=dict)  #: the load generator's settings (live)
    simulator: dict[str, Any] = field(default_factory=dict)  #: ``FleetModel.measure`` arguments


Renderer = Callable[[Value, Rendering], None]


@dataclass(frozen=True)
class KnobDef:
    """One knob: its CRD field, domain, defaults, doc and renderer."""

    name: str
    field: str  #: CRD field under spec.searchSpace
    spec_attr: str  #: attribute of spec.model.SearchSpaceSpec
    kind: KnobKind
    type: type[int] | type[float] | type[str]
    default: tuple[Value, ...]
    doc: str
    render: Renderer
    low: float = 0.0
    high: float = 0.0
    per_gpu_field: str | None = None  #: per-GPU override under spec.searchSpace.gpus[]
    #: the value that renders as nothing: a knob whose only value it is stays out of the space
    neutral: Value | None = None

    def domain(self, values: Sequence[Value]) -> tuple[Value, ...]:
        """``values`` as this knob's domain: typed, and sorted when ordinal."""
        if self.kind == "categorical":
            return tuple(str(v) for v in values)
        typed = [self.type(v) for v in values]
        return tuple(sorted(typed))  # type: ignore[type-var]

    def in_space(self, values: Sequence[Value]) -> bool:
        """Whether a space over ``values`` has this knob (not when only the neutral value)."""
        return self.neutral is None or list(self.domain(values)) != [self.neutral]


def _gpu(value: Value, out: Rendering) -> None:
    profile = str(value).partition("/")[2]
    out.resources[f"{MIG_RESOURCE_PREFIX}{profile}" if profile else GPU_RESOURCE] = "1"
    out.simulator["gpu"] = str(value)


def _cpus(value: Value, out: Rendering) -> None:
    out.resources["cpu"] = str(value)
    out.simulator["cpus"] = float(value)


def _gpu_memory(value: Value, out: Rendering) -> None:
    gb = float(value)
    if gb > 0:
        out.env.append({"name": MPS_LIMIT_ENV, "value": f"0={gb:g}G"})
    out.simulator["gpu_memory_limit_gb"] = gb if gb > 0 else None


def _batch(value: Value, out: Rendering) -> None:
    batch = int(value)
    out.env.append({"name": BATCH_ENV, "value": str(batch)})
    out.model_config["max_batch_size"] = batch
    out.model_config.setdefault("dynamic_batching", {})["preferred_batch_size"] = [batch]
    out.simulator["batch"] = batch


def _power(value: Value, out: Rendering) -> None:
    out.node_selector[POWER_LABEL] = str(value)
    out.simulator["power"] = float(value) / 100.0


def _instances(value: Value, out: Rendering) -> None:
    count = int(value)
    # KIND_AUTO: on the pod's one GPU where there is one (KIND_GPU there), on the CPU of a
    # GPU-less Triton (the tests' server refuses KIND_GPU: "no GPUs are available")
    out.model_config["instance_group"] = [{"count": count, "kind": "KIND_AUTO"}]
    out.simulator["instances"] = count


def _queue_delay(value: Value, out: Rendering) -> None:
    delay = int(value)
    out.model_config.setdefault("dynamic_batching", {})["max_queue_delay_microseconds"] = delay


def _ort_threads(value: Value, out: Rendering) -> None:
    # the name Triton's own onnxruntime backend reads (and ours: triton/backend/model.py)
    out.model_config.setdefault("parameters", {})[ORT_THREADS_PARAMETER] = {
        "string_value": str(int(value))
    }


def _concurrency(value: Value, out: Rendering) -> None:
    out.load["concurrency"] = int(value)


#: the knobs, in the order of a space's knobs (alphabetical by name, as spaces always were)
KNOBS: tuple[KnobDef, ...] = (
    KnobDef(BATCH, "batchSizes", "batch_sizes", "ordinal", int, DEFAULT_BATCHES,
            "Triton max_batch_size, the dynamic batcher's preferred batch size", _batch,
            low=1, high=4096),
    KnobDef(CPUS, "cpus", "cpus", "ordinal", int, DEFAULT_CPUS,
            "CPU cores of the Triton container (requests = limits)", _cpus, low=1, high=256),
    KnobDef(GPU_MEMORY, "gpuMemoryGB", "gpu_memory_gb", "ordinal", float, DEFAULT_GPU_MEMORY,
            "GPU memory limit in GB through MPS; 0: the whole GPU or slice", _gpu_memory,
            low=0, high=1024, per_gpu_field="mpsMemoryGB"),
    KnobDef(POWER, "powerLimits", "power_limits", "ordinal", int, DEFAULT_POWER,
            "GPU power cap in percent of TDP (a node pool label)", _power, low=5, high=100),
    KnobDef(GPU, "gpus", "gpus", "categorical", str, (),
            "GPU type or MIG slice (H100/1g.10gb): the pod's node pool and GPU resource", _gpu),
    KnobDef(INSTANCES, "instanceCounts", "instance_counts", "ordinal", int, DEFAULT_INSTANCES,
            "Triton model instances on the GPU (instance_group count)", _instances,
            low=1, high=8, neutral=1),
)  # fmt: skip
#: knobs of a live search on this host (``falcon search --live``, docs/live.md): not CRD
#: fields (``field`` is empty); in a space they come after :data:`KNOBS`, in this order
LIVE_KNOBS: tuple[KnobDef, ...] = (
    KnobDef(CONCURRENCY, "", "", "ordinal", int, (1, 2, 4, 8, 16),
            "closed-loop client concurrency of the load generator (requests in flight)",
            _concurrency, low=1, high=1024),
    KnobDef(ORT_THREADS, "", "", "ordinal", int, (1, 2),
            "onnxruntime intra-op threads per model instance (parameter intra_op_thread_count)",
            _ort_threads, low=1, high=256),
    KnobDef(QUEUE_DELAY, "", "", "ordinal", int, (0, 500, 2000),
            "dynamic batcher's max_queue_delay_microseconds", _queue_delay, low=0, high=1_000_000),
)  # fmt: skip
KNOB: Mapping[str, KnobDef] = {k.name: k for k in (*KNOBS, *LIVE_KNOBS)}
NAMES: frozenset[str] = frozenset(KNOB)


def render(config: Mapping[str, Value]) -> Rendering:
    """The rendering of every knob ``config`` sets (knobs it leaves out render nothing)."""
    out = Rendering()
    for knob in (*KNOBS, *LIVE_KNOBS):
        if knob.name in config:
            knob.render(config[knob.name], out)
    return out


def simulator_input(config: Mapping[str, Value]) -> dict[str, Any]:
    """The keyword arguments of ``FleetModel.measure`` for ``config``."""
    return render(config).simulator


def build_space(
    values: Mapping[str, Sequence[Value]], *, constraints: Sequence[Constraint] = ()
) -> Space:
    """The one space builder: a knob per registry entry given values (in registry order).

    A knob whose only value is its neutral one (one Triton instance) is left out, so that the
    spaces, encodings and results of searches that do not use it stay what they were.
    """
    unknown = sorted(set(values) - NAMES)
    if unknown:
        raise SpaceError(f"unknown knobs {unknown}; the registry has {sorted(NAMES)}")
    knobs = [
        Knob(k.name, k.domain(values[k.name]), k.kind)
        for k in (*KNOBS, *LIVE_KNOBS)
        if k.name in values and k.in_space(values[k.name])
    ]
    return Space(tuple(knobs), constraints=tuple(constraints))
