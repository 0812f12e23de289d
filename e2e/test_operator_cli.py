"""``falcon operator run`` start-up errors are one line and exit code 2, never a traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from falcon_e2e.cluster import Cluster


def test_a_busy_metrics_port_is_a_one_line_error(cluster: Cluster) -> None:
    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "falcon_operator.cli.main", "operator", "run",
             "--namespace", "default", "--no-leader-election", "--metrics-port", str(port)],
            env=dict(os.environ, KUBECONFIG=str(cluster.kubeconfig)),
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.startswith("falcon: error: cannot serve metrics on port"), proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
