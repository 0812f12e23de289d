"""``falcon search``'s model source: URI, user ConfigMap, or the model written into the output."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from falcon_operator.recommend.source import (
    CONFIGMAP_LIMIT,
    ModelSourceError,
    k8s_name,
    model_source,
)

MODELS = Path(__file__).resolve().parents[2] / "operator/falcon_operator/data/models"
VGG = MODELS / "vgg-plain.onnx"


def test_the_default_writes_the_model_into_a_configmap() -> None:
    src = model_source(VGG, "vgg-plain", name="vgg", namespace="ml")
    assert src.model.config_map_ref is not None
    assert (src.model.config_map_ref.name, src.model.config_map_ref.key) == (
        "vgg-onnx",
        "model.onnx",
    )
    assert src.configmap is not None and src.configmap["metadata"]["namespace"] == "ml"
    assert base64.b64decode(src.configmap["binaryData"]["model.onnx"]) == VGG.read_bytes()
    assert src.todo == ""


def test_the_shipped_demo_model_fits_a_configmap() -> None:
    assert VGG.stat().st_size <= CONFIGMAP_LIMIT


def test_a_model_over_a_configmaps_limit_needs_another_source(tmp_path: Path) -> None:
    big = tmp_path / "big.onnx"
    big.write_bytes(b"\0" * (CONFIGMAP_LIMIT + 1))
    with pytest.raises(ModelSourceError, match=r"more than a ConfigMap holds.*--model-uri"):
        model_source(big, "big", name="big", namespace="default")
    src = model_source(big, "big", name="big", namespace="default", uri="s3://b/big.onnx")
    assert src.model.storage_uri == "s3://b/big.onnx" and src.configmap is None


def test_a_user_configmap_comes_with_the_command_that_creates_it() -> None:
    src = model_source(VGG, "vgg-plain", name="vgg", namespace="ml", configmap="weights:vgg.onnx")
    ref = src.model.config_map_ref
    assert ref is not None and (ref.name, ref.key) == ("weights", "vgg.onnx")
    assert src.configmap is None
    assert f"kubectl create configmap weights -n ml --from-file=vgg.onnx={VGG}" in src.todo
    default_key = model_source(VGG, "v", name="v", namespace="ml", configmap="weights")
    assert default_key.model.config_map_ref == ref.__class__("weights", "model.onnx")


@pytest.mark.parametrize(
    ("uri", "secret"),
    [("s3://bucket/vgg.onnx", "s3-creds"), ("gs://b/m/vgg.onnx", None),
     ("https://example.org/vgg.onnx", None), ("pvc://models/vgg/model.onnx", None)],
)  # fmt: skip
def test_storage_uris(uri: str, secret: str | None) -> None:
    src = model_source(VGG, "vgg", name="vgg", namespace="ml", uri=uri, secret=secret)
    assert src.model.storage_uri == uri and src.model.credentials_secret == secret
    assert src.configmap is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"uri": "ftp://x/m.onnx"}, "must start with s3://, gs://, https:// or pvc://"),
        ({"uri": "models/vgg.onnx"}, "must start with"),
        ({"uri": "pvc://claim"}, "pvc://CLAIM/PATH"),
        ({"uri": "pvc://claim/dir/"}, "pvc://CLAIM/PATH"),
        ({"uri": "s3://bucket"}, "names no model file"),
        ({"uri": "s3://b/m.onnx", "configmap": "m"}, "not both"),
        ({"secret": "creds"}, "--model-secret is for --model-uri"),
        ({"configmap": "My_Model"}, "NAME must be a Kubernetes name"),
        ({"configmap": ":model.onnx"}, "NAME must be a Kubernetes name"),
    ],
)
def test_bad_sources_are_one_line_errors(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ModelSourceError, match=re.escape(message)) as info:
        model_source(VGG, "vgg", name="vgg", namespace="ml", **kwargs)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("text", "name"),
    [("vgg-plain", "vgg-plain"), ("ResNet_50.v2", "resnet-50-v2"), ("__", "model"),
     ("a" * 80, "a" * 63)],
)  # fmt: skip
def test_k8s_name(text: str, name: str) -> None:
    assert k8s_name(text) == name
