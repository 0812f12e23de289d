"""A configuration → the trial pod: Triton and the trial runner, the model fetched at start.

The pod is owned by its search (deleted with it), named deterministically, scheduled onto the
configuration's GPU pool (GPU Feature Discovery product label + power-cap label), asks for one
``nvidia.com/gpu`` or ``nvidia.com/mig-<profile>``, runs as non-root without privilege
escalation, and has a deadline. The runner's JSON report ends in its termination message.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from falcon_operator.core.knobs import BATCH, render
from falcon_operator.core.space import Value
from falcon_operator.spec.constants import (
    API_VERSION,
    CONFIG_ANNOTATION,
    FAULT_LABEL,
    INDEX_ANNOTATION,
    KIND,
)
from falcon_operator.spec.resolve import ResolvedSearch
from falcon_operator.trials.container import (
    HTTP_PORT,
    trial_triton_container,
)
from falcon_operator.trials.modelconfig import model_config, to_pbtxt
from falcon_operator.trials.naming import trial_labels, trial_name
from falcon_operator.trials.source import SourceImages, model_init, restricted_security_context

RUNNER_CONTAINER = "trial-runner"


@dataclass(frozen=True)
class SearchRef:
    """The search a trial belongs to (its owner)."""

    name: str
    namespace: str
    uid: str

    def owner_reference(self) -> dict[str, Any]:
        return {
            "apiVersion": API_VERSION,
            "kind": KIND,
            "name": self.name,
            "uid": self.uid,
            "controller": True,
            "blockOwnerDeletion": True,
        }


@dataclass(frozen=True)
class TrialPodSettings:
    """Images and fixed resources of trial pods (operator settings, not per search)."""

    runner_image: str = "ghcr.io/falcon-operator/falcon-trial:0.1.0"
    runner_cpu: str = "500m"
    runner_memory: str = "512Mi"
    #: the runner sweeps concurrency 1, 2, 4, ... up to this multiple of the batch size
    sweep_per_batch: int = 4
    user_id: int = 1000
    termination_grace_s: int = 10
    #: extra seconds on top of pending + ready + measurement for activeDeadlineSeconds
    deadline_margin_s: int = 300
    images: SourceImages = field(default_factory=SourceImages)


def runner_args(
    rs: ResolvedSearch,
    batch: int,
    settings: TrialPodSettings,
    *,
    url: str = f"http://127.0.0.1:{HTTP_PORT}",
) -> list[str]:
    """The trial runner's arguments (one load protocol: the concurrency sweep, the windows, the
    SLO) for batch size ``batch``: the trial pod's runner container, and the operator's run of
    the same runner against a reused pod (trials/load.py), which only points ``url`` elsewhere."""
    b = rs.spec.budget
    args = [
        f"--url={url}",
        f"--model={rs.spec.model.name}",
        f"--sweep={max(2, settings.sweep_per_batch * batch)}",
        f"--warmup-s={b.warmup_s:g}",
        f"--window-s={b.measurement_s:g}",
        f"--stable-windows={b.windows}",
        f"--max-windows={b.windows + 4}",
        f"--ready-timeout-s={b.ready_timeout_s}",
    ]
    if rs.spec.objective.slo_p99_ms is not None:
        args.append(f"--slo-p99-ms={rs.spec.objective.slo_p99_ms:g}")
    return args


def deadline_seconds(rs: ResolvedSearch, settings: TrialPodSettings) -> int:
    b = rs.spec.budget
    measure = (b.warmup_s + b.measurement_s * (b.windows + 4)) * 8  # every sweep step
    return int(b.pending_timeout_s + b.ready_timeout_s + measure + settings.deadline_margin_s)


def triton_container(rs: ResolvedSearch, config: Mapping[str, Value]) -> dict[str, Any]:
    """The Triton container of a trial (the recommendation's plus the trial-only parts)."""
    return trial_triton_container(
        config,
        image=rs.spec.model.triton_image,
        host_memory=f"{rs.spec.search_space.host_memory_gib:g}Gi",
        model_name=rs.spec.model.name,
    )


def trial_pod(
    rs: ResolvedSearch,
    search: SearchRef,
    index: int,
    config: Mapping[str, Value],
    *,
    settings: TrialPodSettings | None = None,
    fault: str | None = None,
) -> dict[str, Any]:
    """The pod manifest of trial ``index`` in ``config``; ``fault`` labels it for KWOK."""
    settings = settings or TrialPodSettings()
    rs.space.validate(config)
    batch = int(config[BATCH])
    pbtxt = to_pbtxt(model_config(rs.spec.model.name, config, extra=rs.spec.model.model_config))
    init, volumes = model_init(rs.spec.model, pbtxt, images=settings.images)
    selector = dict(rs.choice(config).node_selector) | render(config).node_selector
    labels = trial_labels(search.name, index) | ({FAULT_LABEL: fault} if fault else {})
    runner = {
        "name": RUNNER_CONTAINER,
        "image": settings.runner_image,
        "args": runner_args(rs, batch, settings),
        "resources": {
            "requests": {"cpu": settings.runner_cpu, "memory": settings.runner_memory},
            "limits": {"cpu": settings.runner_cpu, "memory": settings.runner_memory},
        },
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "securityContext": restricted_security_context() | {"readOnlyRootFilesystem": True},
    }
    uid = settings.user_id
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": trial_name(search.name, index),
            "namespace": search.namespace,
            "labels": labels,
            "annotations": {
                CONFIG_ANNOTATION: json.dumps(dict(config), sort_keys=True),
                INDEX_ANNOTATION: str(index),
            },
            "ownerReferences": [search.owner_reference()],
        },
        "spec": {
            "restartPolicy": "Never",
            "activeDeadlineSeconds": deadline_seconds(rs, settings),
            "terminationGracePeriodSeconds": settings.termination_grace_s,
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "securityContext": {
                "runAsNonRoot": True,
                "runAsUser": uid,
                "runAsGroup": uid,
                "fsGroup": uid,
                "seccompProfile": {"type": "RuntimeDefault"},
            },
            "nodeSelector": selector,
            "initContainers": init,
            "containers": [triton_container(rs, config), runner],
            "volumes": volumes,
        },
    }
