"""Deterministic names and labels of the objects a search creates.

Trial ``i`` of search ``s`` is always ``s-t<iii>`` (three digits, more when needed), so a
restarted operator finds the pods it created and never starts a trial twice.
"""

from __future__ import annotations

import re

from falcon_operator.spec.constants import (
    COMPONENT_LABEL,
    FIELD_MANAGER,
    MANAGED_BY_LABEL,
    SEARCH_LABEL,
    TRIAL_LABEL,
)

_TRIAL = re.compile(r"^(?P<search>.+)-t(?P<index>[0-9]{3,})$")


def trial_name(search: str, index: int) -> str:
    """``<search>-t003``."""
    if index < 0:
        raise ValueError(f"trial index must be >= 0, got {index}")
    return f"{search}-t{index:03d}"


def trial_index(search: str, name: str) -> int | None:
    """The index of trial ``name`` of ``search``, or None when it is not one of its trials."""
    m = _TRIAL.match(name)
    if m is None or m["search"] != search:
        return None
    return int(m["index"])


def history_configmap(search: str) -> str:
    """The ConfigMap holding one JSON record per finished trial."""
    return f"{search}-trials"


def recommendation_configmap(search: str) -> str:
    """The ConfigMap output.mode ConfigMap writes (manifests.yaml)."""
    return f"{search}-recommendation"


def search_selector(search: str) -> str:
    """Label selector of every trial pod of ``search``."""
    return f"{SEARCH_LABEL}={search},{COMPONENT_LABEL}=trial"


def common_labels(search: str, component: str) -> dict[str, str]:
    return {SEARCH_LABEL: search, COMPONENT_LABEL: component, MANAGED_BY_LABEL: FIELD_MANAGER}


def trial_labels(search: str, index: int) -> dict[str, str]:
    return common_labels(search, "trial") | {TRIAL_LABEL: trial_name(search, index)}
