"""Wheels built on the host for the images: the project's own, and every pinned dependency.

The project's wheel is built from a copy of exactly the files ``git`` sees under
``pyproject.toml README.md NOTICE operator/ trial-runner/`` (tracked or untracked, not ignored),
so its cache key is the hash of those files. The dependency wheels are ``pip wheel`` of
pyproject.toml's ``dependencies`` (all binary manylinux wheels for CPython 3.11), keyed by that
list; the runner image takes the subset it needs from the same folder. A requirements file
(the Triton image's ``stub-requirements.txt``: numpy < 2 for Triton's Python-backend stub) gets a
folder of its own, keyed by the file's content.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from images.rootfs import run

REPO = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "NOTICE", "operator", "trial-runner")


def pins() -> dict[str, str]:
    """pyproject.toml's dependencies by bare name: {"numpy": "numpy==2.4.6", ...}."""
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    return {dep.split("[")[0].split("=")[0]: dep for dep in deps}


def source_files() -> list[str]:
    """The project's build inputs, as git sees them (relative paths, sorted)."""
    out = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "--", *SOURCES],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sorted(p for p in out.splitlines() if (REPO / p).is_file())


def source_key() -> str:
    """Hash of the project's build inputs (names and contents)."""
    sha = hashlib.sha256()
    for rel in source_files():
        sha.update(rel.encode() + b"\0" + (REPO / rel).read_bytes() + b"\0")
    return sha.hexdigest()[:16]


def deps_key() -> str:
    """Hash of the pinned dependency list and the host Python's version."""
    text = "\n".join(sorted(pins().values())) + f"\ncp{sys.version_info[0]}{sys.version_info[1]}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _pip(*args: str, what: str) -> None:
    run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args], what=what)


def project_wheel(cache: Path) -> Path:
    """A folder holding the project's wheel for the current sources (built once per key)."""
    target = cache / "wheels" / f"project-{source_key()}"
    if not target.is_dir():
        with tempfile.TemporaryDirectory(dir=cache, prefix=".src-") as tmp:
            src = Path(tmp) / "src"
            for rel in source_files():
                (src / rel).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(REPO / rel, src / rel)
            out = Path(tmp) / "out"
            _pip("wheel", "--no-deps", "--wheel-dir", str(out), str(src), what="pip wheel project")
            target.parent.mkdir(parents=True, exist_ok=True)
            out.rename(target)
    return target


def dependency_wheels(cache: Path) -> Path:
    """A folder holding a wheel of every pinned dependency and theirs (built once per key)."""
    target = cache / "wheels" / f"deps-{deps_key()}"
    return _binary_wheels(target, *sorted(pins().values()), what="pip wheel dependencies")


def requirements_key(requirements: Path) -> str:
    """Hash of a requirements file and the host Python's version."""
    text = requirements.read_text() + f"\ncp{sys.version_info[0]}{sys.version_info[1]}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def requirement_wheels(cache: Path, requirements: Path) -> Path:
    """A folder holding a wheel of everything in a requirements file (built once per key)."""
    target = cache / "wheels" / f"req-{requirements_key(requirements)}"
    return _binary_wheels(target, "-r", str(requirements), what=f"pip wheel -r {requirements.name}")


def _binary_wheels(target: Path, *wanted: str, what: str) -> Path:
    """target, filled once with binary wheels of ``wanted`` (pip arguments) and theirs."""
    if not target.is_dir():
        part = target.with_name(target.name + ".part")
        shutil.rmtree(part, ignore_errors=True)
        _pip("wheel", "--only-binary=:all:", "--wheel-dir", str(part), *wanted, what=what)
        part.rename(target)
    return target
