"""Install real Triton Inference Server 2.51.0 as a self-contained *server root* (``make triton``).

The server comes from the ``nvidia-pytriton==0.7.0`` wheel (downloaded with ``pip download
--no-deps`` into ``$FALCON_CACHE/triton/2.51.0/wheel``; none of pytriton's dependencies are
installed). The root, ``$FALCON_CACHE/triton/2.51.0/server``, holds::

    bin/tritonserver                       (RPATH $ORIGIN/../lib)
    lib/                                   the wheel's bundled libraries (nvidia_pytriton.libs)
    backends/python/                       libtriton_python.so, triton_python_backend_utils.py
                                           and triton_python_backend_stub (Python 3.11)
    backends/onnxruntime/model.py          our Python-based backend (the simulated GPU)
    caches/local/libtritoncache_local.so
    falcon-install.json                    written last: the layout is complete

Only relative paths matter, so the folder can be copied anywhere (the Triton image puts it at
/opt/tritonserver). Running it needs ``LD_LIBRARY_PATH=<root>/lib:<libpython3.11's dir>`` and a
``python3`` first on ``PATH`` whose packages are ``data/triton/stub-requirements.txt`` (numpy
*below 2*: the stub is built against numpy 1.x) plus falcon_operator. Here that interpreter is a
virtual environment, ``$FALCON_CACHE/triton/2.51.0/stub-python`` (see
:func:`falcon_operator.triton.server.server_env`). A complete layout is reused; only
``backends/onnxruntime/model.py`` is refreshed from the package when it differs.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Sequence
from pathlib import Path

from falcon_operator.core.errors import FalconError

TRITON_VERSION = "2.51.0"
PYTRITON = "nvidia-pytriton==0.7.0"
STUB_PYTHON = "3.11"
MARKER = "falcon-install.json"
BACKEND_SOURCE = Path(__file__).resolve().parent / "backend" / "model.py"
STUB_REQUIREMENTS = (
    Path(__file__).resolve().parent.parent / "data" / "triton" / "stub-requirements.txt"
)
STUB_MARKER = "falcon-stub-requirements.txt"
#: files a usable server root must have (relative to it)
REQUIRED = (
    "bin/tritonserver",
    "backends/python/libtriton_python.so",
    "backends/python/triton_python_backend_utils.py",
    "backends/python/triton_python_backend_stub",
    "backends/onnxruntime/model.py",
    "caches/local/libtritoncache_local.so",
    MARKER,
)


class InstallError(FalconError):
    """The Triton server root cannot be downloaded or laid out."""


def cache_dir() -> Path:
    """``$FALCON_CACHE`` (default ``~/.cache/falcon-operator``)."""
    return Path(os.environ.get("FALCON_CACHE") or Path.home() / ".cache" / "falcon-operator")


def server_root(*, cache: Path | None = None) -> Path:
    """Where the server root of this Triton version lives (installed or not)."""
    return (cache or cache_dir()) / "triton" / TRITON_VERSION / "server"


def stub_env(*, cache: Path | None = None) -> Path:
    """The virtual environment whose Python runs the backend stub (numpy < 2)."""
    return (cache or cache_dir()) / "triton" / TRITON_VERSION / "stub-python"


def stub_env_ready(env: Path) -> bool:
    """True when ``env`` holds exactly the current stub requirements."""
    marker = env / STUB_MARKER
    return marker.is_file() and marker.read_text() == STUB_REQUIREMENTS.read_text()


def install_stub_env(env: Path, *, python: str = sys.executable) -> Path:
    """Create (or reuse) the stub's virtual environment from the pinned requirements."""
    if stub_env_ready(env):
        return env
    shutil.rmtree(env, ignore_errors=True)
    steps = [
        [python, "-m", "venv", str(env)],
        [str(env / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
         "-r", str(STUB_REQUIREMENTS)],
    ]  # fmt: skip
    for cmd in steps:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=1800)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["failed"])[-1]
            raise InstallError(f"cannot create the stub's Python environment {env}: {last}")
    (env / STUB_MARKER).write_text(STUB_REQUIREMENTS.read_text())
    return env


