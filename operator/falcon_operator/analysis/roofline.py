"""A roofline time estimate on a reference GPU.

A kernel takes ``max(flops / peak_flops, bytes / bandwidth)`` plus a fixed launch overhead; a
part with several launches pays the overhead once per launch, and a view (no kernel) pays
nothing. The default is a T4-like GPU: 8.1 TFLOP/s FP32, 320 GB/s, 5 µs per launch. Only the
shares of time matter to Falcon, so the reference GPU need not be the one that serves.
"""

from __future__ import annotations

from dataclasses import dataclass

from falcon_operator.analysis.errors import ModelError


@dataclass(frozen=True)
class Roofline:
    """Reference GPU parameters for the time estimate."""

    name: str = "T4-like"
    peak_flops: float = 8.1e12  #: FLOP/s
    bandwidth: float = 320e9  #: bytes/s
    launch_overhead: float = 5e-6  #: seconds per kernel launch

    def __post_init__(self) -> None:
        if min(self.peak_flops, self.bandwidth) <= 0 or self.launch_overhead < 0:
            raise ModelError(f"roofline parameters must be positive: {self}")

    def time(self, flops: float, nbytes: float, *, launches: int = 1) -> float:
        """Estimated seconds for ``launches`` kernels doing ``flops`` and moving ``nbytes``."""
        if launches <= 0:
            return 0.0
        busy = max(flops / self.peak_flops, nbytes / self.bandwidth)
        return busy + launches * self.launch_overhead
