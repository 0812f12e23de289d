"""Everything a search needs before its first trial: spec, prices, model, engine, simulator.

The model file is read from its ConfigMap and analysed (operator profile for the strategy,
fleet workload for simulated trials). A model at a storage URI is not downloaded by the
operator: the search then uses ``spec.model.operatorProfile`` (or no profile), and cannot run
simulated trials.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from falcon_operator import telemetry
from falcon_operator.core.catalog import Catalog, load_catalog
from falcon_operator.core.errors import FalconError, PermanentError, SpecError, TransientError
from falcon_operator.fleet.knowledge import cached_fleet_knowledge
from falcon_operator.fleet.performance import FleetModel, Workload
from falcon_operator.fleet.workload import workload_from_onnx
from falcon_operator.knowledge.base import Knowledge
from falcon_operator.knowledge.dataset import FalconDataset, default_data_dir
from falcon_operator.reconcile.engine import Engine, build_engine
from falcon_operator.reconcile.faults import FaultPlan
from falcon_operator.reconcile.kube import Kube
from falcon_operator.reconcile.settings import ControllerSettings
from falcon_operator.spec import ResolvedSearch, parse_spec, prices_from_document, resolve
from falcon_operator.spec.constants import SIMULATED_FAULT_ANNOTATION
from falcon_operator.spec.model import ModelSpec, SearchSpec
from falcon_operator.trials.manifest import SearchRef
from falcon_operator.trials.simulated import SimulatedFleet


@functools.cache
def shipped_knowledge() -> Knowledge:
    """The knowledge base built from the shipped Falcon data (once per process)."""
    return FalconDataset(default_data_dir()).knowledge()


@functools.cache
def shipped_catalog() -> Catalog:
    return load_catalog()


def search_knowledge(resolved: ResolvedSearch) -> Knowledge:
    """What a search starts from: the fleet's source models profiled on its space, on the
    catalog its spec was resolved against (which therefore knows every GPU type of the space),
    and scored by its objective — metric, prices with the search's overrides, SLO
    (fleet/knowledge.py; built once, then cached on disk, like ``falcon search``). Every knob
    of a spec's space is a registry knob the simulated fleet renders (core/knobs.py), so there
    is no fallback to the paper's curves here."""
    kb, _ = cached_fleet_knowledge(
        FleetModel(resolved.catalog), resolved.space, objective=resolved.objective
    )
    return kb


@dataclass
class SearchContext:
    """One search, ready to run trials."""

    ref: SearchRef
    resolved: ResolvedSearch
    engine: Engine
    model_path: Path | None
    profile: Mapping[str, float] | None
    sim: SimulatedFleet | None
    faults: FaultPlan
    workdir: tempfile.TemporaryDirectory[str]

    async def close(self) -> None:
        """Remove the search's working directory (the model file)."""
        self.workdir.cleanup()


async def _configmap_value(kube: Kube, namespace: str, name: str, key: str, what: str) -> bytes:
    cm = await kube.get_configmap(namespace, name)
    if cm is None:  # maybe not created yet (GitOps tools apply in any order): retry
        raise TransientError(
            f"{what}: ConfigMap {namespace}/{name} not found",
            delay=15.0,
            reason="ConfigMapNotFound",
        )
    if key in (cm.get("binaryData") or {}):
        return base64.b64decode(cm["binaryData"][key])
    if key in (cm.get("data") or {}):
        return str(cm["data"][key]).encode()
    raise PermanentError(
        f"{what}: ConfigMap {namespace}/{name} has no key {key!r}", reason="ModelUnavailable"
    )


async def fetch_model(kube: Kube, namespace: str, model: ModelSpec, workdir: Path) -> Path | None:
    """The model file in ``workdir`` (None for models at a storage URI)."""
    ref = model.config_map_ref
    if ref is None:
        return None
    data = await _configmap_value(kube, namespace, ref.name, ref.key, "spec.model.configMapRef")
    path = workdir / "model.onnx"
    path.write_bytes(data)
    return path


def analyse(
    path: Path | None, model: ModelSpec
) -> tuple[Workload | None, Mapping[str, float] | None]:
    """(fleet workload, operator profile) of the model; the spec's profile wins."""
    if path is None:
        return None, model.operator_profile
    try:
        workload, profile = workload_from_onnx(path)
    except FalconError as exc:
        text = str(exc).replace(f"{path}: ", "")  # the operator's temporary copy says nothing
        raise PermanentError(
            f"spec.model: cannot analyse the model: {text}", reason="InvalidModel"
        ) from None
    return workload, model.operator_profile or profile.shares()


async def resolve_spec(kube: Kube, namespace: str, spec: SearchSpec) -> ResolvedSearch:
    ref = spec.objective.prices_config_map
    prices = None
    if ref is not None:
        where = "spec.objective.pricesConfigMapRef"
        text = await _configmap_value(kube, namespace, ref.name, ref.key, where)
        prices = prices_from_document(text.decode(errors="replace"), where=where)
    return resolve(spec, shipped_catalog(), prices=prices)


async def prepare(
    kube: Kube,
    settings: ControllerSettings,
    ref: SearchRef,
    body: Mapping[str, Any],
    *,
    knowledge: Callable[[ResolvedSearch], Knowledge] = search_knowledge,
    observe: Callable[[float], None] | None = None,
) -> SearchContext:
    """Parse, check the image against the operator's policy, resolve and load; a SpecError /
    PermanentError says what is wrong, in one line."""
    spec = parse_spec(body.get("spec"))
    # before anything is read on the author's behalf: the image is the confused deputy's door
    settings.image_policy.check(spec.model.triton_image)
    resolved = await resolve_spec(kube, ref.namespace, spec)
    workdir = tempfile.TemporaryDirectory(prefix=f"falcon-{ref.name}-")
    try:
        path = await fetch_model(kube, ref.namespace, spec.model, Path(workdir.name))
        workload, profile = await asyncio.to_thread(analyse, path, spec.model)
        kb = await asyncio.to_thread(knowledge, resolved)
        engine = build_engine(resolved, kb, profile=profile, observe=observe)
        sim = None
        if settings.simulate is not None:
            if path is None or workload is None:
                raise SpecError("simulated trials need the model in spec.model.configMapRef")
            sim = SimulatedFleet(
                workload,
                settings.simulate,
                objective=resolved.objective,
                seed=spec.algorithm.seed,
                catalog=resolved.catalog,
                observe_cpu=telemetry.simulation_took,
            )
        annotations = (body.get("metadata") or {}).get("annotations") or {}
        faults = FaultPlan.parse(annotations.get(SIMULATED_FAULT_ANNOTATION) if sim else None)
    except BaseException:
        workdir.cleanup()
        raise
    return SearchContext(ref, resolved, engine, path, profile, sim, faults, workdir)
