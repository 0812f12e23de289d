"""Per-model counters, kept as Triton keeps them (per request, durations in microseconds)."""

from __future__ import annotations

from dataclasses import dataclass, field

FAILURE_REASONS = ("OTHER", "BACKEND", "REJECTED", "CANCELED")


@dataclass
class ModelStats:
    """Cumulative counts and durations since the model was loaded."""

    success: int = 0
    failure: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FAILURE_REASONS, 0))
    inferences: int = 0
    executions: int = 0
    request_us: int = 0
    queue_us: int = 0
    compute_input_us: int = 0
    compute_infer_us: int = 0
    compute_output_us: int = 0

    def record_success(
        self, *, request_s: float, queue_s: float, input_s: float, infer_s: float, output_s: float
    ) -> None:
        """One successful request; each duration is that request's share of its batch."""
        self.success += 1
        self.request_us += round(request_s * 1e6)
        self.queue_us += round(queue_s * 1e6)
        self.compute_input_us += round(input_s * 1e6)
        self.compute_infer_us += round(infer_s * 1e6)
        self.compute_output_us += round(output_s * 1e6)

    def record_failure(self, reason: str) -> None:
        self.failure[reason if reason in self.failure else "OTHER"] += 1

    def record_execution(self, samples: int) -> None:
        """One batch execution of ``samples`` inferences."""
        self.executions += 1
        self.inferences += samples
