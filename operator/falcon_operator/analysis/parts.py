"""The unit of work the analysis counts: one Relay operator's share of one ONNX node."""

from __future__ import annotations

from dataclasses import dataclass

from falcon_operator.analysis.opmap import Kind


@dataclass(frozen=True)
class Part:
    """FLOPs, bytes moved and kernel launches of one Relay operator inside a node."""

    operator: str  #: Relay name, or the ONNX op type when the op is outside the table
    kind: Kind
    flops: float
    bytes: float
    launches: int = 1  #: kernels launched (0 for views: no kernel runs)
