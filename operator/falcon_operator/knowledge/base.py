"""The knowledge base: what Falcon learns offline, as one versioned, read-only artifact.

``build_knowledge`` collects any of: operator resource curves (KOP-RCs, classified and pruned by
PCA), source model tables (the configurations other models liked) and per-model operator shares.
``save``/``load`` write it as gzip'd JSON with a format name and version, so an operator image can
ship a knowledge base and refuse one it does not understand.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from falcon_operator.core.errors import KnowledgeError
from falcon_operator.core.space import Space
from falcon_operator.knowledge.curves import Curve, classify_shape
from falcon_operator.knowledge.pca import prune_redundant_curves
from falcon_operator.knowledge.tables import Table

FORMAT = "falcon-knowledge"
VERSION = 1


@dataclass(frozen=True)
class KnowledgeSettings:
    """Knobs of the offline build (documented in docs/algorithm.md)."""

    #: cumulative share of running time the key operators (KOPs) must cover, in (0, 1]
    kop_threshold: float = 0.8
    #: explained variance kept when PCA prunes redundant curve tables, in (0, 1]
    pca_cutoff: float = 0.99
    #: prune redundant curves by PCA at all. Off by default: pruning changed no measured accuracy
    #: (docs/algorithm.md, ablation); the ablation's ``falcon-tree-pca`` switches it on
    pca: bool = False

    def __post_init__(self) -> None:
        for name in ("kop_threshold", "pca_cutoff"):
            v = getattr(self, name)
            if not 0.0 < v <= 1.0:
                raise KnowledgeError(f"{name} must be in (0, 1], got {v}")


@dataclass(frozen=True)
class Knowledge:
    """Read-only knowledge: curves (kept after pruning), source tables and operator profiles."""

    settings: KnowledgeSettings
    curves: tuple[Curve, ...] = ()
    pruned: tuple[tuple[str, str, str], ...] = ()  #: (operator, pair, reason)
    space: Space | None = None  #: the space the source tables are indexed in
    sources: Mapping[str, NDArray[np.float64]] = field(default_factory=dict)
    profiles: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    @property
    def operators(self) -> list[str]:
        return sorted({c.operator for c in self.curves})

    def curves_of(self, operator: str) -> list[Curve]:
        return [c for c in self.curves if c.operator == operator]

    def source_matrix(self, space: Space) -> tuple[list[str], NDArray[np.float64]] | None:
        """Source tables as rows over ``space``'s indices, or None if they do not fit the space."""
        if self.space is None or not self.sources:
            return None
        if self.space.names != space.names:
            return None
        if self.space == space:
            names = sorted(self.sources)
            return names, np.vstack([self.sources[n] for n in names])
        return None

    # -- persistence -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "settings": {
                "kop_threshold": self.settings.kop_threshold,
                "pca_cutoff": self.settings.pca_cutoff,
                "pca": self.settings.pca,
            },
            "curves": [c.to_dict() for c in self.curves],
            "pruned": [list(p) for p in self.pruned],
            "space": self.space.describe() if self.space else None,
            "sources": {
                k: [None if np.isnan(x) else float(x) for x in v] for k, v in self.sources.items()
            },
            "profiles": {k: dict(v) for k, v in self.profiles.items()},
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Knowledge:
        if data.get("format") != FORMAT:
            raise KnowledgeError(f"not a knowledge base (format {data.get('format')!r})")
        if data.get("version") != VERSION:
            raise KnowledgeError(
                f"knowledge base version {data.get('version')} is not supported (want {VERSION})"
            )
        try:
            space = Space.from_description(data["space"]) if data.get("space") else None
            return Knowledge(
                settings=KnowledgeSettings(**data["settings"]),
                curves=tuple(Curve.from_dict(c) for c in data["curves"]),
                pruned=tuple((str(a), str(b), str(c)) for a, b, c in data["pruned"]),
                space=space,
                sources={
                    k: np.array([np.nan if x is None else x for x in v], dtype=float)
                    for k, v in data["sources"].items()
                },
                profiles={
                    k: {o: float(s) for o, s in v.items()} for k, v in data["profiles"].items()
                },
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise KnowledgeError(f"malformed knowledge base: {exc}") from exc

    def save(self, path: Path | str) -> Path:
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(p, "wt", encoding="utf-8") as fh:
            json.dump(self.to_dict(), fh)
        return p

    @staticmethod
    def load(path: Path | str) -> Knowledge:
        p = Path(path)
        if not p.is_file():
            raise KnowledgeError(f"{p}: no such knowledge base file")
        try:
            with gzip.open(p, "rt", encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, json.JSONDecodeError, EOFError) as exc:
            raise KnowledgeError(f"{p}: not a readable knowledge base ({exc})") from exc
        return Knowledge.from_dict(data)


def build_knowledge(
    *,
    curves: Sequence[Curve] = (),
    sources: Sequence[Table] = (),
    profiles: Mapping[str, Mapping[str, float]] | None = None,
    settings: KnowledgeSettings | None = None,
) -> Knowledge:
    """Classify and prune the curves, align the source tables into one space, keep the profiles."""
    st = settings or KnowledgeSettings()
    result = prune_redundant_curves(curves, pca_cutoff=st.pca_cutoff) if curves and st.pca else None
    kept = tuple(result.kept) if result else tuple(curves)
    pruned = tuple((c.operator, c.pair, why) for c, why in result.pruned) if result else ()
    space = sources[0].space if sources else None
    aligned = {t.name: t.aligned_to(space) for t in sources} if space else {}
    if len(aligned) != len(sources):
        raise KnowledgeError("two source tables have the same name")
    return Knowledge(st, kept, pruned, space, aligned, dict(profiles or {}))


def curve_shapes(knowledge: Knowledge) -> dict[tuple[str, str], str]:
    """(operator, pair) -> classified shape, for reports."""
    return {(c.operator, c.pair): classify_shape(c).value for c in knowledge.curves}
