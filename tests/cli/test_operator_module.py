"""``python -m falcon_operator.cli.operator``, the command the e2e harness starts the operator
with, runs ``falcon operator run`` (the entry point moved out of handlers/, which must not import
the CLI above it)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_module_entry_point_runs_the_operator_command(tmp_path: Path) -> None:
    missing = tmp_path / "nope"
    proc = subprocess.run(
        [
            *(sys.executable, "-W", "error", "-m", "falcon_operator.cli.operator"),
            *("--kubeconfig", str(missing), "--no-leader-election"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)),
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == f"falcon-operator: error: kubeconfig {missing} does not exist\n"
    assert proc.stdout == ""
