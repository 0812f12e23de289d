"""Pack a directory holding static binaries into an OCI image archive for the real node.

``python -m falcon_e2e.staticimage --rootfs DIR --name REF --out FILE -- ENTRYPOINT [ARG...]``
(run by ``e2e/cluster/node.sh``) writes a one-layer linux/amd64 image named REF (normalised,
e.g. ``docker.io/falcon/echo:e2e``) that ``ctr images import`` reads. The layer and archive
format come from ``images.oci`` (e2e/images/oci.py).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path
from typing import Any

from images.oci import pack_layer, write_archive


def image_config(entrypoint: list[str]) -> dict[str, Any]:
    """The OCI image config of a static-binary image: no shell, no env but PATH."""
    return {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Entrypoint": entrypoint, "Env": ["PATH=/"], "WorkingDir": "/"},
    }


def build(rootfs: Path, *, name: str, out: Path, entrypoint: list[str]) -> None:
    """Write the OCI archive ``out`` of the image ``name`` with ``rootfs`` as its only layer."""
    if "/" not in name.split(":")[0] or "." not in name.split("/")[0]:
        raise ValueError(f"image name {name!r} is not normalised (like docker.io/falcon/x:tag)")
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        layer = pack_layer(rootfs, Path(tmp) / "layer.tar.gz")
        write_archive(out, name=name, layers=[layer], config=image_config(entrypoint))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--rootfs", type=Path, required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("entrypoint", nargs="+")
    args = ap.parse_args(argv)
    try:
        build(args.rootfs, name=args.name, out=args.out, entrypoint=args.entrypoint)
    except (OSError, ValueError) as exc:
        print(f"staticimage: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
