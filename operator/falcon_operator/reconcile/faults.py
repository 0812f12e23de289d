"""Fault injection for simulated trials (a test hook; ignored outside simulated mode).

The search annotation ``autoconfig.falcon.io/simulated-fault`` is ``crash`` or ``oom`` (every
trial pod gets the KWOK fault label ``falcon.io/fault``), optionally for some trial indices
only: ``crash@0,2``. A configuration that does not fit its GPU's memory gets ``oom`` anyway.
"""

from __future__ import annotations

from dataclasses import dataclass

from falcon_operator.core.errors import SpecError

KINDS = ("crash", "oom")


@dataclass(frozen=True)
class FaultPlan:
    """Which trials get which fault label."""

    kind: str | None = None
    indices: frozenset[int] | None = None  #: None: every trial

    @staticmethod
    def parse(text: str | None) -> FaultPlan:
        if not text:
            return FaultPlan()
        kind, _, which = text.strip().partition("@")
        if kind not in KINDS:
            raise SpecError(f"simulated-fault annotation: expected crash or oom, got {kind!r}")
        if not which:
            return FaultPlan(kind)
        try:
            return FaultPlan(kind, frozenset(int(i) for i in which.split(",") if i.strip()))
        except ValueError:
            raise SpecError(f"simulated-fault annotation: bad trial indices {which!r}") from None

    def fault(self, index: int) -> str | None:
        if self.kind is None or (self.indices is not None and index not in self.indices):
            return None
        return self.kind
