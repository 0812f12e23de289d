"""Parse the ``spec`` of an InferenceConfigSearch body into a :class:`SearchSpec`.

Field names are the CRD's (camelCase); absent fields take the CRD's defaults, which the
dataclasses of :mod:`falcon_operator.spec.model` repeat. Errors name the field, in one line.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import yaml

from falcon_operator.core import knobs
from falcon_operator.core.errors import SpecError
from falcon_operator.core.objective import Metric
from falcon_operator.search.methods import METHODS
from falcon_operator.spec import fields as f
from falcon_operator.spec.model import (
    METRICS,
    OUTPUT_MODES,
    AlgorithmSpec,
    BudgetSpec,
    ConfigMapKeyRef,
    GpuOption,
    ModelSpec,
    ObjectiveSpec,
    OutputSpec,
    PriceOverrides,
    SearchSpaceSpec,
    SearchSpec,
)

_B, _S = BudgetSpec(), SearchSpaceSpec(gpus=())


def _ref(raw: f.Raw, key: str, path: str, *, default_key: str | None = None) -> ConfigMapKeyRef:
    return ConfigMapKeyRef(
        f.required_string(raw, "name", f"{path}.{key}"),
        f.string(raw, "key", f"{path}.{key}", default=default_key) or "",
    )


#: model-config fields that choose what Triton executes (another backend, another file, a
#: repository agent): with them a search's author could make the Triton image run code of their
#: own (the python backend would run the model file as Python). The CRD's CEL rule refuses them
#: too (a unit test compares).
EXECUTION_FIELDS = frozenset(
    {
        "platform",
        "backend",
        "runtime",
        "default_model_filename",
        "cc_model_filenames",
        "model_repository_agents",
    }
)


#: deepest nesting of spec.model.modelConfig (Triton's deepest fields are a few levels down;
#: a hostile spec nested thousands deep would exhaust the renderer's recursion)
MODEL_CONFIG_DEPTH = 16


def _depth(value: object) -> int:
    """Nesting depth of a JSON value, iteratively (no recursion on hostile input)."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level)
        if deepest > MODEL_CONFIG_DEPTH:
            return deepest
        if isinstance(node, Mapping):
            stack += [(v, level + 1) for v in node.values()]
        elif isinstance(node, list):
            stack += [(v, level + 1) for v in node]
    return deepest


def parse_model(raw: f.Raw, path: str = "spec.model") -> ModelSpec:
    uri = f.string(raw, "storageUri", path)
    cm = f.section(raw, "configMapRef", path)
    if (uri is None) == (not cm):
        raise SpecError(f"{path}: set exactly one of storageUri or configMapRef")
    if uri is not None and uri.split("://", 1)[0] not in ("s3", "gs", "https", "pvc"):
        raise SpecError(f"{path}.storageUri must start with s3://, gs://, https:// or pvc://")
    fmt = f.string(raw, "format", path, default="onnx")
    if fmt != "onnx":
        raise SpecError(f"{path}.format must be onnx, got {fmt!r}")
    secret = f.section(raw, "credentialsSecretRef", path)
    profile = f.number_map(raw, "operatorProfile", path, low=0.0, high=1.0)
    if profile and sum(profile.values()) <= 0:
        raise SpecError(
            f"{path}.operatorProfile: every share is 0; give at least one operator a share "
            f"above 0, or leave the profile out to have the model analysed"
        )
    model_config = raw.get("modelConfig") or {}
    if not isinstance(model_config, Mapping):
        raise SpecError(f"{path}.modelConfig must be an object")
    if _depth(model_config) > MODEL_CONFIG_DEPTH:
        raise SpecError(
            f"{path}.modelConfig nests deeper than {MODEL_CONFIG_DEPTH} levels; a Triton model "
            f"configuration never does"
        )
    reserved = sorted(set(model_config) & EXECUTION_FIELDS)
    if reserved:
        raise SpecError(
            f"{path}.modelConfig may not set {reserved}: the trial pods serve the model with "
            f"Triton's ONNX Runtime backend only (docs/security.md)"
        )
    return ModelSpec(
        name=f.required_string(raw, "name", path),
        storage_uri=uri,
        config_map_ref=_ref(cm, "configMapRef", path) if cm else None,
        credentials_secret=f.required_string(secret, "name", f"{path}.credentialsSecretRef")
        if secret
        else None,
        triton_image=f.string(raw, "tritonImage", path, default=ModelSpec("").triton_image) or "",
        model_config=dict(model_config),
        operator_profile=profile or None,
    )


