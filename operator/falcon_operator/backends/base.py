"""The backend contract: run one configuration, return a frozen TrialRecord.

The table oracle, the simulated fleet and the Kubernetes trial executor all implement it; the CLI,
the benchmark and the operator differ only in the backend they plug in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol, runtime_checkable

from falcon_operator.core.records import TrialRecord
from falcon_operator.core.space import Value


@runtime_checkable
class Backend(Protocol):
    """Runs trials. Implementations must never raise for a configuration that merely fails:
    they return an ``infeasible`` or ``failed`` record with the reason instead."""

    def run(self, config: Mapping[str, Value]) -> TrialRecord:
        """Run one trial in ``config`` and return what was observed."""
        ...
