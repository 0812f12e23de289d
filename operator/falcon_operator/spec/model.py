"""The InferenceConfigSearch spec as frozen dataclasses; defaults equal the CRD's.

``crds/autoconfig.falcon.io_inferenceconfigsearches.yaml`` is the source of truth; a unit test
walks its schema and compares every ``default`` with the field defaults here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from falcon_operator.core import knobs
from falcon_operator.core.objective import METRICS as METRICS  # re-exported: the CRD's enum
from falcon_operator.core.objective import Metric
from falcon_operator.core.prices import PriceOverrides as PriceOverrides  # spec.prices' type
from falcon_operator.core.space import Value
from falcon_operator.spec.constants import TRITON_IMAGE

OutputMode = Literal["Status", "ConfigMap", "Apply"]
OUTPUT_MODES: tuple[OutputMode, ...] = ("Status", "ConfigMap", "Apply")


@dataclass(frozen=True)
class ConfigMapKeyRef:
    """One key of a ConfigMap in the search's namespace."""

    name: str
    key: str


@dataclass(frozen=True)
class ModelSpec:
    """The model: its name in Triton, where the file is, and how to serve it."""

    name: str
    format: str = "onnx"
    storage_uri: str | None = None  #: s3:// gs:// https:// pvc://
    config_map_ref: ConfigMapKeyRef | None = None  #: model file in a ConfigMap's binaryData
    credentials_secret: str | None = None  #: Secret exposed to the model-fetching container
    triton_image: str = TRITON_IMAGE
    model_config: Mapping[str, Any] = field(default_factory=dict)  #: extra config.pbtxt fields
    operator_profile: Mapping[str, float] | None = None  #: GPU-time share per operator type


@dataclass(frozen=True)
class GpuOption:
    """One GPU type of the search space and the MIG slices of it to consider."""

    type: str
    node_selector: Mapping[str, str] | None = None  #: None: nvidia.com/gpu.product of the type
    whole_gpu: bool = True
    mig_profiles: tuple[str, ...] = ()
    mps_memory_gb: tuple[float, ...] = ()  #: replaces SearchSpaceSpec.gpu_memory_gb if given


@dataclass(frozen=True)
class SearchSpaceSpec:
    """Candidate values of every knob."""

    gpus: tuple[GpuOption, ...]
    cpus: tuple[int, ...] = knobs.DEFAULT_CPUS
    gpu_memory_gb: tuple[float, ...] = knobs.DEFAULT_GPU_MEMORY
    batch_sizes: tuple[int, ...] = knobs.DEFAULT_BATCHES
    power_limits: tuple[int, ...] = knobs.DEFAULT_POWER
    instance_counts: tuple[int, ...] = knobs.DEFAULT_INSTANCES
    host_memory_gib: float = 4.0

    def knob_values(self) -> dict[str, tuple[Value, ...]]:
        """The candidate values of every knob but the GPU (resolved against the catalog)."""
        return {
            k.name: tuple(getattr(self, k.spec_attr)) for k in knobs.KNOBS if k.name != knobs.GPU
        }


@dataclass(frozen=True)
class ObjectiveSpec:
    """What is maximised, under which latency objective, at which prices."""

    metric: Metric = Metric.RPS_PER_DOLLAR
    slo_p99_ms: float | None = None
    target_rps: float | None = None  #: required by (and only by) CostAtTargetThroughput
    prices: PriceOverrides | None = None
    prices_config_map: ConfigMapKeyRef | None = None


@dataclass(frozen=True)
class BudgetSpec:
    """Trial budget and per-trial timing."""

    max_trials: int = 12
    max_parallel_trials: int = 1
    max_failed_trials: int = 3
    pending_timeout_s: int = 300
    ready_timeout_s: int = 600
    measurement_s: float = 10.0
    warmup_s: float = 5.0
    windows: int = 3
    reuse_pods: bool = True


@dataclass(frozen=True)
class AlgorithmSpec:
    """The strategy and its seed."""

    name: str = "falcon"
    seed: int = 0
    kop_threshold: float | None = None
    stop_on_convergence: bool = False


@dataclass(frozen=True)
class OutputSpec:
    """The recommended Deployment's name, replicas, labels, and where it is written."""

    deployment_name: str | None = None
    replicas: int = 1
    labels: Mapping[str, str] = field(default_factory=dict)
    mode: OutputMode = "Status"


@dataclass(frozen=True)
class SearchSpec:
    """A whole InferenceConfigSearch spec."""

    model: ModelSpec
    search_space: SearchSpaceSpec
    objective: ObjectiveSpec = field(default_factory=ObjectiveSpec)
    budget: BudgetSpec = field(default_factory=BudgetSpec)
    algorithm: AlgorithmSpec = field(default_factory=AlgorithmSpec)
    output: OutputSpec = field(default_factory=OutputSpec)
