"""Table oracle: a backend that answers from a Falcon-layout table by exact configuration match.

A configuration the table has no row for is reported as ``infeasible`` (failure ``no-data``: it was
never measurable),
and a configuration outside the table's space is a caller error.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from falcon_operator.core.records import FailureKind, Outcome, TrialRecord
from falcon_operator.core.space import Value
from falcon_operator.knowledge.tables import Table


class TableOracle:
    """Answers trials by looking the configuration up in ``table``."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.calls = 0

    def run(self, config: Mapping[str, Value]) -> TrialRecord:
        self.calls += 1
        value = self.table.values[self.table.space.index_of(config)]
        if np.isnan(value):
            return TrialRecord.failed(config, FailureKind.NO_DATA, "no row for this configuration")
        return TrialRecord(dict(config), Outcome.OK, float(value))
