"""Shared fixtures of the trials tests: a resolved search and its owner."""

from __future__ import annotations

from typing import Any

import pytest

from falcon_operator.core.catalog import load_catalog
from falcon_operator.spec import ResolvedSearch, parse_spec, resolve
from falcon_operator.trials.manifest import SearchRef

SPEC: dict[str, Any] = {
    "model": {
        "name": "resnet",
        "configMapRef": {"name": "resnet-model", "key": "model.onnx"},
        "modelConfig": {"instance_group": [{"count": 2, "kind": "KIND_GPU"}]},
    },
    "searchSpace": {
        "gpus": [{"type": "T4"}, {"type": "H100", "migProfiles": ["1g.10gb"]}],
        "cpus": [2, 4],
        "gpuMemoryGB": [0, 2],
        "batchSizes": [1, 8],
        "powerLimits": [75, 100],
    },
    "objective": {"sloP99Ms": 50},
    "budget": {"maxTrials": 6},
}


@pytest.fixture
def rs() -> ResolvedSearch:
    return resolve(parse_spec(SPEC), load_catalog())


@pytest.fixture
def owner() -> SearchRef:
    return SearchRef("resnet-search", "team-a", "0000-1111")
