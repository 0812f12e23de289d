"""The installed server root: complete, self-contained, reused when warm, and its stub's Python."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

import falcon_operator
from falcon_operator.triton import install
from falcon_operator.triton.server import TritonError, require_root


@pytest.fixture(scope="module")
def root() -> Path:
    try:
        return require_root()
    except TritonError as exc:
        message = str(exc)
    pytest.fail(message, pytrace=False)


def test_server_root_is_complete_and_self_contained(root: Path) -> None:
    assert install.missing(root) == []
    python = root / "backends" / "python"
    assert (python / "triton_python_backend_stub").stat().st_mode & 0o111
    assert (python / "libtriton_python.so").is_file()  # the stub sits next to it
    assert (root / "bin" / "tritonserver").stat().st_mode & 0o111
    assert any((root / "lib").glob("libtritonserver-*.so"))
    ours = (root / "backends" / "onnxruntime" / "model.py").read_bytes()
    assert ours == install.BACKEND_SOURCE.read_bytes()
    links = [p for p in root.rglob("*") if p.is_symlink()]
    assert links == []  # plain files only: the folder can be copied into an image


def test_install_is_idempotent_and_fast_when_warm(root: Path) -> None:
    before = (root / "bin" / "tritonserver").stat().st_mtime_ns
    start = time.monotonic()
    assert install.install() == root
    assert time.monotonic() - start < 5.0
    assert (root / "bin" / "tritonserver").stat().st_mtime_ns == before


def test_a_missing_server_says_run_make_triton(tmp_path: Path) -> None:
    with pytest.raises(TritonError, match="run make triton"):
        require_root(tmp_path / "nowhere")


def test_the_stub_python_has_numpy_1_and_imports_only_light_modules(root: Path) -> None:
    python = install.stub_env() / "bin" / "python"
    package_parent = Path(falcon_operator.__file__).resolve().parents[1]
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "import numpy, onnxruntime, falcon_operator.triton.simgpu, falcon_operator.triton.onnxio,"
        " falcon_operator.fleet.workload;"
        "heavy = {'sklearn', 'scipy', 'kopf', 'kubernetes', 'matplotlib', 'aiohttp', 'rich'};"
        "print(numpy.__version__, sorted({m.split('.')[0] for m in sys.modules} & heavy))"
    )
    out = subprocess.run(
        [str(python), "-c", code, str(package_parent)],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout.split()  # fmt: skip
    assert out[0].startswith("1."), out  # the 2.51.0 stub returns empty tensors under numpy 2
    assert out[1:] == ["[]"], out


def test_the_triton_package_imports_neither_kopf_nor_kubernetes() -> None:
    code = (
        "import sys, falcon_operator.triton.server, falcon_operator.triton.install,"
        " falcon_operator.triton.repository, falcon_operator.triton.simgpu,"
        " falcon_operator.triton.onnxio;"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'kopf', 'kubernetes'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.strip() == "[]"
