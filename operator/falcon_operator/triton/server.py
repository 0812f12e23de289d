"""Start real ``tritonserver`` on loopback, wait until it is ready, stop it cleanly, read its log.

The server runs from the installed server root (``make triton``) with explicit model control
(the repository API loads and unloads models, as trials use it), HTTP, gRPC and metrics bound
to 127.0.0.1 on free ports, and a short ``--exit-timeout-secs`` so SIGTERM does not take 30 s.
Its environment (:func:`server_env`) puts the root's ``lib/`` and libpython's folder on
``LD_LIBRARY_PATH``, the stub's virtual environment (numpy < 2, onnx, onnxruntime) first on
``PATH`` -- the Python backend's stub runs ``model.py`` with that Python -- and this checkout's
falcon_operator on ``FALCON_PYTHONPATH`` (the stub runs Python isolated and ignores
``PYTHONPATH``; the backend adds these folders to ``sys.path`` itself). Extra variables
(``FALCON_TRIAL_CONFIG``, ``FALCON_TIME_SCALE``, ...) play the container's ``env``.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sysconfig
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import falcon_operator
from falcon_operator.core.errors import FalconError
from falcon_operator.triton.install import (
    missing,
    server_root,
    stub_env,
    stub_env_ready,
    sync_backend,
)

ADDRESS = "127.0.0.1"


class TritonError(FalconError):
    """The server is not installed, did not start, or refused a request."""


@dataclass(frozen=True)
class Ports:
    http: int
    grpc: int
    metrics: int


def free_ports() -> Ports:
    """Three distinct free TCP ports on 127.0.0.1."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(3)]
        for s in socks:
            s.bind((ADDRESS, 0))
        a, b, c = (s.getsockname()[1] for s in socks)
    return Ports(a, b, c)


def require_root(root: Path | None = None) -> Path:
    """The installed server root; TritonError("... run make triton") when incomplete."""
    root = root or server_root()
    if (root / "bin" / "tritonserver").is_file():  # this checkout's backend, even when make
        with contextlib.suppress(OSError):  # triton ran before an update; a read-only root
            sync_backend(root)  # keeps the backend it was built with
    absent = missing(root) or ([] if stub_env_ready(stub_env()) else [str(stub_env())])
    if absent:
        raise TritonError(
            f"Triton Inference Server is not installed at {root} (missing {absent[0]}): "
            "run make triton"
        )
    return root


def _joined(*parts: str) -> str:
    return ":".join(p for p in parts if p)


