"""The layers are enforced and documented: the import contracts of pyproject.toml are kept,
README.md's Layout lists every package, and the generated docs (README Layout, the layer table of
docs/architecture.md) are current (``make docs`` rewrites them)."""

from __future__ import annotations

import os
import pkgutil
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from importlinter.cli import lint_imports

import docs_layout
import falcon_trial

REPO = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
CONTRACTS: dict[str, dict[str, Any]] = {c["id"]: c for c in CONFIG["contracts"]}
#: contracts that other work of issue 13 makes pass: strict, so that the marker goes when it does
PENDING: dict[str, str] = {}


def _contract(contract_id: str) -> Any:
    if contract_id in PENDING:
        return pytest.param(
            contract_id, marks=pytest.mark.xfail(strict=True, reason=PENDING[contract_id])
        )
    return contract_id


@pytest.mark.parametrize("contract_id", [_contract(c) for c in CONTRACTS])
def test_import_contract_is_kept(
    contract_id: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "path", list(sys.path))  # lint_imports prepends the cwd
    status = lint_imports(
        config_filename=str(REPO / "pyproject.toml"),
        limit_to_contracts=(contract_id,),
        no_cache=True,
        no_logo=True,
    )
    out = capsys.readouterr().out
    assert "Contracts: 1 kept, 0 broken." in out, out
    assert status == 0, out


def test_layers_contract_is_exhaustive_over_the_operator() -> None:
    contract = CONTRACTS["layers"]
    assert contract["containers"] == ["falcon_operator"]
    assert contract["exhaustive"] is True
    assert contract.get("exhaustive_ignores", []) == []
    listed = [name for layer in docs_layout.layers() for name in layer]
    assert sorted(listed) == sorted(u.name for u in docs_layout.units(docs_layout.OPERATOR))


def test_runner_schema_contract_forbids_every_other_runner_module() -> None:
    """The operator may import ``falcon_trial.schema`` only: the forbidden list must name every
    other module of the runner, including modules added later."""
    modules = {m.name for m in pkgutil.iter_modules(falcon_trial.__path__)}
    assert not any(m.ispkg for m in pkgutil.iter_modules(falcon_trial.__path__))
    expected = {f"falcon_trial.{m}" for m in modules - {"schema"}}
    contract = CONTRACTS["runner-schema"]
    assert contract["source_modules"] == ["falcon_operator"]
    assert set(contract["forbidden_modules"]) == expected
    assert not contract.get("allow_indirect_imports", False)
    assert "ignore_imports" not in contract


def test_spec_parsing_loads_no_heavy_package() -> None:
    """Parsing and resolving a spec loads no scikit-learn, scipy, onnx, kubernetes or kopf (spec
    imported search.registry, and through it scikit-learn, before search/methods.py)."""
    code = (
        "import sys, yaml\n"
        "from falcon_operator.core.catalog import load_catalog\n"
        "from falcon_operator.spec import parse_spec, resolve\n"
        "doc = yaml.safe_load(open(sys.argv[1]))\n"
        "resolve(parse_spec(doc['spec']), load_catalog())\n"
        "heavy = ('sklearn', 'scipy', 'onnx', 'onnxruntime', 'kubernetes', 'kopf')\n"
        "print(sorted(m for m in heavy if m in sys.modules))\n"
    )
    example = REPO / "examples" / "inference-config-search.yaml"
    proc = subprocess.run(
        [sys.executable, "-c", code, str(example)],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)),
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "[]\n"


def _readme_layout() -> str:
    text = (REPO / "README.md").read_text()
    return text[text.index("## Layout\n") : text.index("\n## ", text.index("## Layout\n") + 1)]


@pytest.mark.parametrize(
    ("root", "prefix"),
    [
        (docs_layout.OPERATOR, "operator/falcon_operator/"),
        (docs_layout.RUNNER, "trial-runner/falcon_trial/"),
    ],
)
def test_readme_layout_lists_every_package(root: Path, prefix: str) -> None:
    layout = _readme_layout()
    assert f"`{prefix}`" in layout
    labels = set(re.findall(r"^- `([^`]+)` — ", layout, flags=re.MULTILINE))
    for unit in docs_layout.units(root):
        assert unit.label in labels, f"README.md's Layout does not list {prefix}{unit.label}"
    if root == docs_layout.OPERATOR:
        assert "data/" in labels


def test_generated_docs_are_current() -> None:
    for path, body in (
        (docs_layout.README, docs_layout.readme_layout()),
        (docs_layout.ARCHITECTURE, docs_layout.architecture_layers()),
    ):
        assert docs_layout.generated(path.read_text()) == body, (
            f"{path.relative_to(REPO)} is stale: run make docs"
        )


def test_summary_is_the_first_sentence_in_markdown() -> None:
    doc = (
        "The kopf layer: the only code that imports ``kopf``. More here.\n\n"
        "- :mod:`~falcon_operator.handlers.app` — settings."
    )
    assert docs_layout.summary(doc) == "The kopf layer: the only code that imports `kopf`."
    assert docs_layout.summary("Spaces (``core.space``,\nrecords) e.g. this") == (
        "Spaces (`core.space`, records) e.g. this"
    )
