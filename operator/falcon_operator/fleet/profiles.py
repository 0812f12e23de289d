"""The fleet's source models as offline profiling sees them, and their shipped copy.

Profiling a model means building its ONNX graph and analysing it (``workload_from_onnx``): its
fleet workload and its operator time shares. For the nine source models of
``fleet.models.SOURCES`` that takes about 2 s and 170 MB of peak memory (bert-base alone is
27 MB of weights, held several times over while it is saved, read and shape-inferred), and the
result never changes. So it is shipped: ``data/fleet/source-profiles.json``, read by
:func:`shipped_source_profiles` (what the operator and ``falcon search`` build their knowledge
from). ``make docs`` regenerates it (``python -m falcon_operator.fleet.profiles``), and a unit
test fails while it differs from a fresh profiling.
"""

from __future__ import annotations

import functools
import json
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import onnx

from falcon_operator.fleet.models import SOURCES, Builder
from falcon_operator.fleet.performance import OperatorLoad, Workload
from falcon_operator.fleet.workload import workload_from_onnx

SHIPPED = Path(__file__).resolve().parents[1] / "data" / "fleet" / "source-profiles.json"


@dataclass(frozen=True)
class ProfiledModel:
    """A model as offline profiling sees it: its fleet workload and operator time shares."""

    name: str
    workload: Workload
    shares: Mapping[str, float]


def profile_models(builders: Mapping[str, Builder]) -> list[ProfiledModel]:
    """Workload and operator shares of every builder's model (via a temporary ONNX file)."""
    out: list[ProfiledModel] = []
    with tempfile.TemporaryDirectory(prefix="falcon-fleet-") as tmp:
        for name, build in builders.items():
            path = Path(tmp) / f"{name}.onnx"
            onnx.save(build(), path)
            w, profile = workload_from_onnx(path)
            out.append(ProfiledModel(name, replace(w, name=name), profile.shares()))
    return out


def to_document(profiles: list[ProfiledModel]) -> dict[str, Any]:
    """Plain JSON data (floats round-trip exactly)."""
    return {
        "generator": "python -m falcon_operator.fleet.profiles (make docs)",
        "models": [
            {"name": p.name, "workload": asdict(p.workload), "shares": dict(p.shares)}
            for p in profiles
        ],
    }


def from_document(doc: Mapping[str, Any]) -> list[ProfiledModel]:
    out = []
    for m in doc["models"]:
        w = dict(m["workload"])
        w["operators"] = tuple(OperatorLoad(**op) for op in w["operators"])
        out.append(ProfiledModel(m["name"], Workload(**w), dict(m["shares"])))
    return out


@functools.cache
def _shipped() -> tuple[ProfiledModel, ...]:
    return tuple(from_document(json.loads(SHIPPED.read_text())))


def shipped_source_profiles() -> list[ProfiledModel]:
    """The source models' profiles as shipped (read once per process)."""
    return list(_shipped())


def main() -> int:
    """Regenerate the shipped profiles from the source models."""
    doc = to_document(profile_models(SOURCES))
    SHIPPED.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    print(f"{SHIPPED}: {len(doc['models'])} source models")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
