"""Where the offline recommendation's Deployment gets its model: ``falcon search``'s source options.

- ``--model-uri URI``: s3://, gs:// or https:// (downloaded by KServe's storage initializer,
  credentials from ``--model-secret``), or ``pvc://CLAIM/PATH`` (mounted read-only);
- ``--model-configmap NAME[:KEY]``: a ConfigMap the user creates (default key ``model.onnx``);
- neither (the default): the ConfigMap ``<name>-onnx`` with key ``model.onnx``, written into the
  output next to the Deployment, which works for any model up to a ConfigMap's 1 MiB (both
  shipped models fit); a bigger model needs one of the options above.

The result is the operator's own :class:`~falcon_operator.spec.model.ModelSpec`, so the
Deployment's init containers are the ones trial pods and the operator's recommendation use.
"""

from __future__ import annotations

import base64
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from falcon_operator.core.errors import FalconError
from falcon_operator.spec.model import ConfigMapKeyRef, ModelSpec

#: the API server refuses a ConfigMap whose data and binaryData exceed 1 MiB together
CONFIGMAP_LIMIT = 1024 * 1024
DEFAULT_KEY = "model.onnx"
URI_SCHEMES = ("s3", "gs", "https", "pvc")


class ModelSourceError(FalconError):
    """The model source options are malformed, or the model cannot travel the way asked."""


@dataclass(frozen=True)
class ModelSource:
    """The model as the Deployment gets it, and what has to exist before it is applied."""

    model: ModelSpec
    #: the ConfigMap holding the model file, written into the output (default source only)
    configmap: dict[str, Any] | None = None
    #: one line: what the user must do before applying (empty when nothing)
    todo: str = ""


def k8s_name(text: str) -> str:
    """``text`` as a DNS-1123 label: lower case, [a-z0-9-], at most 63 characters."""
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")[:63].rstrip("-")
    return name or "model"


def check_uri(uri: str) -> None:
    """ModelSourceError unless ``uri`` is one the init containers can fetch."""
    scheme, sep, rest = uri.partition("://")
    if not sep or scheme not in URI_SCHEMES:
        raise ModelSourceError(
            f"--model-uri {uri!r} must start with s3://, gs://, https:// or pvc://"
        )
    if scheme == "pvc":
        claim, _, path = rest.partition("/")
        if not claim or not path or path.endswith("/"):
            raise ModelSourceError(f"--model-uri {uri!r}: write pvc://CLAIM/PATH/TO/model.onnx")
    elif "/" not in rest.strip("/"):
        raise ModelSourceError(
            f"--model-uri {uri!r} names no model file (e.g. {scheme}://bucket/model.onnx)"
        )


def _configmap_ref(text: str) -> ConfigMapKeyRef:
    name, _, key = text.partition(":")
    if not name or k8s_name(name) != name:
        raise ModelSourceError(
            f"--model-configmap {text!r}: NAME must be a Kubernetes name ([a-z0-9-]), "
            "e.g. my-model or my-model:model.onnx"
        )
    return ConfigMapKeyRef(name, key or DEFAULT_KEY)


def model_source(
    path: Path,
    model_name: str,
    *,
    name: str,
    namespace: str,
    uri: str | None = None,
    configmap: str | None = None,
    secret: str | None = None,
) -> ModelSource:
    """The source of the model file ``path`` served as ``model_name`` by Deployment ``name``."""
    if uri is not None and configmap is not None:
        raise ModelSourceError("give --model-uri or --model-configmap, not both")
    if secret is not None and uri is None:
        raise ModelSourceError("--model-secret is for --model-uri (the downloader's credentials)")
    if uri is not None:
        check_uri(uri)
        return ModelSource(ModelSpec(name=model_name, storage_uri=uri, credentials_secret=secret))
    if configmap is not None:
        ref = _configmap_ref(configmap)
        create = (
            f"kubectl create configmap {ref.name} -n {namespace} "
            f"--from-file={ref.key}={shlex.quote(str(path))}"
        )
        return ModelSource(
            ModelSpec(name=model_name, config_map_ref=ref), todo=f"create it first: {create}"
        )
    size = path.stat().st_size
    if size > CONFIGMAP_LIMIT:
        raise ModelSourceError(
            f"{path} is {size / 1e6:.1f} MB, more than a ConfigMap holds (1 MiB): pass "
            "--model-uri (s3://, gs://, https://, pvc://CLAIM/PATH) or --model-configmap"
        )
    ref = ConfigMapKeyRef(k8s_name(f"{name}-onnx"), DEFAULT_KEY)
    body = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": ref.name,
            "namespace": namespace,
            "labels": {
                "app.kubernetes.io/name": name,
                "app.kubernetes.io/managed-by": "falcon-operator",
            },
        },
        "binaryData": {ref.key: base64.b64encode(path.read_bytes()).decode()},
    }
    return ModelSource(ModelSpec(name=model_name, config_map_ref=ref), configmap=body)
