"""The four images of the test world and the layers each is made of.

* operator ``ghcr.io/falcon-operator/falcon-operator:0.1.0`` = ``Dockerfile``;
* runner ``ghcr.io/falcon-operator/falcon-trial:0.1.0`` = ``trial-runner/Dockerfile``;
* triton ``ghcr.io/falcon-operator/tritonserver-cpu:2.51.0`` = ``e2e/images/triton.Dockerfile``;
* busybox ``ghcr.io/falcon-operator/busybox:1.35.0``: Debian's busybox-static, a POSIX shell
  for the trial pods' init container.

Each Python image is Debian bookworm's Python 3.11 (mmdebstrap), then a venv at /opt/venv with
the dependency wheels, then the project's wheel: a source change rebuilds only the last layer.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from images.layers import LayerSpec, Store, digest, step
from images.rootfs import MIRROR, PACKAGES, SUITE, BuildError, debian_extract, debian_rootfs
from images.wheels import (
    REPO,
    dependency_wheels,
    deps_key,
    pins,
    project_wheel,
    requirement_wheels,
    requirements_key,
    source_key,
)

TRITON_VERSION = "2.51.0"
BUSYBOX_VERSION = "1.35.0"
#: what Triton's Python-backend stub needs (numpy < 2), pinned by the Triton install (part A)
STUB_REQUIREMENTS = (
    REPO / "operator" / "falcon_operator" / "data" / "triton" / "stub-requirements.txt"
)
VENV_PATH = "/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
USER_SCRIPT = (
    "groupadd --gid 65532 falcon && useradd --uid 65532 --gid 65532 --no-create-home "
    "--home-dir /nonexistent --shell /usr/sbin/nologin falcon"
)


@dataclass(frozen=True)
class ImageSpec:
    """An image: its short name, normalised reference, layers and Dockerfile (if any)."""

    short: str
    name: str
    layers: tuple[LayerSpec, ...]
    dockerfile: Path | None
    #: the Env a ``python:3.11-slim`` base would give, before the Dockerfile's own ENV
    base_env: tuple[tuple[str, str], ...] = (("PATH", VENV_PATH), ("LANG", "C.UTF-8"))
    cmd: tuple[str, ...] = ()


def cache_root() -> Path:
    """``$FALCON_CACHE/images`` (default ``~/.cache/falcon-operator/images``)."""
    base = os.environ.get("FALCON_CACHE") or str(Path.home() / ".cache" / "falcon-operator")
    return Path(base) / "images"


def triton_server() -> Path:
    """Where ``make triton`` lays out the Triton server root (docs/triton.md)."""
    return cache_root().parent / "triton" / TRITON_VERSION / "server"


def _base_fill(tree: Path, store: Store) -> None:
    debian_rootfs(tree)


BASE = LayerSpec(
    "base",
    digest("base", SUITE, MIRROR, *PACKAGES, "v1"),
    _base_fill,
    history=f"mmdebstrap --variant=minbase --include={','.join(PACKAGES)} {SUITE}",
)


def _venv(name: str, requirements: list[str], *, stub: bool = False) -> LayerSpec:
    """/opt/venv with requirements (or, for the stub, the stub's requirements file) and the user."""
    if stub:
        install, inputs = "-r /mnt/requirements.txt", [requirements_key(STUB_REQUIREMENTS)]
    else:
        install, inputs = shlex.join(requirements), [deps_key()]
    script = (
        "python3 -m venv /opt/venv && /opt/venv/bin/pip install --no-index --find-links "
        f"/mnt/deps {install} && {USER_SCRIPT}"
    )

    def staging() -> dict[str, Path]:
        if stub:
            wheels = requirement_wheels(cache_root(), STUB_REQUIREMENTS)
            return {"deps": wheels, "requirements.txt": STUB_REQUIREMENTS}
        return {"deps": dependency_wheels(cache_root())}

    return step(name, below=[BASE], script=script, staging=staging, inputs=inputs)


def _project(name: str, venv: LayerSpec, *, doc: str | None, check: bool) -> LayerSpec:
    script = "/opt/venv/bin/pip install --no-index --no-deps /mnt/project/*.whl"
    if check:
        script += " && /opt/venv/bin/pip check"
    staging = {"NOTICE": REPO / "NOTICE"}
    if doc:
        script += f" && install -D -m 0644 /mnt/NOTICE /usr/share/doc/{doc}/NOTICE"
    return step(
        name,
        below=[BASE, venv],
        script=script,
        staging=lambda: {**staging, "project": project_wheel(cache_root())},
        inputs=[source_key()],
    )


def _tree_key(root: Path) -> str:
    """Hash of a tree's file names, sizes, modes and mtimes, ``__pycache__`` left out (cheap)."""
    if not root.is_dir():
        return "missing"
    sha = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        st = path.lstat()
        if "__pycache__" in path.parts or stat.S_ISDIR(st.st_mode):
            continue
        sha.update(
            f"{path.relative_to(root)} {st.st_size} {st.st_mode} {st.st_mtime_ns}\n".encode()
        )
    return sha.hexdigest()[:16]


def _server_fill(tree: Path, store: Store) -> None:
    server = triton_server()
    if not (server / "bin" / "tritonserver").is_file():
        raise BuildError(f"no Triton server at {server}: run `make triton` first")
    (tree / "opt").mkdir(parents=True)
    # a copy, not hard links: `make triton` may rewrite its files in place
    shutil.copytree(
        server,
        tree / "opt" / "tritonserver",
        symlinks=True,
        ignore=shutil.ignore_patterns("__pycache__"),
    )


def _busybox_fill(tree: Path, store: Store) -> None:
    debian_extract(tree, "busybox-static")
    busybox = tree / "bin" / "busybox"
    banner = subprocess.run([str(busybox)], capture_output=True, text=True, check=False).stdout
    if f"BusyBox v{BUSYBOX_VERSION} " not in banner:
        raise BuildError(f"busybox-static is not {BUSYBOX_VERSION}: {banner.splitlines()[:1]}")
    applets = subprocess.run(
        [str(busybox), "--list"], capture_output=True, text=True, check=True
    ).stdout.split()
    for applet in applets:
        if not (tree / "bin" / applet).exists():
            (tree / "bin" / applet).symlink_to("busybox")
    for d in ("tmp", "etc", "root"):
        (tree / d).mkdir(exist_ok=True)
    (tree / "tmp").chmod(0o1777)
    (tree / "etc" / "passwd").write_text(
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"
    )
    (tree / "etc" / "group").write_text("root:x:0:\nnogroup:x:65534:\n")
    shutil.rmtree(tree / "usr" / "share" / "man", ignore_errors=True)


def images() -> dict[str, ImageSpec]:
    """Every image of the test world, by short name (keys computed, nothing built)."""
    p = pins()
    operator_venv = _venv("operator-venv", sorted(p.values()))
    runner_venv = _venv("runner-venv", [p["numpy"], p["tritonclient"]])
    triton_venv = _venv("triton-venv", [], stub=True)
    server = LayerSpec(
        "triton-server",
        digest("triton-server", "v2", _tree_key(triton_server())),
        _server_fill,
        history="COPY --from=triton . /opt/tritonserver",
        strip_write=True,
    )
    busybox = LayerSpec(
        "busybox",
        digest("busybox", SUITE, MIRROR, BUSYBOX_VERSION, "v1"),
        _busybox_fill,
        history=f"busybox-static {BUSYBOX_VERSION} from Debian {SUITE}",
    )
    org = "ghcr.io/falcon-operator"
    return {
        "operator": ImageSpec(
            "operator",
            f"{org}/falcon-operator:0.1.0",
            (
                BASE,
                operator_venv,
                _project("operator-app", operator_venv, doc="falcon-operator", check=True),
            ),
            REPO / "Dockerfile",
        ),
        "runner": ImageSpec(
            "runner",
            f"{org}/falcon-trial:0.1.0",
            (
                BASE,
                runner_venv,
                _project("runner-app", runner_venv, doc="falcon-trial", check=False),
            ),
            REPO / "trial-runner" / "Dockerfile",
        ),
        "triton": ImageSpec(
            "triton",
            f"{org}/tritonserver-cpu:{TRITON_VERSION}",
            (BASE, server, triton_venv, _project("triton-app", triton_venv, doc=None, check=False)),
            REPO / "e2e" / "images" / "triton.Dockerfile",
        ),
        "busybox": ImageSpec(
            "busybox",
            f"{org}/busybox:{BUSYBOX_VERSION}",
            (busybox,),
            None,
            base_env=(("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"),),
            cmd=("sh",),
        ),
    }
