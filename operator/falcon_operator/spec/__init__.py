"""The InferenceConfigSearch spec: parsed into frozen dataclasses and resolved against the catalog.

- :mod:`~falcon_operator.spec.constants` — API group/version/plural, labels, annotations.
- :mod:`~falcon_operator.spec.model` — the dataclasses (defaults equal the CRD's).
- :mod:`~falcon_operator.spec.parse` — :func:`parse_spec` (errors are :class:`SpecError`).
- :mod:`~falcon_operator.spec.resolve` — :func:`resolve`: GPU choices, the search ``Space``,
  the objective (metric, prices, SLO; ``core.objective``).
"""

from falcon_operator.core.errors import SpecError
from falcon_operator.spec.model import (
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
from falcon_operator.spec.parse import parse_spec, prices_from_document
from falcon_operator.spec.resolve import GpuChoice, ResolvedSearch, resolve

__all__ = [
    "AlgorithmSpec",
    "BudgetSpec",
    "ConfigMapKeyRef",
    "GpuChoice",
    "GpuOption",
    "ModelSpec",
    "ObjectiveSpec",
    "OutputSpec",
    "PriceOverrides",
    "ResolvedSearch",
    "SearchSpaceSpec",
    "SearchSpec",
    "SpecError",
    "parse_spec",
    "prices_from_document",
    "resolve",
]
