"""The Helm chart charts/falcon-operator, checked without helm (e2e/test_chart.py runs helm).

Its CRDs are exact copies of crds/ (``make chart-crds``), every value in values.yaml has a
comment, and values.schema.json describes exactly the keys of values.yaml and closes every
object with ``additionalProperties: false``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
CHART = REPO / "charts" / "falcon-operator"


def test_chart_crds_are_copies_of_crds() -> None:
    source = {p.name: p.read_bytes() for p in (REPO / "crds").glob("*.yaml")}
    copied = {p.name: p.read_bytes() for p in (CHART / "files" / "crds").glob("*.yaml")}
    assert source, "crds/ is empty"
    assert copied == source, (
        "charts/falcon-operator/files/crds/ differs from crds/: run make chart-crds"
    )


def test_every_value_is_commented() -> None:
    lines = (CHART / "values.yaml").read_text().splitlines()
    key = re.compile(r"^(\s*)([A-Za-z][\w.-]*):")
    for i, line in enumerate(lines):
        if key.match(line):
            above = lines[i - 1].strip() if i else ""
            assert above.startswith("#"), f"values.yaml:{i + 1}: {line.strip()} has no comment"


def _keys(values: dict[str, Any], schema: dict[str, Any], where: str) -> None:
    assert schema.get("additionalProperties") is False, f"{where}: additionalProperties not false"
    props = schema["properties"]
    assert set(values) == set(props), f"{where}: values {sorted(values)} != schema {sorted(props)}"
    for name, value in values.items():
        sub = props[name]
        if sub.get("type") == "object" and "properties" in sub:
            _keys(value, sub, f"{where}.{name}")


def test_schema_describes_exactly_the_values_and_is_closed() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    schema = json.loads((CHART / "values.schema.json").read_text())
    _keys(values, schema, "values")


def test_chart_and_app_versions_match_the_project() -> None:
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    chart = yaml.safe_load((CHART / "Chart.yaml").read_text())
    assert chart["appVersion"] == project["version"]
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert values["runnerImage"].endswith(f":{project['version']}")


def test_rbac_has_no_wildcards() -> None:
    for path in (CHART / "templates").glob("*"):
        text = path.read_text()
        assert not re.search(r"""(verbs|resources|apiGroups):\s*\[[^\]]*["']?\*""", text), path
        assert not re.search(r"""^\s*-\s*["']?\*["']?\s*$""", text, re.M), path


def test_init_container_images_default_to_the_operators() -> None:
    from falcon_operator.trials.source import SourceImages

    values = yaml.safe_load((CHART / "values.yaml").read_text())
    template = (CHART / "templates" / "deployment.yaml").read_text()
    assert values["prepareImage"] == SourceImages().prepare
    assert values["storageInitializerImage"] == SourceImages().storage_initializer
    assert "--prepare-image={{ .Values.prepareImage }}" in template
    assert "--storage-initializer-image={{ .Values.storageInitializerImage }}" in template


def test_notes_name_files_that_exist_from_the_repository_root() -> None:
    notes = (CHART / "templates" / "NOTES.txt").read_text()
    paths = re.findall(r"(?:=|-f )((?:operator|examples|crds)/[\w./-]*)", notes)
    assert "operator/falcon_operator/data/models/resnet-mini.onnx" in paths
    for path in paths:
        assert (REPO / path).exists(), f"NOTES.txt names {path}, which does not exist"


def test_name_overrides_are_values_and_used_by_every_name() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert values["nameOverride"] == "" and values["fullnameOverride"] == ""
    helpers = (CHART / "templates" / "_helpers.tpl").read_text()
    assert ".Values.fullnameOverride" in helpers and ".Values.nameOverride" in helpers
    for path in (CHART / "templates").glob("*.yaml"):
        assert ".Chart.Name" not in path.read_text(), f"{path.name}: use falcon-operator.name"


def test_the_image_policy_defaults_to_the_pinned_triton_image() -> None:
    from falcon_operator.reconcile.imagepolicy import ImagePolicy

    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert tuple(values["imagePolicy"]["allowedTritonImages"]) == ImagePolicy().allowed
    assert values["imagePolicy"]["requireDigests"] is False
    template = (CHART / "templates" / "deployment.yaml").read_text()
    assert '"--allowed-triton-image=%s"' in template and "--require-image-digests" in template