def parse_gpu(raw: Any, path: str) -> GpuOption:
    if not isinstance(raw, Mapping):
        raise SpecError(f"{path} must be an object")
    profiles = raw.get("migProfiles") or []
    if not isinstance(profiles, list) or not all(isinstance(p, str) for p in profiles):
        raise SpecError(f"{path}.migProfiles must be a list of strings")
    whole = f.boolean(raw, "wholeGpu", path, default=True)
    if not whole and not profiles:
        raise SpecError(f"{path}: a GPU with wholeGpu false needs at least one MIG profile")
    memory = knobs.KNOB[knobs.GPU_MEMORY]
    per_gpu = memory.per_gpu_field or ""
    mps = f.number_list(raw, per_gpu, path, default=(0.0,), low=memory.low, high=memory.high)
    return GpuOption(
        type=f.required_string(raw, "type", path),
        node_selector=f.label_map(raw, "nodeSelector", path),
        whole_gpu=whole,
        mig_profiles=tuple(dict.fromkeys(profiles)),
        mps_memory_gb=mps if per_gpu in raw else (),
    )


def parse_search_space(raw: f.Raw, path: str = "spec.searchSpace") -> SearchSpaceSpec:
    gpus = raw.get("gpus")
    if not isinstance(gpus, list) or not gpus:
        raise SpecError(f"{path}.gpus must be a non-empty list")
    options = tuple(parse_gpu(g, f"{path}.gpus[{i}]") for i, g in enumerate(gpus))
    types = [g.type for g in options]
    if len(set(types)) != len(types):
        raise SpecError(f"{path}.gpus lists a GPU type twice: {types}")
    lists = {k.spec_attr: _knob_values(raw, k, path) for k in knobs.KNOBS if k.name != knobs.GPU}
    return SearchSpaceSpec(
        gpus=options,
        **lists,  # type: ignore[arg-type]
        host_memory_gib=f.number(
            raw, "hostMemoryGiB", path, default=_S.host_memory_gib, low=1e-3, high=4096
        )
        or _S.host_memory_gib,
    )


def _knob_values(raw: f.Raw, knob: knobs.KnobDef, path: str) -> tuple[float, ...] | tuple[int, ...]:
    """The values of ``knob``'s CRD field, validated as the registry declares them."""
    if knob.type is int:
        return f.integer_list(
            raw, knob.field, path, default=tuple(map(int, knob.default)),
            low=int(knob.low), high=int(knob.high),
        )  # fmt: skip
    return f.number_list(
        raw, knob.field, path, default=tuple(map(float, knob.default)), low=knob.low, high=knob.high
    )


def parse_objective(raw: f.Raw, path: str = "spec.objective") -> ObjectiveSpec:
    metric = f.string(raw, "metric", path, default=METRICS[0])
    if metric not in METRICS:
        raise SpecError(f"{path}.metric must be one of {list(METRICS)}, got {metric!r}")
    target = f.number(raw, "targetRequestsPerSecond", path, default=None, low=1e-9, high=1e9)
    if (metric == Metric.COST_AT_TARGET) != (target is not None):
        raise SpecError(
            f"{path}.targetRequestsPerSecond: required by metric {Metric.COST_AT_TARGET}"
            f" and only by it (metric is {metric})"
        )
    prices, ref = f.section(raw, "prices", path), f.section(raw, "pricesConfigMapRef", path)
    if prices and ref:
        raise SpecError(f"{path}: set at most one of prices or pricesConfigMapRef")
    return ObjectiveSpec(
        metric=Metric(metric),
        target_rps=target,
        slo_p99_ms=f.number(raw, "sloP99Ms", path, default=None, low=1e-9, high=600000),
        prices=parse_prices(prices, f"{path}.prices") if prices else None,
        prices_config_map=_ref(ref, "pricesConfigMapRef", path, default_key="prices.yaml")
        if ref
        else None,
    )


