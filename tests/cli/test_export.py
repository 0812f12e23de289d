"""``falcon export``: the manifests made from a (fake) finished search, and its one-line errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.client import CustomObjectsApi
from kubernetes.client.exceptions import ApiException

from falcon_operator.cli import export
from falcon_operator.cli.main import main

PBTXT = 'name: "resnet-mini"\nplatform: "onnxruntime_onnx"\nmax_batch_size: 8\n'


def finished_search(**status: Any) -> dict[str, Any]:
    """An InferenceConfigSearch as the API server returns it after a successful search."""
    configmap = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": "resnet-mini-model-config",
            "namespace": "ml",
            "labels": {"app.kubernetes.io/name": "resnet-mini"},
        },
        "data": {"config.pbtxt": PBTXT},
    }
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "resnet-mini",
            "namespace": "ml",
            "labels": {"app.kubernetes.io/name": "resnet-mini"},
            "annotations": {
                "autoconfig.falcon.io/configuration": '{"batchsize": 8, "gputype": "T4"}',
                "kubectl.kubernetes.io/last-applied-configuration": "{}",
            },
            # what a careless copy from a live object would carry
            "uid": "0b5c",
            "resourceVersion": "42",
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "managedFields": [{"manager": "falcon-operator"}],
            "ownerReferences": [{"kind": "InferenceConfigSearch", "name": "resnet-mini"}],
        },
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "resnet-mini"}},
            "template": {
                "metadata": {
                    "labels": {"app.kubernetes.io/name": "resnet-mini"},
                    "creationTimestamp": None,
                },
                "spec": {"containers": [{"name": "triton", "image": "tritonserver"}]},
            },
        },
        "status": {"replicas": 0},
    }
    base: dict[str, Any] = {
        "phase": "Succeeded",
        "finishedAt": "2026-01-01T00:01:00Z",
        "trials": {"progress": "3/3"},
        "best": {
            "trial": "resnet-mini-t001",
            "gpu": "T4",
            "rps": 812.5,
            "p99Ms": 12.1,
            "costPerHour": 0.35,
            "objective": 2321.4,
        },
        "recommendation": deployment,
        "recommendedModelConfig": configmap,
    }
    return {
        "apiVersion": "autoconfig.falcon.io/v1alpha1",
        "kind": "InferenceConfigSearch",
        "metadata": {"name": "resnet-mini", "namespace": "ml", "uid": "abc"},
        "status": base | status,
    }


def test_manifests_are_the_configmap_then_the_deployment_without_server_fields() -> None:
    search = finished_search()
    configmap, deployment = export.manifests(search)
    assert configmap["kind"] == "ConfigMap" and configmap["data"]["config.pbtxt"] == PBTXT
    assert deployment["kind"] == "Deployment"
    meta = deployment["metadata"]
    assert set(meta) == {"name", "namespace", "labels", "annotations"}
    assert list(meta["annotations"]) == ["autoconfig.falcon.io/configuration"]
    assert "status" not in deployment
    assert "creationTimestamp" not in deployment["spec"]["template"]["metadata"]
    # the search object itself is left as it was
    assert "uid" in search["status"]["recommendation"]["metadata"]


def test_yaml_output_is_a_commented_stream_with_the_pbtxt_as_a_block() -> None:
    text = export.render(finished_search(), "yaml")
    assert text.startswith("# recommendation of InferenceConfigSearch ml/resnet-mini\n")
    assert "# best trial resnet-mini-t001: T4, 812.5 req/s" in text
    assert "config.pbtxt: |" in text
    docs = [d for d in yaml.safe_load_all(text) if d is not None]
    assert [d["kind"] for d in docs] == ["ConfigMap", "Deployment"]
    assert docs[0]["data"]["config.pbtxt"] == PBTXT


def test_json_output_is_a_v1_list() -> None:
    obj = json.loads(export.render(finished_search(), "json"))
    assert obj["apiVersion"] == "v1" and obj["kind"] == "List"
    assert [i["kind"] for i in obj["items"]] == ["ConfigMap", "Deployment"]


def test_a_search_without_model_config_exports_the_deployment_only() -> None:
    objs = export.manifests(finished_search(recommendedModelConfig=None))
    assert [o["kind"] for o in objs] == ["Deployment"]


def test_a_failed_search_with_a_recommendation_still_exports_it() -> None:
    # reason OutputFailed: the recommendation stays in the status
    objs = export.manifests(finished_search(phase="Failed", message="cannot write"))
    assert objs[-1]["kind"] == "Deployment"


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({"phase": "Running"}, "has not finished yet (Running, 3/3 trials)"),
        ({"phase": None, "trials": None}, "has not finished yet (Pending)"),
        ({"phase": "Failed", "message": "all trials failed"}, "Failed without a recommendation"),
    ],
)
def test_no_recommendation_is_a_one_line_error(status: dict[str, Any], expected: str) -> None:
    search = finished_search(recommendation=None, **status)
    with pytest.raises(export.ExportError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        export.manifests(search)


def _kubeconfig(tmp_path: Path, namespace: str | None = None) -> Path:
    context: dict[str, Any] = {"cluster": "c", "user": "u"}
    if namespace:
        context["namespace"] = namespace
    cfg = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:1"}}],
        "users": [{"name": "u", "user": {"token": "t"}}],
        "contexts": [{"name": "ctx", "context": context}],
        "current-context": "ctx",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(cfg))
    return path


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("falcon: error: "), captured.err
    return lines[0]


def test_a_missing_kubeconfig_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    assert main(["export", "x", "--kubeconfig", str(tmp_path / "nope")]) == 2
    assert "does not exist" in _one_line_error(capsys)
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "empty"))
    (tmp_path / "empty").write_text("")
    assert main(["export", "x"]) == 2
    assert "no usable kubeconfig" in _one_line_error(capsys)


def test_an_unreachable_api_server_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export", "x", "--kubeconfig", str(_kubeconfig(tmp_path))]) == 2
    assert "cannot reach the API server http://127.0.0.1:1" in _one_line_error(capsys)


def _serve(monkeypatch: pytest.MonkeyPatch, answer: Any) -> list[tuple[Any, ...]]:
    calls: list[tuple[Any, ...]] = []

    class Response:
        data = b"" if isinstance(answer, ApiException) else json.dumps(answer).encode()

    def get(self: CustomObjectsApi, *args: Any, **kw: Any) -> Response:
        calls.append(args)
        if isinstance(answer, ApiException):
            raise answer
        return Response()

    monkeypatch.setattr(CustomObjectsApi, "get_namespaced_custom_object", get)
    return calls


def test_not_found_exits_2_and_the_namespace_defaults_to_the_context(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _serve(monkeypatch, ApiException(status=404, reason="Not Found"))
    assert main(["export", "x", "--kubeconfig", str(_kubeconfig(tmp_path, "ml"))]) == 2
    assert _one_line_error(capsys).endswith("InferenceConfigSearch ml/x not found")
    assert calls[0][2:] == ("ml", "inferenceconfigsearches", "x")


def test_export_prints_the_manifests(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = _serve(monkeypatch, finished_search())
    cfg = str(_kubeconfig(tmp_path))
    assert main(["export", "resnet-mini", "-n", "ml", "-o", "json", "--kubeconfig", cfg]) == 0
    assert calls[0][2] == "ml"
    out = json.loads(capsys.readouterr().out)
    assert [i["kind"] for i in out["items"]] == ["ConfigMap", "Deployment"]
    _serve(monkeypatch, finished_search(recommendation=None, phase="Running"))
    assert main(["export", "resnet-mini", "-n", "ml", "--kubeconfig", cfg]) == 2
    assert "has not finished yet" in _one_line_error(capsys)


def test_output_writes_the_file_and_format_picks_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _serve(monkeypatch, finished_search())
    cfg, out = str(_kubeconfig(tmp_path)), tmp_path / "rec.json"
    argv = ["export", "resnet-mini", "-n", "ml", "--kubeconfig", cfg]
    assert main([*argv, "--format", "json", "-o", str(out)]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == f"wrote {out}\n"
    assert [i["kind"] for i in json.loads(out.read_text())["items"]] == ["ConfigMap", "Deployment"]
    assert main([*argv, "--output", str(out)]) == 0  # yaml by default, replacing the file
    assert out.read_text().startswith("# recommendation of InferenceConfigSearch ml/")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kubeconfig", "rec.json"]


def test_a_failed_export_leaves_no_file_and_keeps_an_old_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _serve(monkeypatch, finished_search(recommendation=None, phase="Running"))
    cfg, out = str(_kubeconfig(tmp_path)), tmp_path / "rec.yaml"
    assert main(["export", "resnet-mini", "--kubeconfig", cfg, "-o", str(out)]) == 2
    assert "has not finished yet" in _one_line_error(capsys)
    assert not out.exists()
    out.write_text("old\n")
    assert main(["export", "resnet-mini", "--kubeconfig", cfg, "-o", str(out)]) == 2
    _one_line_error(capsys)
    assert out.read_text() == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kubeconfig", "rec.yaml"]


def test_an_unwritable_output_is_a_one_line_error_and_leaves_no_temporary_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _serve(monkeypatch, finished_search())
    cfg = str(_kubeconfig(tmp_path))
    missing = tmp_path / "nope" / "rec.yaml"
    assert main(["export", "resnet-mini", "--kubeconfig", cfg, "-o", str(missing)]) == 2
    assert "folder" in _one_line_error(capsys) and not missing.parent.exists()

    def full(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("os.replace", full)
    out = tmp_path / "rec.yaml"
    assert main(["export", "resnet-mini", "--kubeconfig", cfg, "-o", str(out)]) == 2
    assert _one_line_error(capsys).endswith("rec.yaml: cannot write: No space left on device")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kubeconfig"]


def test_the_old_format_spelling_still_works_with_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _serve(monkeypatch, finished_search())
    _kubeconfig(tmp_path)
    monkeypatch.chdir(tmp_path)
    assert main(["export", "resnet-mini", "-o", "json", "--kubeconfig", "kubeconfig"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["kind"] == "List"
    assert "now means --format json" in captured.err
    assert not (tmp_path / "json").exists()
    assert main(["export", "resnet-mini", "-o", "./json", "--kubeconfig", "kubeconfig"]) == 0
    assert (tmp_path / "json").read_text().startswith("# recommendation")


def test_the_exported_kind_is_the_crd_kind() -> None:
    from falcon_operator.spec.constants import KIND

    assert export.KIND == KIND