def server_env(
    root: Path, *, python: Path | None = None, env: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The process environment tritonserver needs (on top of ``env``, default os.environ)."""
    out = dict(os.environ if env is None else env)
    python = python or stub_env() / "bin" / "python"
    libdir = str(sysconfig.get_config_var("LIBDIR") or "")
    out["LD_LIBRARY_PATH"] = _joined(str(root / "lib"), libdir, out.get("LD_LIBRARY_PATH", ""))
    out["PATH"] = _joined(str(python.parent), out.get("PATH", ""))
    package_parent = str(Path(falcon_operator.__file__).resolve().parent.parent)
    out["FALCON_PYTHONPATH"] = _joined(package_parent, out.get("FALCON_PYTHONPATH", ""))
    return out


def command(
    root: Path,
    repository: Path,
    ports: Ports,
    *,
    models: Sequence[str] = (),
    exit_timeout_s: int = 1,
) -> list[str]:
    """The tritonserver command line (explicit model control, loopback only)."""
    return [
        str(root / "bin" / "tritonserver"),
        f"--model-repository={repository}",
        f"--backend-directory={root / 'backends'}",
        f"--cache-directory={root / 'caches'}",
        "--model-control-mode=explicit",
        *(f"--load-model={m}" for m in models),
        f"--http-address={ADDRESS}",
        f"--http-port={ports.http}",
        f"--grpc-address={ADDRESS}",
        f"--grpc-port={ports.grpc}",
        f"--metrics-address={ADDRESS}",
        f"--metrics-port={ports.metrics}",
        f"--exit-timeout-secs={exit_timeout_s}",
    ]


def pin(cores: Sequence[int]) -> list[str]:
    """The command prefix that runs a process (and every process it starts) on ``cores``.

    ``taskset`` execs the server in place (same process id), so nothing runs in the child
    between fork and exec (a ``preexec_fn`` would, which is unsafe with threads: the progress
    bar's, for one)."""
    taskset = shutil.which("taskset")
    if taskset is None:
        raise TritonError("cannot pin tritonserver to CPU cores: taskset (util-linux) not found")
    wanted, allowed = set(cores), os.sched_getaffinity(0)
    if not wanted or not wanted <= allowed:
        raise TritonError(
            f"cannot pin tritonserver to cores {sorted(wanted)}: this process may use "
            f"cores {sorted(allowed)}"
        )
    return [taskset, "--cpu-list", ",".join(str(c) for c in sorted(cores))]


class TritonServer:
    """One tritonserver process serving ``repository`` (a context manager); with ``cores``, it
    and its backend stubs run only on those CPU cores (``taskset``)."""

    def __init__(
        self,
        repository: Path | str,
        *,
        models: Sequence[str] = (),
        env: Mapping[str, str] | None = None,
        root: Path | None = None,
        log_path: Path | None = None,
        exit_timeout_s: int = 1,
        cores: Sequence[int] | None = None,
    ) -> None:
        self.root = require_root(root)
        self.repository = Path(repository)
        self.ports = free_ports()
        self.env = server_env(self.root) | dict(env or {})
        self.argv = command(self.root, self.repository, self.ports, models=models,
                            exit_timeout_s=exit_timeout_s)  # fmt: skip
        if cores is not None:
            self.argv = [*pin(cores), *self.argv]
        self.log_path = log_path or Path(tempfile.mkstemp(prefix="tritonserver-", suffix=".log")[1])
        self.exit_timeout_s = exit_timeout_s
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{ADDRESS}:{self.ports.http}"

    @property
    def metrics_url(self) -> str:
        return f"http://{ADDRESS}:{self.ports.metrics}/metrics"

    def start(self, *, ready_timeout_s: float = 120.0) -> TritonServer:
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                self.argv, env=self.env, stdout=log, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + ready_timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise TritonError(f"tritonserver exited ({self.process.returncode}): {self.tail()}")
            if self._get("/v2/health/ready")[0] == 200:
                return self
            time.sleep(0.2)
        self.stop()
        raise TritonError(f"tritonserver not ready after {ready_timeout_s:g} s: {self.tail()}")

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after the exit timeout plus a margin; the exit code."""
        p = self.process
        if p is None:
            return None
        if p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                p.send_signal(signal.SIGTERM)
            try:
                p.wait(timeout=self.exit_timeout_s + 20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=10)
        return p.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def tail(self, lines: int = 8) -> str:
        """The log's last error lines (else its last lines), joined on one line."""
        errors = [ln for ln in self.log().splitlines() if ln.startswith(("E", "error"))]
        return " | ".join((errors or self.log().splitlines())[-lines:]) or "(empty log)"

    def _get(self, path: str, *, method: str = "GET", body: bytes | None = None) -> tuple[int, str]:
        request = urllib.request.Request(self.url + path, data=body, method=method)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return int(response.status), response.read().decode(errors="replace")
        except urllib.error.HTTPError as exc:
            return int(exc.code), exc.read().decode(errors="replace")
        except (urllib.error.URLError, OSError):
            return 0, ""

    def model_ready(self, model: str) -> bool:
        return self._get(f"/v2/models/{model}/ready")[0] == 200

    def model_config(self, model: str) -> dict[str, Any]:
        """The configuration Triton serves the model with (after auto-complete)."""
        status, text = self._get(f"/v2/models/{model}/config")
        if status != 200:
            raise TritonError(f"no configuration of model {model}: {status} {text[:200]}")
        config: dict[str, Any] = json.loads(text)
        return config

    def load(self, model: str) -> None:
        """Load (or reload from the repository) ``model``; TritonError when refused."""
        self._repository_call(model, "load")

    def unload(self, model: str) -> None:
        self._repository_call(model, "unload")

    def _repository_call(self, model: str, action: str) -> None:
        status, text = self._get(f"/v2/repository/models/{model}/{action}", method="POST", body=b"")
        if status != 200:
            raise TritonError(f"{action} of {model} refused: {status} {text[:300]}")

    def __enter__(self) -> TritonServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
