"""Run NVIDIA Triton Model Analyzer (MA) against our real Triton and read back what it measured.

:func:`run_model_analyzer` writes MA's input repository (the model with
:func:`~falcon_operator.live.analyzer_config.base_config`), starts tritonserver on it with
explicit model control, pinned to ``cores``, runs ``model-analyzer profile -f <yaml>`` in remote
launch mode against it (MA loads each variant it generates through the repository API), always
stops the server, and parses the CSV, log and variant configs
(:mod:`~falcon_operator.live.analyzer_results`). MA comes from ``make model-analyzer``
($FALCON_CACHE/model-analyzer/1.58.0/venv), perf_analyzer from ``make perf-analyzer``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from falcon_operator.live.analyzer_config import base_config, profile_config, profile_yaml
from falcon_operator.live.analyzer_results import (
    AnalyzerError,
    AnalyzerMeasurement,
    AnalyzerResultsError,
    read_results,
)
from falcon_operator.triton.repository import write_model
from falcon_operator.triton.server import TritonServer

__all__ = [
    "AnalyzerError",
    "AnalyzerFailedError",
    "AnalyzerMeasurement",
    "AnalyzerMissingError",
    "AnalyzerResultsError",
    "AnalyzerRun",
    "run_model_analyzer",
]

MA_VERSION = "1.58.0"
PA_VERSION = "2.41.0"


class AnalyzerMissingError(AnalyzerError):
    """model-analyzer (or the perf_analyzer it drives) is not installed."""


class AnalyzerFailedError(AnalyzerError):
    """model-analyzer exited non-zero or ran past its timeout."""


@dataclass(frozen=True)
class AnalyzerRun:
    mode: str  # "quick" | "brute"
    measurements: tuple[AnalyzerMeasurement, ...]  # in measurement order
    wall_s: float
    command: tuple[str, ...]


def _cache() -> Path:
    return Path(os.environ.get("FALCON_CACHE", Path.home() / ".cache" / "falcon-operator"))


def analyzer_path() -> Path:
    """The installed ``model-analyzer``; AnalyzerMissingError when absent."""
    path = _cache() / "model-analyzer" / MA_VERSION / "venv" / "bin" / "model-analyzer"
    if not os.access(path, os.X_OK):
        raise AnalyzerMissingError(
            f"Triton Model Analyzer {MA_VERSION} is not installed at {path}: "
            "run make model-analyzer"
        )
    return path


def perf_analyzer_path() -> Path:
    """The perf_analyzer launcher MA drives; AnalyzerMissingError when absent."""
    path = _cache() / "perf_analyzer" / PA_VERSION / "perf_analyzer"
    if not os.access(path, os.X_OK):
        raise AnalyzerMissingError(
            f"perf_analyzer {PA_VERSION} is not installed at {path}: run make perf-analyzer"
        )
    return path


def _stderr_log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _error_lines(log: str, lines: int = 3) -> str:
    """The last error lines of MA's log (else its last lines), joined on one line."""
    text = [ln.strip() for ln in log.splitlines() if ln.strip()]
    errors = [ln for ln in text if "rror" in ln or "failed" in ln or "Exception" in ln]
    return " | ".join((errors or text)[-lines:]) or "(no output)"


def _layout(work_dir: Path) -> dict[str, Path]:
    """The folders of one run under ``work_dir`` (created)."""
    names = {"repository": "models", "output": "output", "export": "export",
             "checkpoints": "checkpoints"}  # fmt: skip
    work_dir.mkdir(parents=True)
    return {key: work_dir / name for key, name in names.items()}


def _run(
    argv: Sequence[str], *, cwd: Path, env: dict[str, str], out: IO[bytes], timeout_s: float
) -> int | None:
    """The exit code; None after killing MA and its perf_analyzer (its session) at the timeout."""
    process = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        return process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return None


def run_model_analyzer(
    model: Path,
    *,
    mode: str,
    slo_p99_ms: float,
    instances: Sequence[int],
    batch_sizes: Sequence[int],
    concurrencies: Sequence[int],
    cores: Sequence[int],
    work_dir: Path,
    timeout_s: float = 1800,
    log: Callable[[str], None] = _stderr_log,
) -> AnalyzerRun:
    """MA's ``mode`` search of the ONNX ``model`` on real CPU Triton pinned to ``cores``.

    ``work_dir`` (emptied first) keeps everything: ``models/`` (input repository),
    ``output/`` (MA's variant configs), ``export/`` (CSV, reports), ``checkpoints/``,
    ``profile.yaml``, ``model-analyzer.log`` and ``tritonserver.log``.
    """
    work_dir = work_dir.resolve()  # model-analyzer runs in its own working directory
    binary, pa = analyzer_path(), perf_analyzer_path()
    name = model.stem
    shutil.rmtree(work_dir, ignore_errors=True)
    paths = _layout(work_dir) | {"perf_analyzer": pa}
    base = base_config(name, model, max_batch_size=min(batch_sizes), instances=min(instances))
    write_model(paths["repository"], name, model, base)
    ma_log = work_dir / "model-analyzer.log"
    argv = (str(binary), "profile", "-f", str(work_dir / "profile.yaml"))
    env = os.environ | {"PATH": f"{binary.parent}:{pa.parent}:{os.environ.get('PATH', '')}"}
    with TritonServer(
        paths["repository"], cores=cores, log_path=work_dir / "tritonserver.log"
    ) as s:
        config = profile_config(
            name, mode=mode, slo_p99_ms=slo_p99_ms, instances=instances,
            batch_sizes=batch_sizes, concurrencies=concurrencies, paths=paths,
            endpoints={"http": f"127.0.0.1:{s.ports.http}", "grpc": f"127.0.0.1:{s.ports.grpc}",
                       "metrics": s.metrics_url},
        )  # fmt: skip
        (work_dir / "profile.yaml").write_text(profile_yaml(config))
        log(f"model-analyzer {mode} on {name} (Triton on cores {list(cores)}): {' '.join(argv)}")
        start = time.monotonic()
        with open(ma_log, "wb") as out:
            rc = _run(argv, cwd=work_dir, env=env, out=out, timeout_s=timeout_s)
        wall_s = time.monotonic() - start
    if rc is None:
        raise AnalyzerFailedError(f"model-analyzer ran past {timeout_s:g} s (log: {ma_log})")
    text = ma_log.read_text(errors="replace")
    if rc != 0:
        raise AnalyzerFailedError(
            f"model-analyzer exited {rc}: {_error_lines(text)} (log: {ma_log})"
        )
    found = read_results(paths["export"], text, paths["output"])
    log(f"model-analyzer {mode}: {len(found)} measurements in {wall_s:.0f} s")
    for m in found:
        log(f"  {m.order:3d} {m.variant} {dict(m.config)}: {m.throughput:g} infer/s, "
            f"p99 {m.p99_ms:g} ms")  # fmt: skip
    return AnalyzerRun(mode, found, wall_s, argv)
