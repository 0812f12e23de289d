"""``falcon search``'s model-source options: what the output says and how bad values fail."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from falcon_operator.cli.main import main

MODELS = Path(__file__).resolve().parents[2] / "operator/falcon_operator/data/models"
RESNET = MODELS / "resnet-mini.onnx"


def _search(tmp_path: Path, *extra: str) -> Path:
    out = tmp_path / "rec.yaml"
    argv = ["search", str(RESNET), "--trials", "2", "--knowledge", "paper", "--output", str(out)]
    assert main([*argv, *extra]) == 0
    return out


def test_the_default_output_says_how_to_apply(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _search(tmp_path, "--namespace", "ml")
    text = out.read_text()
    assert text.startswith("# falcon search resnet-mini.onnx: {")
    assert f"# apply: kubectl apply --server-side -f {out}" in text
    model, config, deployment = yaml.safe_load_all(text)
    assert model["metadata"] == {
        "name": "resnet-mini-onnx",
        "namespace": "ml",
        "labels": {
            "app.kubernetes.io/name": "resnet-mini",
            "app.kubernetes.io/managed-by": "falcon-operator",
        },
    }
    assert config["metadata"]["name"] == "resnet-mini-model-config"
    volumes = deployment["spec"]["template"]["spec"]["volumes"]
    assert volumes[0]["configMap"]["name"] == "resnet-mini-onnx"
    printed = " ".join(capsys.readouterr().out.split())  # rich wraps long lines
    assert f"apply with kubectl apply --server-side -f {out}" in printed
    assert "kubectl create configmap" not in printed


def test_a_user_configmap_prints_the_line_that_creates_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _search(tmp_path, "--model-configmap", "weights", "--name", "svc")
    kinds = [d["kind"] for d in yaml.safe_load_all(out.read_text())]
    assert "\n# model: create it first: kubectl create configmap weights " in out.read_text()
    assert kinds == ["ConfigMap", "Deployment"]  # the model's ConfigMap is the user's
    printed = "".join(capsys.readouterr().out.split())  # rich folds long words too
    line = f"kubectl create configmap weights -n default --from-file=model.onnx={RESNET}"
    assert "".join(line.split()) in printed


def test_a_storage_uri_is_fetched_by_an_init_container(tmp_path: Path) -> None:
    out = _search(tmp_path, "--model-uri", "s3://bucket/resnet.onnx", "--model-secret", "s3")
    (deployment,) = [d for d in yaml.safe_load_all(out.read_text()) if d["kind"] == "Deployment"]
    fetch, prepare = deployment["spec"]["template"]["spec"]["initContainers"]
    assert fetch["args"] == ["s3://bucket/resnet.onnx", "/model-src"]
    assert fetch["envFrom"] == [{"secretRef": {"name": "s3"}}]
    assert "/model-src/resnet.onnx" in prepare["command"][2]


def test_the_triton_image_can_be_chosen(tmp_path: Path) -> None:
    def images(out: Path) -> list[str]:
        docs = yaml.safe_load_all(out.read_text())
        (deployment,) = [d for d in docs if d["kind"] == "Deployment"]
        return [c["image"] for c in deployment["spec"]["template"]["spec"]["containers"]]

    default = images(_search(tmp_path))
    assert default == ["nvcr.io/nvidia/tritonserver:24.08-py3"]  # the CRD's tritonImage default
    mirror = "registry.example.com/triton/tritonserver:24.08-py3"
    assert images(_search(tmp_path, "--triton-image", mirror)) == [mirror]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--model-uri", "ftp://h/m.onnx"], "must start with s3://, gs://, https:// or pvc://"),
        (["--model-uri", "pvc://claim"], "pvc://CLAIM/PATH"),
        (["--model-configmap", "Bad_Name"], "NAME must be a Kubernetes name"),
        (["--model-secret", "creds"], "--model-secret is for --model-uri"),
    ],
)
def test_bad_sources_fail_in_one_line_before_searching(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    out = tmp_path / "rec.yaml"
    assert main(["search", str(RESNET), "--knowledge", "paper", "--output", str(out), *extra]) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("falcon: error:") and message in captured.err
    assert captured.err.count("\n") == 1 and "trial" not in captured.out
    assert not out.exists()
