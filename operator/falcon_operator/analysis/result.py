"""The result of a model analysis: per-operator rows, totals, KOPs, unseen operators."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from falcon_operator.analysis.costs import NodeCost
from falcon_operator.analysis.roofline import Roofline


@dataclass(frozen=True)
class OperatorRow:
    """One Relay operator of the model: how many nodes, their work, and its share of the time."""

    operator: str  #: Relay name, or the ONNX op type for ops outside the operator table
    count: int  #: nodes with a part of this operator
    flops: float
    bytes: float
    est_time: float  #: seconds on the reference GPU
    share: float  #: fraction of the model's estimated time
    is_kop: bool
    onnx_ops: tuple[str, ...]
    unseen: bool = False  #: missing from the knowledge vocabulary
    mapped_to: str | None = None  #: the known operator it is counted as, when unseen


@dataclass(frozen=True)
class ModelProfile:
    """A model's operator profile at one batch size, as estimated from its ONNX graph."""

    model: str
    batch_size: int
    dynamic_batch: bool
    rows: tuple[OperatorRow, ...]  #: by estimated time, descending
    kops: tuple[str, ...]  #: key operators of ``shares()`` (known names)
    unseen: Mapping[str, str | None]  #: unseen operator -> known operator it is counted as
    warnings: tuple[str, ...]
    nodes: tuple[NodeCost, ...]
    roofline: Roofline

    @property
    def total_flops(self) -> float:
        return sum(r.flops for r in self.rows)

    @property
    def total_bytes(self) -> float:
        return sum(r.bytes for r in self.rows)

    @property
    def est_time(self) -> float:
        return sum(r.est_time for r in self.rows)

    def shares(self) -> dict[str, float]:
        """Operator -> share of time, unseen operators merged into the ones they map to.

        Usable as the operator profile of a search: ``Prior(knowledge, space, profile=...)``.
        """
        out: dict[str, float] = {}
        for r in self.rows:
            if r.share > 0:
                op = r.mapped_to or r.operator
                out[op] = out.get(op, 0.0) + r.share
        return dict(sorted(out.items(), key=lambda kv: (-kv[1], kv[0])))

    def to_dict(self, *, include_nodes: bool = False) -> dict[str, Any]:
        d: dict[str, Any] = {
            "model": self.model,
            "batch_size": self.batch_size,
            "dynamic_batch": self.dynamic_batch,
            "roofline": asdict(self.roofline),
            "total_flops": self.total_flops,
            "total_bytes": self.total_bytes,
            "est_time": self.est_time,
            "kops": list(self.kops),
            "shares": self.shares(),
            "unseen": dict(self.unseen),
            "warnings": list(self.warnings),
            "operators": [asdict(r) for r in self.rows],
        }
        if include_nodes:
            d["nodes"] = [{**asdict(n), "flops": n.flops, "bytes": n.bytes} for n in self.nodes]
        return d

    def to_json(self, *, include_nodes: bool = False, indent: int | None = 2) -> str:
        """The profile as JSON (per-node records too with ``include_nodes``)."""
        return json.dumps(self.to_dict(include_nodes=include_nodes), indent=indent)
