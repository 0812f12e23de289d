"""The one Triton container builder: the trial pod's and the recommended Deployment's.

A configuration renders into the container through the knob registry
(:func:`falcon_operator.core.knobs.render`: CPU cores and the GPU or MIG slice as requests =
limits, the batch-size and MPS-memory environment). A trial then adds exactly
:data:`TRIAL_ONLY_ARGS` (explicit model control, so that a reused pod can be reloaded through the
repository API) and :data:`TRIAL_CONFIG_ENV` (the configuration the simulated-GPU backend plays);
everything else of what was measured is what is served.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from falcon_operator.core.knobs import TRIAL_CONFIG_ENV, render
from falcon_operator.core.space import Value
from falcon_operator.trials.source import REPOSITORY, restricted_security_context

TRITON_CONTAINER = "triton"
HTTP_PORT, GRPC_PORT, METRICS_PORT = 8000, 8001, 8002


def trial_only_args(model_name: str) -> list[str]:
    """The Triton arguments a trial adds: explicit model control, the one model loaded."""
    return ["--model-control-mode=explicit", f"--load-model={model_name}"]


def triton_container(
    config: Mapping[str, Value], *, image: str, host_memory: str
) -> dict[str, Any]:
    """The Triton container serving ``/models`` in the configuration ``config``."""
    rendered = render(config)
    amounts = {"memory": host_memory} | rendered.resources
    amounts = {k: amounts[k] for k in sorted(amounts, key=_resource_order)}
    return {
        "name": TRITON_CONTAINER,
        "image": image,
        "args": ["tritonserver", f"--model-repository={REPOSITORY}"],
        "env": rendered.env,
        "ports": [
            {"name": "http", "containerPort": HTTP_PORT},
            {"name": "grpc", "containerPort": GRPC_PORT},
            {"name": "metrics", "containerPort": METRICS_PORT},
        ],
        "resources": {"requests": amounts, "limits": dict(amounts)},
        "readinessProbe": {
            "httpGet": {"path": "/v2/health/ready", "port": "http"},
            "periodSeconds": 2,
        },
        "volumeMounts": [{"name": "models", "mountPath": REPOSITORY}],
        "securityContext": restricted_security_context(),
    }


def trial_triton_container(
    config: Mapping[str, Value], *, image: str, host_memory: str, model_name: str
) -> dict[str, Any]:
    """The serving container plus the trial-only arguments and environment."""
    container = triton_container(config, image=image, host_memory=host_memory)
    container["args"] += trial_only_args(model_name)
    container["env"].append(
        {"name": TRIAL_CONFIG_ENV, "value": json.dumps(dict(config), sort_keys=True)}
    )
    return container


def _resource_order(name: str) -> int:
    """cpu, memory, then the GPU resource (the order manifests always had)."""
    return {"cpu": 0, "memory": 1}.get(name, 2)
