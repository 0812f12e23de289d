"""The documentation: docs/crd-reference.md is generated from the CRD and must be current.

``make docs`` regenerates it; this test fails (so CI catches drift) while the committed file
differs from what :mod:`falcon_operator.crd_reference` produces from ``crds/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from falcon_operator import crd_reference

REPO = Path(__file__).resolve().parents[1]
CRD = REPO / "crds" / "autoconfig.falcon.io_inferenceconfigsearches.yaml"
REFERENCE = REPO / "docs" / "crd-reference.md"


def _leaf_paths(schema: dict[str, Any], path: str = "") -> set[str]:
    """Every property path of the schema, array items written as ``[]``."""
    paths: set[str] = set()
    for name, child in schema.get("properties", {}).items():
        field = f"{path}.{name}" if path else name
        paths.add(field)
        paths |= _leaf_paths(child, field)
        items = child.get("items")
        if isinstance(items, dict):
            paths |= _leaf_paths(items, field + "[]")
    return paths


def _rules(node: Any) -> Iterator[str]:
    """Every CEL rule anywhere in the schema."""
    if isinstance(node, dict):
        for rule in node.get("x-kubernetes-validations", []):
            yield rule["rule"]
        for value in node.values():
            yield from _rules(value)
    elif isinstance(node, list):
        for value in node:
            yield from _rules(value)


def test_crd_reference_is_current() -> None:
    assert crd_reference.CRD_PATH == CRD
    assert REFERENCE.read_text() == crd_reference.render_file(CRD), (
        "docs/crd-reference.md differs from the CRD: run make docs"
    )


def test_reference_documents_every_field_and_rule() -> None:
    crd = yaml.safe_load(CRD.read_text())
    text = crd_reference.render(crd)
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    for field in _leaf_paths(schema):
        assert f"`{field}`" in text, field
    rules = list(_rules(schema))
    assert len(rules) >= 8
    for rule in rules:  # in a list, or in a table cell with its pipes escaped
        code = f"`{' '.join(rule.split())}`"
        assert code in text or code.replace("|", "\\|") in text, rule


def test_constraints_and_types() -> None:
    schema = {
        "type": "array",
        "items": {"type": "integer", "minimum": 1, "maximum": 8},
        "minItems": 1,
        "x-kubernetes-list-type": "set",
    }
    assert crd_reference.type_of(schema) == "[]integer"
    assert crd_reference.constraints(schema) == (
        "items ≥ 1; each item: 1 ≤ value ≤ 8; distinct values (set)"
    )
    exclusive = {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": 1}
    assert crd_reference.constraints(exclusive) == "0 < value ≤ 1"
    mapping = {"type": "object", "additionalProperties": {"type": "number"}}
    assert crd_reference.type_of(mapping) == "map[string]number"


def test_check_mode_reports_a_stale_file(tmp_path: Path) -> None:
    out = tmp_path / "ref.md"
    assert crd_reference.main(["--out", str(out), "--check"]) == 1
    assert crd_reference.main(["--out", str(out)]) == 0
    assert crd_reference.main(["--out", str(out), "--check"]) == 0
    assert out.read_text() == REFERENCE.read_text()


def test_prices_doc_matches_the_catalog() -> None:
    """docs/prices.md's table of derived GPU-hour prices is the shipped catalog's."""
    from falcon_operator.core.catalog import load_catalog

    catalog = load_catalog()
    rows: dict[str, list[str]] = {}
    for line in (REPO / "docs" / "prices.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 9 and cells[0] in catalog.gpus:
            rows[cells[0]] = cells
    assert set(rows) == set(catalog.gpus)
    for name, gpu in catalog.gpus.items():
        cells = rows[name]
        assert cells[1] == f"`{gpu.product}`", name
        assert float(cells[7].strip("*")) == round(gpu.hour, 4), name


def test_fleet_doc_matches_the_catalog() -> None:
    """docs/fleet.md's catalog table shows the shipped catalog's rows, paper columns included."""
    from falcon_operator.core.catalog import shipped_catalog

    catalog = shipped_catalog()
    rows: dict[str, list[str]] = {}
    text = (REPO / "docs" / "fleet.md").read_text()
    table = text[text.index("## Catalog") : text.index("## Performance model")]
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 9 and cells[0] in catalog.gpus:
            rows[cells[0]] = cells
    assert list(rows) == list(catalog.gpus)
    for name, gpu in catalog.gpus.items():
        cells = rows[name]
        assert cells[1] == gpu.product, name
        assert (float(cells[2]), float(cells[3]), float(cells[4])) == (
            gpu.fp32_tflops,
            gpu.bandwidth_gbs,
            gpu.memory_gb,
        ), name
        assert cells[5] == (str(gpu.memory_mib) if gpu.memory_mib else "—"), name
        assert float(cells[6]) == gpu.tdp_w, name
        paper = f"{gpu.paper_code}, {gpu.paper_instance}" if gpu.paper_code else "—"
        assert cells[8] == paper, name
