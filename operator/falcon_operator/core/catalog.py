"""GPU and price catalog: one TOML data file (shipped default, or the user's own).

Every GPU row has datasheet peaks, memory, TDP, an on-demand hourly price per GPU and the public
source of those numbers; A100/H100 rows list their MIG profiles (compute sevenths, memory GB).
The catalog is the one GPU table of the project: the rows also carry the label memory GPU feature
discovery reports (``memory_mib``) and, for the four GPUs of the Falcon paper's data, the
dataset's integer ``gputype`` code (``paper_code``) and the AWS instance type of its operator
timings (``paper_instance``); :func:`shipped_catalog` is the shipped file, read once.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from falcon_operator.core.errors import DataError


@dataclass(frozen=True)
class Gpu:
    name: str
    product: str  #: the NVIDIA GPU Feature Discovery label value nvidia.com/gpu.product
    fp32_tflops: float
    fp16_tflops: float
    bandwidth_gbs: float
    memory_gb: float
    tdp_w: float
    hour: float  #: on-demand $ per GPU-hour (host cores and memory excluded)
    source: str
    mig: Mapping[str, tuple[int, float]] = field(default_factory=dict)
    memory_mib: int = 0  #: the label nvidia.com/gpu.memory (MiB per GPU) GFD reports; 0: unknown
    paper_code: int | None = None  #: the Falcon paper dataset's integer ``gputype``, if it has one
    paper_instance: str = ""  #: AWS instance type of the GPU in the authors' operator timings


@dataclass(frozen=True)
class Slice:
    """What a trial gets: a whole GPU or one MIG slice of it."""

    gpu: Gpu
    profile: str = ""  #: MIG profile, "" for the whole GPU

    @property
    def compute_fraction(self) -> float:
        return self.gpu.mig[self.profile][0] / 7 if self.profile else 1.0

    @property
    def memory_gb(self) -> float:
        return self.gpu.mig[self.profile][1] if self.profile else self.gpu.memory_gb

    @property
    def hour(self) -> float:
        return self.gpu.hour * self.compute_fraction

    @property
    def label(self) -> str:
        return f"{self.gpu.name}/{self.profile}" if self.profile else self.gpu.name


@dataclass(frozen=True)
class Catalog:
    gpus: Mapping[str, Gpu]
    cpu_core_hour: float
    memory_gib_hour: float

    def slice(self, label: str) -> Slice:
        """``"T4"`` or ``"A100/3g.20gb"`` → a Slice; unknown names are a DataError."""
        name, _, profile = label.partition("/")
        if name not in self.gpus:
            raise DataError(f"unknown GPU {name!r}; the catalog has {sorted(self.gpus)}")
        gpu = self.gpus[name]
        if profile and profile not in gpu.mig:
            raise DataError(f"{name} has no MIG profile {profile!r}; it has {sorted(gpu.mig)}")
        return Slice(gpu, profile)

    def paper_codes(self) -> dict[int, str]:
        """The Falcon dataset's ``gputype`` integers -> GPU names (M60 1, K80 2, T4 3, V100 4)."""
        return {g.paper_code: g.name for g in self.gpus.values() if g.paper_code is not None}

    def paper_instances(self) -> dict[str, str]:
        """The AWS instance types of the authors' operator timings -> GPU names."""
        return {g.paper_instance: g.name for g in self.gpus.values() if g.paper_instance}


def default_catalog_path() -> Path:
    return Path(__file__).resolve().parent.parent / "data" / "fleet" / "catalog.toml"


def load_catalog(path: Path | str | None = None) -> Catalog:
    p = Path(path) if path else default_catalog_path()
    try:
        data: dict[str, Any] = tomllib.loads(p.read_text())
    except FileNotFoundError as exc:
        raise DataError(f"{p}: no such catalog file") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{p}: not a valid TOML catalog: {exc}") from exc
    try:
        gpus = {
            name: Gpu(
                name=name,
                product=str(row["product"]),
                fp32_tflops=float(row["fp32_tflops"]),
                fp16_tflops=float(row.get("fp16_tflops", row["fp32_tflops"])),
                bandwidth_gbs=float(row["bandwidth_gbs"]),
                memory_gb=float(row["memory_gb"]),
                tdp_w=float(row["tdp_w"]),
                hour=(
                    float(row["instance_hour"])
                    - float(row["instance_vcpus"]) * float(data["host"]["cpu_core_hour"])
                    - float(row["instance_memory_gib"]) * float(data["host"]["memory_gib_hour"])
                )
                / float(row["instance_gpus"]),
                source=str(row["source"]),
                mig={k: (int(v[0]), float(v[1])) for k, v in dict(row.get("mig", {})).items()},
                memory_mib=int(row.get("memory_mib", 0)),
                paper_code=int(row["paper_code"]) if "paper_code" in row else None,
                paper_instance=str(row.get("paper_instance", "")),
            )
            for name, row in dict(data["gpus"]).items()
        }
        host = data["host"]
        catalog = Catalog(gpus, float(host["cpu_core_hour"]), float(host["memory_gib_hour"]))
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise DataError(f"{p}: malformed catalog entry: {exc}") from exc
    for gpu in gpus.values():
        if min(gpu.fp32_tflops, gpu.bandwidth_gbs, gpu.memory_gb, gpu.tdp_w, gpu.hour) <= 0:
            raise DataError(f"{p}: GPU {gpu.name} has a non-positive figure")
        if gpu.memory_mib < 0 or gpu.memory_mib > gpu.memory_gb * 1024:
            raise DataError(f"{p}: GPU {gpu.name}: memory_mib must be in [0, memory_gb × 1024]")
    for column, values in (
        ("paper_code", [g.paper_code for g in gpus.values() if g.paper_code is not None]),
        ("paper_instance", [g.paper_instance for g in gpus.values() if g.paper_instance]),
    ):
        if len(set(values)) != len(values):
            raise DataError(f"{p}: two GPUs share a {column}: {values}")
    return catalog


@functools.cache
def shipped_catalog() -> Catalog:
    """The shipped catalog (``data/fleet/catalog.toml``), read once per process."""
    return load_catalog()