def parse_prices(raw: f.Raw, path: str) -> PriceOverrides:
    return PriceOverrides(
        gpu_hour=f.number_map(raw, "gpuHour", path, low=0.0, high=math.inf),
        cpu_core_hour=f.number(raw, "cpuCoreHour", path, default=None, low=0.0, high=math.inf),
        memory_gib_hour=f.number(raw, "memoryGiBHour", path, default=None, low=0, high=math.inf),
    )


def prices_from_document(text: str, *, where: str) -> PriceOverrides:
    """Prices from a ConfigMap value: YAML (or JSON) with gpuHour, cpuCoreHour, memoryGiBHour."""
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(f"{where}: not YAML: {str(exc).splitlines()[0]}") from None
    if not isinstance(doc, Mapping):
        raise SpecError(f"{where}: expected a mapping with gpuHour, cpuCoreHour, memoryGiBHour")
    return parse_prices(doc, where)


def parse_budget(raw: f.Raw, path: str = "spec.budget") -> BudgetSpec:
    def i(key: str, default: int, low: int, high: int) -> int:
        return f.integer(raw, key, path, default=default, low=low, high=high)

    def n(key: str, default: float, low: float) -> float:
        return f.number(raw, key, path, default=default, low=low, high=3600) or 0.0

    budget = BudgetSpec(
        max_trials=i("maxTrials", _B.max_trials, 1, 500),
        max_parallel_trials=i("maxParallelTrials", _B.max_parallel_trials, 1, 32),
        max_failed_trials=i("maxFailedTrials", _B.max_failed_trials, 0, 500),
        pending_timeout_s=i("pendingTimeoutSeconds", _B.pending_timeout_s, 1, 86400),
        ready_timeout_s=i("readyTimeoutSeconds", _B.ready_timeout_s, 1, 86400),
        measurement_s=n("measurementSeconds", _B.measurement_s, 0.1),
        warmup_s=n("warmupSeconds", _B.warmup_s, 0.0),
        windows=i("windows", _B.windows, 1, 20),
        reuse_pods=f.boolean(raw, "reusePods", path, default=_B.reuse_pods),
    )
    if budget.max_parallel_trials > budget.max_trials:
        raise SpecError(f"{path}.maxParallelTrials must not exceed maxTrials")
    return budget


def parse_algorithm(raw: f.Raw, path: str = "spec.algorithm") -> AlgorithmSpec:
    name = f.string(raw, "name", path, default="falcon")
    if name not in METHODS:
        raise SpecError(f"{path}.name must be one of {list(METHODS)}, got {name!r}")
    kop = f.number(raw, "kopThreshold", path, default=None, low=1e-9, high=1.0)
    return AlgorithmSpec(
        name=name,
        seed=f.integer(raw, "seed", path, default=0, low=0, high=2**31 - 1),
        kop_threshold=kop,
        stop_on_convergence=f.boolean(raw, "stopOnConvergence", path, default=False),
    )


def parse_output(raw: f.Raw, path: str = "spec.output") -> OutputSpec:
    mode = f.string(raw, "mode", path, default="Status")
    if mode not in OUTPUT_MODES:
        raise SpecError(f"{path}.mode must be one of {list(OUTPUT_MODES)}, got {mode!r}")
    return OutputSpec(
        deployment_name=f.string(raw, "deploymentName", path),
        replicas=f.integer(raw, "replicas", path, default=1, low=0, high=1000),
        labels=f.label_map(raw, "labels", path) or {},
        mode=mode,
    )


def parse_spec(spec: Mapping[str, Any] | None) -> SearchSpec:
    """The typed spec; :class:`SpecError` names the first invalid field."""
    if not isinstance(spec, Mapping):
        raise SpecError("spec is required")
    path = "spec"
    return SearchSpec(
        model=parse_model(f.section(spec, "model", path, required=True)),
        search_space=parse_search_space(f.section(spec, "searchSpace", path, required=True)),
        objective=parse_objective(f.section(spec, "objective", path)),
        budget=parse_budget(f.section(spec, "budget", path)),
        algorithm=parse_algorithm(f.section(spec, "algorithm", path)),
        output=parse_output(f.section(spec, "output", path)),
    )
