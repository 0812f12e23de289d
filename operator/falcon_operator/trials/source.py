"""How a pod gets the model: init containers and volumes shared by trials and the recommendation.

A model in a ConfigMap is mounted read-only and copied into the model repository; a model at a
storage URI is first downloaded by KServe's storage initializer (s3://, gs://, https://), or
mounted from its PersistentVolumeClaim (pvc://claim/path). A second init container writes the
Triton model config. Credentials reach the downloader only, as environment variables.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from typing import Any

from falcon_operator.spec.model import ModelSpec

REPOSITORY = "/models"
SOURCE_DIR = "/model-src"


@dataclass(frozen=True)
class SourceImages:
    """Images of the model-fetching init containers."""

    #: downloads s3://, gs:// and https:// URIs (KServe's storage initializer)
    storage_initializer: str = "kserve/storage-initializer:v0.14.1"
    #: copies the model and writes config.pbtxt (needs a POSIX shell)
    prepare: str = "busybox:1.37.0"


def restricted_security_context() -> dict[str, Any]:
    """The container security context of the 'restricted' Pod Security Standard."""
    return {
        "runAsNonRoot": True,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _source(
    model: ModelSpec, images: SourceImages
) -> tuple[list[dict[str, Any]], dict[str, Any], str]:
    """(fetch init containers, the source volume, the model file's path in it)."""
    if model.config_map_ref is not None:
        ref = model.config_map_ref
        volume = {
            "name": "model-src",
            "configMap": {"name": ref.name, "items": [{"key": ref.key, "path": "model.onnx"}]},
        }
        return [], volume, f"{SOURCE_DIR}/model.onnx"
    uri = model.storage_uri or ""
    if uri.startswith("pvc://"):
        claim, _, path = uri.removeprefix("pvc://").partition("/")
        volume = {
            "name": "model-src",
            "persistentVolumeClaim": {"claimName": claim, "readOnly": True},
        }
        return [], volume, f"{SOURCE_DIR}/{path}"
    fetch: dict[str, Any] = {
        "name": "fetch-model",
        "image": images.storage_initializer,
        "args": [uri, SOURCE_DIR],
        "volumeMounts": [{"name": "model-src", "mountPath": SOURCE_DIR}],
        "securityContext": restricted_security_context(),
    }
    if model.credentials_secret:
        fetch["envFrom"] = [{"secretRef": {"name": model.credentials_secret}}]
    name = uri.rstrip("/").rsplit("/", 1)[-1]
    return [fetch], {"name": "model-src", "emptyDir": {}}, f"{SOURCE_DIR}/{name}"


def model_init(
    model: ModelSpec, pbtxt: str, *, images: SourceImages | None = None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(init containers, volumes) that leave ``/models/<name>/{config.pbtxt,1/model.onnx}``."""
    images = images or SourceImages()
    fetch, source, path = _source(model, images)
    target = f"{REPOSITORY}/{model.name}"
    script = (
        f"mkdir -p {shlex.quote(target)}/1 && cp {shlex.quote(path)} "
        f"{shlex.quote(target)}/1/model.onnx && "
        f'printf "%s" "$FALCON_MODEL_CONFIG" > {shlex.quote(target)}/config.pbtxt'
    )
    prepare = {
        "name": "prepare-model",
        "image": images.prepare,
        "command": ["sh", "-c", script],
        "env": [{"name": "FALCON_MODEL_CONFIG", "value": pbtxt}],
        "volumeMounts": [
            {"name": "model-src", "mountPath": SOURCE_DIR, "readOnly": True},
            {"name": "models", "mountPath": REPOSITORY},
        ],
        "resources": {
            "requests": {"cpu": "100m", "memory": "64Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        },
        "securityContext": restricted_security_context(),
    }
    return [*fetch, prepare], [source, {"name": "models", "emptyDir": {}}]
