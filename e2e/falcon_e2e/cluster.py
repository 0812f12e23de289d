"""Start (or reuse) the e2e cluster from Python; the work is done by e2e/cluster/cluster.sh."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

REPO = Path(__file__).resolve().parents[2]
CLUSTER_SH = REPO / "e2e" / "cluster" / "cluster.sh"
VERSIONS_ENV = REPO / "e2e" / "cluster" / "versions.env"

T = TypeVar("T")


class ClusterError(RuntimeError):
    """The e2e environment could not be built or started; the message says why."""


def versions() -> dict[str, str]:
    """KEY=VALUE pairs of e2e/cluster/versions.env."""
    out: dict[str, str] = {}
    for line in VERSIONS_ENV.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            out[key] = value
    return out


def _sh(
    *args: str, check: bool = True, log: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env.setdefault("PY", sys.executable)
    if log is None:
        return subprocess.run(
            [str(CLUSTER_SH), *args], env=env, text=True, capture_output=True, check=check
        )
    with log.open("w") as fh:
        proc = subprocess.run(
            [str(CLUSTER_SH), *args], env=env, text=True, stdout=fh, stderr=subprocess.STDOUT
        )
    if check and proc.returncode != 0:
        tail = "\n".join(log.read_text().splitlines()[-40:])
        raise ClusterError(
            f"`{CLUSTER_SH} {' '.join(args)}` failed (exit {proc.returncode}); "
            f"last lines of {log}:\n{tail}"
        )
    return proc


@dataclass
class Cluster:
    kubeconfig: Path
    binaries: dict[str, Path]
    started_here: bool
    startup_seconds: float

    def binary(self, name: str) -> Path:
        return self.binaries[name]

    def tool(self, name: str, *args: str, stdin: str | None = None) -> str:
        """Run a cached tool (kubectl, helm) against this cluster; stdout, or a failed assert."""
        proc = subprocess.run(
            [str(self.binary(name)), *args],
            input=stdin,
            env=dict(os.environ, KUBECONFIG=str(self.kubeconfig)),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert proc.returncode == 0, f"{name} {' '.join(args)}: {proc.stderr}"
        return proc.stdout

    def import_image(self, archive: Path) -> list[str]:
        """Import an OCI image archive into the real node's containerd (namespace k8s.io).

        The archive's index must name the image in normalised form
        (``io.containerd.image.name: docker.io/falcon/x:tag``); pods use that name with
        ``imagePullPolicy: Never``. Returns the names imported; ClusterError if it fails.
        """
        proc = _sh("import-image", str(archive), check=False)
        if proc.returncode != 0:
            raise ClusterError(f"importing {archive} failed: {proc.stderr.strip()}")
        return proc.stdout.split()

    def stop(self) -> None:
        _sh("down")

    def process(self, component: str) -> tuple[int, str] | None:
        """(pid, command line) of this cluster's ``component`` process (kube-apiserver,
        kube-controller-manager, ...; kwokctl runs them from the cluster's directory), or None
        when it is not running."""
        where = str(self.kubeconfig.parent)
        out = subprocess.run(["pgrep", "-f", component], capture_output=True, text=True)
        for pid in out.stdout.split():
            try:
                raw = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:  # gone meanwhile
                continue
            cmd = raw.replace(b"\0", b" ").decode(errors="replace")
            binary = cmd.split(" ", 1)[0]
            if binary.endswith(f"/{component}") and where in cmd:
                return int(pid), cmd
        return None


def up(log: Path) -> Cluster:
    """Bring the cluster up (building binaries if needed) or reuse a running one."""
    if not CLUSTER_SH.exists():
        raise ClusterError(f"{CLUSTER_SH} is missing")
    was_running = _sh("status", check=False).returncode == 0
    t0 = time.monotonic()
    _sh("up", log=log)
    elapsed = time.monotonic() - t0
    env = dict(line.split("=", 1) for line in _sh("env").stdout.splitlines() if "=" in line)
    kubeconfig = Path(env.pop("KUBECONFIG"))
    binaries = {
        k.removeprefix("FALCON_E2E_").lower().replace("_", "-"): Path(v) for k, v in env.items()
    }
    if not kubeconfig.exists():
        raise ClusterError(f"cluster is up but its kubeconfig {kubeconfig} does not exist")
    return Cluster(kubeconfig, binaries, started_here=not was_running, startup_seconds=elapsed)


def wait_for(
    fn: Callable[[], T | None], timeout: float = 30.0, interval: float = 0.25, what: str = ""
) -> T:
    """Call ``fn`` until it returns something truthy; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what or fn}; last: {last!r}")
