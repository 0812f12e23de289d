"""Root filesystems for the images: Debian bookworm by mmdebstrap, and steps run on top of it.

``debian_rootfs`` builds a minimal bookworm tree (``mmdebstrap --mode=root``). ``run_step``
mounts an overlay on that tree, binds ``/dev``, ``/proc`` and a staging folder at ``/mnt``, runs
shell commands in a chroot and leaves only what the step changed in the overlay's upper
directory: exactly the layer a ``RUN`` instruction would make. Needs root.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
#: Python 3.11 (Debian's 3.11.2), venv support and the shared library Triton's stub links
PACKAGES = ("python3", "python3-venv", "libpython3.11", "ca-certificates")
#: environment of every chroot step (the images' own PATH comes from their config)
STEP_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME": "/root",
    "LANG": "C.UTF-8",
    "PIP_NO_CACHE_DIR": "1",
    "PIP_DISABLE_PIP_VERSION_CHECK": "1",
}


class BuildError(RuntimeError):
    """A build step failed; the message is one line for the user."""


def run(cmd: Sequence[str], *, what: str, env: dict[str, str] | None = None) -> str:
    """Run cmd; on failure raise BuildError with its last output lines."""
    proc = subprocess.run(list(cmd), capture_output=True, text=True, env=env, check=False)
    if proc.returncode != 0:
        tail = " | ".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
        raise BuildError(f"{what} failed (exit {proc.returncode}): {tail}")
    return proc.stdout


def need(tool: str, package: str) -> None:
    """Install the Debian package holding tool when it is missing."""
    if shutil.which(tool) is None:
        run(["apt-get", "update", "-qq"], what="apt-get update")
        run(["apt-get", "install", "-y", "-qq", package], what=f"apt-get install {package}")


def debian_rootfs(target: Path, *, packages: Sequence[str] = PACKAGES) -> None:
    """A minimal bookworm tree at target (mmdebstrap minbase, apt lists and caches dropped)."""
    need("mmdebstrap", "mmdebstrap")
    run(
        [
            "mmdebstrap",
            "--quiet",
            "--variant=minbase",
            "--mode=root",
            f"--include={','.join(packages)}",
            "--aptopt=Acquire::Retries 3",
            "--customize-hook=rm -rf $1/var/lib/apt/lists/* $1/var/cache/apt/*",
            "--customize-hook=rm -rf $1/var/log/* $1/tmp/* $1/root/.cache",
            SUITE,
            str(target),
            MIRROR,
        ],
        what="mmdebstrap",
    )


def debian_extract(target: Path, package: str) -> None:
    """Only the files of one Debian package at target (mmdebstrap's extract variant)."""
    need("mmdebstrap", "mmdebstrap")
    run(
        [
            "mmdebstrap",
            "--quiet",
            "--variant=extract",
            "--mode=root",
            f"--include={package}",
            "--customize-hook=rm -rf $1/var $1/etc/apt $1/dev",
            SUITE,
            str(target),
            MIRROR,
        ],
        what=f"mmdebstrap extract {package}",
    )


@contextmanager
def _mounted(lowers: Sequence[Path], work: Path, staging: Path) -> Iterator[tuple[Path, Path]]:
    """(merged root, upper dir) of an overlay on lowers (bottom first); /dev, /proc, /mnt bound."""
    upper, scratch, merged = work / "upper", work / "work", work / "merged"
    for d in (upper, scratch, merged):
        d.mkdir(parents=True)
    lowerdir = ":".join(str(p) for p in reversed(lowers))
    opts = f"lowerdir={lowerdir},upperdir={upper},workdir={scratch}"
    mounts: list[Path] = []
    try:
        run(["mount", "-t", "overlay", "overlay", "-o", opts, str(merged)], what="mount overlay")
        mounts.append(merged)
        for cmd, point in (
            (["mount", "--bind", "/dev"], merged / "dev"),
            (["mount", "-t", "proc", "proc"], merged / "proc"),
            (["mount", "--bind", str(staging)], merged / "mnt"),
        ):
            run([*cmd, str(point)], what=f"mount {point.name}")
            mounts.append(point)
        yield merged, upper
    finally:
        for point in reversed(mounts):
            subprocess.run(["umount", "-l", str(point)], check=False)


def run_step(lowers: Sequence[Path], upper_out: Path, script: str, *, staging: Path) -> None:
    """Run script (sh -eu) in a chroot of lowers (bottom first) + overlay; keep the changes.

    The changes (the overlay's upper directory) end up at ``upper_out``.

    ``staging`` is visible read-write at ``/mnt`` during the step and is not in the result.
    """
    with tempfile.TemporaryDirectory(dir=upper_out.parent, prefix=".step-") as tmp:
        with _mounted(lowers, Path(tmp), staging) as (merged, upper):
            run(
                ["chroot", str(merged), "/bin/sh", "-euc", script],
                what=f"build step {upper_out.name}",
                env=STEP_ENV,
            )
        for leftover in ("tmp", "root/.cache", "var/log"):
            path = upper / leftover
            if path.is_dir():
                for child in path.iterdir():
                    shutil.rmtree(child) if child.is_dir() else child.unlink()
        shutil.rmtree(upper_out, ignore_errors=True)
        upper.rename(upper_out)
