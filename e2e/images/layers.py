"""Cached layers: each is a tree on disk (kept, so later steps can stack on it) and its blob.

A ``LayerSpec`` has a key computed from its inputs without building anything, and a recipe
that fills a tree. ``Store.layer`` builds the tree and packs the gzipped blob once per key
under ``$FALCON_CACHE/images/{trees,layers}/``; a step recipe runs in a chroot on an overlay of
the trees below it (``rootfs.run_step``), so its tree is exactly what the step changed.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import re
import shutil
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from images.oci import Layer, pack_layer
from images.rootfs import run_step


def digest(*parts: str) -> str:
    """A short stable hash of parts."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class LayerSpec:
    """A layer by key; ``fill(tree, store)`` makes its tree (the folder does not exist yet)."""

    name: str
    key: str
    fill: Callable[[Path, Store], None]
    history: str = ""
    #: pack without group/other write permission (trees copied from elsewhere)
    strip_write: bool = False


@dataclass(frozen=True)
class Store:
    """The cache folder of trees, layer blobs and archives."""

    root: Path
    built: list[str] = field(default_factory=list)

    def tree(self, spec: LayerSpec) -> Path:
        """The cached tree of spec, built when missing."""
        target = self.root / "trees" / f"{spec.name}-{spec.key}"
        if not target.is_dir():
            part = target.with_name(target.name + ".part")
            shutil.rmtree(part, ignore_errors=True)
            part.parent.mkdir(parents=True, exist_ok=True)
            spec.fill(part, self)
            part.rename(target)
            self.built.append(spec.name)
        return target

    def layer(self, spec: LayerSpec) -> Layer:
        """The cached gzipped blob of spec's tree, packed when missing."""
        blob = self.root / "layers" / f"{spec.name}-{spec.key}.tar.gz"
        meta = blob.with_suffix(".json")
        if blob.is_file() and meta.is_file():
            return Layer.from_json(blob, json.loads(meta.read_text()))
        blob.parent.mkdir(parents=True, exist_ok=True)
        layer = pack_layer(self.tree(spec), blob, strip_write=spec.strip_write)
        meta.write_text(json.dumps(layer.to_json()))
        return layer

    def prune(self, spec: LayerSpec) -> None:
        """Delete the trees and blobs of spec's name with another key (older inputs)."""
        pattern = re.compile(rf"{re.escape(spec.name)}-([0-9a-f]{{16}})(\.tar\.gz|\.tar\.json)?")
        for folder in (self.root / "trees", self.root / "layers"):
            for path in folder.glob(f"{spec.name}-*") if folder.is_dir() else ():
                match = pattern.fullmatch(path.name)
                if match and match[1] != spec.key:
                    shutil.rmtree(path) if path.is_dir() else path.unlink()

    @contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the cache's lock (one build at a time across processes)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)


def link_tree(src: Path, dst: Path) -> None:
    """Copy src to dst as hard links (same file system) or, failing that, a plain copy."""
    try:
        shutil.copytree(src, dst, symlinks=True, copy_function=_link_or_copy)
    except OSError:
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(src, dst, symlinks=True)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        Path(dst).hardlink_to(src)
    except OSError:
        shutil.copy2(src, dst)


def step(
    name: str,
    *,
    below: Sequence[LayerSpec],
    script: str,
    staging: Callable[[], dict[str, Path]],
    inputs: Sequence[str] = (),
) -> LayerSpec:
    """A layer made by running script on the trees of ``below`` (bottom first).

    ``staging()`` maps names to files or folders the script reads at ``/mnt/<name>``; ``inputs``
    are what else its result depends on (e.g. the hash of a wheel folder's inputs).
    """

    def fill(tree: Path, store: Store) -> None:
        lowers = [store.tree(spec) for spec in below]
        stage = store.root / "staging" / f"{name}-{key}"
        shutil.rmtree(stage, ignore_errors=True)
        stage.mkdir(parents=True)
        try:
            for item, path in staging().items():
                if path.is_dir():
                    link_tree(path, stage / item)
                else:
                    shutil.copy2(path, stage / item)
            run_step(lowers, tree, script, staging=stage)
        finally:
            shutil.rmtree(stage, ignore_errors=True)

    key = digest(name, *(spec.key for spec in below), script, *inputs)
    return LayerSpec(name, key, fill, history=f"RUN {script}")