def missing(root: Path) -> list[str]:
    """Required files absent from ``root`` (empty: the layout is complete)."""
    return [rel for rel in REQUIRED if not (root / rel).is_file()]


def sync_backend(root: Path) -> bool:
    """Copy our ``model.py`` into ``backends/onnxruntime``; True when it changed."""
    target = root / "backends" / "onnxruntime" / "model.py"
    source = BACKEND_SOURCE.read_bytes()
    if target.is_file() and target.read_bytes() == source:
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_bytes(source)
    tmp.replace(target)
    return True


def download_wheel(wheel_dir: Path, *, python: str = sys.executable) -> Path:
    """The pytriton wheel, downloaded once into ``wheel_dir`` (no dependencies)."""
    found = sorted(wheel_dir.glob("nvidia_pytriton-0.7.0-*.whl"))
    if found:
        return found[-1]
    wheel_dir.mkdir(parents=True, exist_ok=True)
    cmd = [python, "-m", "pip", "download", "-q", "--no-deps", PYTRITON, "-d", str(wheel_dir)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=1800)
    found = sorted(wheel_dir.glob("nvidia_pytriton-0.7.0-*.whl"))
    if done.returncode != 0 or not found:
        last = (done.stderr.strip().splitlines() or ["no wheel"])[-1]
        raise InstallError(f"cannot download {PYTRITON}: {last}")
    return found[-1]


def _extract(wheel: Path, root: Path) -> None:
    """Lay the wheel's server files out under ``root`` (which must not exist yet)."""
    prefix = "pytriton/tritonserver/"
    stub = f"{prefix}python_backend_stubs/{STUB_PYTHON}/triton_python_backend_stub"
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            name = info.filename
            if info.is_dir():
                continue
            if name.startswith("nvidia_pytriton.libs/"):
                rel = "lib/" + name.removeprefix("nvidia_pytriton.libs/")
            elif name == stub:
                rel = "backends/python/triton_python_backend_stub"
            elif name.startswith(prefix) and "python_backend_stubs/" not in name:
                rel = name.removeprefix(prefix)
            else:
                continue
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
            mode = (info.external_attr >> 16) & 0o777
            target.chmod(mode | 0o644 if mode else 0o644)
    for exe in ("bin/tritonserver", "backends/python/triton_python_backend_stub"):
        (root / exe).chmod(0o755)


def install(*, cache: Path | None = None, python: str = sys.executable) -> Path:
    """A complete server root (reused when complete; built atomically otherwise)."""
    root = server_root(cache=cache)
    install_stub_env(stub_env(cache=cache), python=python)
    if not missing(root):
        sync_backend(root)
        return root
    wheel = download_wheel(root.parent / "wheel", python=python)
    staging = root.with_name(f"server.tmp-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    try:
        _extract(wheel, staging)
        sync_backend(staging)
        marker = {"triton": TRITON_VERSION, "wheel": PYTRITON, "stub_python": STUB_PYTHON}
        (staging / MARKER).write_text(json.dumps(marker, indent=2) + "\n")
        if absent := missing(staging):
            raise InstallError(f"{wheel.name} lacks {', '.join(absent)}")
        shutil.rmtree(root, ignore_errors=True)
        staging.rename(root)
    except (OSError, zipfile.BadZipFile) as exc:
        raise InstallError(f"cannot lay out {root}: {exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m falcon_operator.triton.install``: install (or reuse) and print the root."""
    parser = argparse.ArgumentParser(prog="python -m falcon_operator.triton.install")
    parser.add_argument("--cache", type=Path, default=None, help="default: $FALCON_CACHE")
    args = parser.parse_args(argv)
    try:
        root = install(cache=args.cache)
    except FalconError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
