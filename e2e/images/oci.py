"""OCI image archives written by hand: gzipped layer tars, a config, a manifest and an index.

A layer is packed from a directory tree in sorted order, keeping numeric owners, modes and
modification times (pip's bytecode checks the source's mtime), with ``dev/`` left empty and
overlayfs whiteouts (0:0 character devices, the ``trusted.overlay.opaque`` attribute) turned
into OCI whiteout files. The archive is a tar of an OCI image layout (``oci-layout``,
``index.json``, ``blobs/sha256/``) that ``ctr images import`` reads; the index names the image
with ``io.containerd.image.name``.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import stat
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

LAYER_MEDIA = "application/vnd.oci.image.layer.v1.tar+gzip"
CONFIG_MEDIA = "application/vnd.oci.image.config.v1+json"
MANIFEST_MEDIA = "application/vnd.oci.image.manifest.v1+json"
INDEX_MEDIA = "application/vnd.oci.image.index.v1+json"
#: directories whose contents the runtime provides; the layer keeps them empty
RUNTIME_DIRS = ("dev", "proc", "sys")


@dataclass(frozen=True)
class Layer:
    """A gzipped layer blob on disk with its two digests."""

    path: Path
    digest: str  # sha256:<hex> of the gzipped bytes
    diff_id: str  # sha256:<hex> of the uncompressed tar
    size: int

    def to_json(self) -> dict[str, Any]:
        return {"digest": self.digest, "diff_id": self.diff_id, "size": self.size}

    @classmethod
    def from_json(cls, path: Path, data: dict[str, Any]) -> Layer:
        return cls(path, str(data["digest"]), str(data["diff_id"]), int(data["size"]))


class _Hashing(io.RawIOBase):
    """A write-only stream that hashes and counts what passes through to ``sink``."""

    def __init__(self, sink: BinaryIO) -> None:
        self.sink, self.sha, self.count = sink, hashlib.sha256(), 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        self.sha.update(view)
        self.count += len(view)
        self.sink.write(view)
        return len(view)


def _whiteout(path: Path) -> bool:
    st = path.lstat()
    return stat.S_ISCHR(st.st_mode) and st.st_rdev == 0


def _opaque(path: Path) -> bool:
    try:
        return os.getxattr(path, "trusted.overlay.opaque", follow_symlinks=False) == b"y"
    except OSError:
        return False


def _entries(root: Path) -> list[tuple[Path, str]]:
    """(path, archive name) of every entry under root, parents first, siblings sorted."""
    out: list[tuple[Path, str]] = []

    def walk(directory: Path, prefix: str) -> None:
        for name in sorted(os.listdir(directory)):
            path, arc = directory / name, f"{prefix}{name}"
            out.append((path, arc))
            if path.is_dir() and not path.is_symlink() and arc not in RUNTIME_DIRS:
                walk(path, f"{arc}/")

    walk(root, "")
    return out


def pack_layer(root: Path, target: Path, *, level: int = 1, strip_write: bool = False) -> Layer:
    """Pack the tree at root into target (a gzipped tar); overlay whiteouts become OCI ones.

    ``strip_write`` drops group and other write permission (files copied from a wheel).
    """
    tmp = target.with_suffix(".part")
    with tmp.open("wb") as raw:
        outer = _Hashing(raw)
        with gzip.GzipFile(fileobj=outer, mode="wb", compresslevel=level, mtime=0) as gz:
            inner = _Hashing(gz)  # type: ignore[arg-type]
            with tarfile.open(fileobj=inner, mode="w|", format=tarfile.PAX_FORMAT) as tar:
                for path, arc in _entries(root):
                    if _whiteout(path):
                        parent, _, name = arc.rpartition("/")
                        info = tarfile.TarInfo(f"{parent}/.wh.{name}" if parent else f".wh.{name}")
                        tar.addfile(info)
                        continue
                    info = tar.gettarinfo(str(path), arc)
                    info.uname = info.gname = ""
                    if strip_write:
                        info.mode &= ~0o022
                    if info.isreg():
                        with path.open("rb") as f:
                            tar.addfile(info, f)
                    else:
                        tar.addfile(info)
                    if info.isdir() and _opaque(path):
                        tar.addfile(tarfile.TarInfo(f"{arc}/.wh..wh..opq"))
    tmp.rename(target)
    return Layer(
        target, f"sha256:{outer.sha.hexdigest()}", f"sha256:{inner.sha.hexdigest()}", outer.count
    )


def _blob(data: bytes) -> tuple[str, bytes]:
    return f"sha256:{hashlib.sha256(data).hexdigest()}", data


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), 0o644
    tar.addfile(info, io.BytesIO(data))


def write_archive(
    target: Path, *, name: str, layers: list[Layer], config: dict[str, Any]
) -> dict[str, Any]:
    """Write an OCI archive of the image ``name`` (a normalised reference); return its config."""
    full = dict(config)
    full["rootfs"] = {"type": "layers", "diff_ids": [layer.diff_id for layer in layers]}
    config_digest, config_bytes = _blob(json.dumps(full, indent=2, sort_keys=True).encode())
    manifest = {
        "schemaVersion": 2,
        "mediaType": MANIFEST_MEDIA,
        "config": {"mediaType": CONFIG_MEDIA, "digest": config_digest, "size": len(config_bytes)},
        "layers": [
            {"mediaType": LAYER_MEDIA, "digest": layer.digest, "size": layer.size}
            for layer in layers
        ],
    }
    manifest_digest, manifest_bytes = _blob(json.dumps(manifest, indent=2).encode())
    tag = name.rsplit(":", 1)[1]
    index = {
        "schemaVersion": 2,
        "mediaType": INDEX_MEDIA,
        "manifests": [
            {
                "mediaType": MANIFEST_MEDIA,
                "digest": manifest_digest,
                "size": len(manifest_bytes),
                "platform": {"architecture": full["architecture"], "os": full["os"]},
                "annotations": {
                    "io.containerd.image.name": name,
                    "org.opencontainers.image.ref.name": tag,
                },
            }
        ],
    }
    tmp = target.with_suffix(".part")
    with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
        _add_bytes(tar, "oci-layout", b'{"imageLayoutVersion": "1.0.0"}')
        _add_bytes(tar, "index.json", json.dumps(index, indent=2).encode())
        tar.addfile(_dir("blobs"))
        tar.addfile(_dir("blobs/sha256"))
        for digest, data in (_blob(config_bytes), (manifest_digest, manifest_bytes)):
            _add_bytes(tar, f"blobs/sha256/{digest.removeprefix('sha256:')}", data)
        seen: set[str] = set()
        for layer in layers:
            if layer.digest not in seen:
                seen.add(layer.digest)
                info = tarfile.TarInfo(f"blobs/sha256/{layer.digest.removeprefix('sha256:')}")
                info.size, info.mode = layer.size, 0o644
                with layer.path.open("rb") as f:
                    tar.addfile(info, f)
    tmp.rename(target)
    return full


def _dir(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.mode = tarfile.DIRTYPE, 0o755
    return info


def read_archive(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """(index.json, image config) of an OCI archive, read without unpacking its layers."""
    with tarfile.open(path) as tar:

        def load(name: str) -> dict[str, Any]:
            member = tar.extractfile(name)
            assert member is not None, f"{path}: no {name}"
            data: dict[str, Any] = json.load(member)
            return data

        index = load("index.json")
        digest = index["manifests"][0]["digest"].removeprefix("sha256:")
        manifest = load(f"blobs/sha256/{digest}")
        config = load(f"blobs/sha256/{manifest['config']['digest'].removeprefix('sha256:')}")
    return index, config
