"""falcon_trial ships in its own small image: stdlib, numpy and tritonclient only."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import falcon_trial

ALLOWED = {"falcon_trial", "numpy", "tritonclient"}
PACKAGE = Path(falcon_trial.__file__).parent


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module.split(".")[0])
    return names


def test_runner_modules_import_only_the_stdlib_numpy_and_tritonclient() -> None:
    files = list(PACKAGE.rglob("*.py"))  # the whole package is the runner
    assert len(files) >= 10
    for path in files:
        third_party = {n for n in _imports(path) if n not in sys.stdlib_module_names}
        assert third_party <= ALLOWED, f"{path.name} imports {third_party - ALLOWED}"


def test_running_the_cli_does_not_load_falcon_operator() -> None:
    code = (
        "import sys, falcon_trial.cli, falcon_trial.client as c; c.load_protocol('http'); "
        "print(sorted(m for m in sys.modules if m.startswith('falcon_operator')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
