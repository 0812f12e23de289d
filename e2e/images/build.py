"""Build the test world's images as OCI archives under ``$FALCON_CACHE/images/`` (needs root).

``python -m images.build [--only operator,runner,...] [--list]`` (with ``e2e`` on
``PYTHONPATH``; ``e2e/images/build.sh`` does that): builds each image whose archive is missing,
reusing cached layers, and prints one line per image with its size and build time. ``--list``
prints only the archive paths, one a line. From Python, ``archives()`` returns
``{reference: path}`` of every image, building what is missing: what a node imports with
``ctr -n k8s.io images import``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from images.dockerfile import final_stage_config
from images.layers import Store, digest
from images.oci import write_archive
from images.rootfs import BuildError
from images.specs import ImageSpec, cache_root, images


def image_config(spec: ImageSpec) -> dict[str, Any]:
    """The full OCI image config of spec (without rootfs, which the archive writer adds)."""
    declared = final_stage_config(spec.dockerfile) if spec.dockerfile else {"Env": {}}
    env = dict(spec.base_env)
    env.update(declared.pop("Env"))
    config: dict[str, Any] = {"Env": [f"{k}={v}" for k, v in env.items()], **declared}
    if spec.cmd:
        config["Cmd"] = list(spec.cmd)
    return {
        "architecture": "amd64",
        "os": "linux",
        "config": config,
        "history": [{"created_by": layer.history} for layer in spec.layers],
    }


def archive_path(spec: ImageSpec) -> Path:
    """Where spec's archive lives; its name hashes every input, so a hit is up to date."""
    config = json.dumps(image_config(spec), sort_keys=True)
    key = digest(spec.name, config, *(layer.key for layer in spec.layers))
    return cache_root() / f"{spec.short}-{key}.oci.tar"


def build(spec: ImageSpec, store: Store) -> tuple[Path, bool]:
    """(archive, whether it was built now) of spec."""
    target = archive_path(spec)
    if target.is_file():
        return target, False
    layers = [store.layer(layer) for layer in spec.layers]
    write_archive(target, name=spec.name, layers=layers, config=image_config(spec))
    for layer in spec.layers:
        store.prune(layer)
    for old in cache_root().glob(f"{spec.short}-*.oci.tar"):
        if old != target:
            old.unlink()
    return target, True


def archives(*, only: list[str] | None = None) -> dict[str, Path]:
    """{image reference: archive path} of the images (all by default), built when missing."""
    specs = images()
    store = Store(cache_root())
    out: dict[str, Path] = {}
    with store.locked():
        for short in only or list(specs):
            out[specs[short].name] = build(specs[short], store)[0]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="images.build", description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated short names (default: all)")
    parser.add_argument("--list", action="store_true", help="print only the archive paths")
    args = parser.parse_args(argv)
    specs = images()
    only = args.only.split(",") if args.only else list(specs)
    unknown = [s for s in only if s not in specs]
    if unknown:
        print(f"error: unknown image {unknown[0]!r} (known: {', '.join(specs)})", file=sys.stderr)
        return 2
    store = Store(cache_root())
    failed = 0
    with store.locked():
        for short in only:
            start = time.monotonic()
            try:
                path, fresh = build(specs[short], store)
            except BuildError as err:
                print(f"error: {short}: {err}", file=sys.stderr)
                failed += 1
                continue
            if args.list:
                print(path)
                continue
            took = f"built in {time.monotonic() - start:.0f} s" if fresh else "cached"
            size = path.stat().st_size / 1e6
            print(f"{short:9} {specs[short].name:52} {size:7.1f} MB  {took:16} {path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
