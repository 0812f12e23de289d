"""A Running, Ready trial pod as the API server returns it, for the fake Kube of reconcile tests."""

from __future__ import annotations

from typing import Any


def ready_pod_manifest(name: str, *, ready_at: str = "2026-01-01T00:00:00Z") -> dict[str, Any]:
    """Pod ``name``, created at 2026-01-01T00:00:00Z, Running on a KWOK node, Ready at ready_at."""
    return {
        "metadata": {"name": name, "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"nodeName": "kwok-t4-0"},
        "status": {
            "phase": "Running",
            "podIP": "127.1.0.9",
            "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": ready_at}],
        },
    }
