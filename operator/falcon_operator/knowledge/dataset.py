"""A directory in the Falcon layout: source and target tables, operator curves, model profiles.

Layout (see data/falcon/README.md)::

    models/sources/reg-<model>.csv          source tables (knowledge)
    models/targets/reg-<model>.csv          target tables (benchmark data, never knowledge)
    models/model-operator/<model>/operators.csv   a model's operator time shares
    operators/<pair>/<op>-<k1>-<k2>-time.csv      operator resource curves

The project ships the public Falcon data under ``falcon_operator/data/falcon`` (Apache-2.0,
see NOTICE); any other directory in the same layout works unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from falcon_operator.core.errors import DataError
from falcon_operator.core.space import Space
from falcon_operator.knowledge.base import Knowledge, KnowledgeSettings, build_knowledge
from falcon_operator.knowledge.curves import Curve, load_operator_curves
from falcon_operator.knowledge.kops import read_operator_shares
from falcon_operator.knowledge.tables import Table, find_tables, read_tables, table_name


def default_data_dir() -> Path:
    """The Falcon data shipped inside the package."""
    return Path(__file__).resolve().parent.parent / "data" / "falcon"


@dataclass(frozen=True)
class FalconDataset:
    root: Path

    def __post_init__(self) -> None:
        if not self.root.is_dir():
            raise DataError(f"{self.root}: no such data directory")

    def table_paths(self, kind: str, names: Sequence[str] | None = None) -> list[Path]:
        paths = find_tables(self.root, kind)
        if not names:
            return paths
        by_name = {table_name(p): p for p in paths}
        missing = [n for n in names if n not in by_name]
        if missing:
            raise DataError(f"no {kind} table named {missing}; have {sorted(by_name)}")
        return [by_name[n] for n in names]

    def tables(
        self, kind: str, names: Sequence[str] | None = None, *, space: Space | None = None
    ) -> list[Table]:
        """The tables of ``kind``, in ``space`` if given (else the first table's own space).

        Pass the knowledge base's space for targets: a target whose table lacks every row of some
        knob value (say, a batch size that never fits) is still searched over the whole space.
        """
        return read_tables(self.table_paths(kind, names), space=space)

    def profile(self, model: str) -> dict[str, float]:
        """The model's operator shares, or {} when the dataset has none for it."""
        path = self.root / "models" / "model-operator" / model / "operators.csv"
        return read_operator_shares(path) if path.is_file() else {}

    def curves(self) -> list[Curve]:
        folder = self.root / "operators"
        return load_operator_curves(folder) if folder.is_dir() else []

    def knowledge(
        self, *, sources: Sequence[str] | None = None, settings: KnowledgeSettings | None = None
    ) -> Knowledge:
        """Knowledge from this dataset's sources only (targets never enter it)."""
        tables = self.tables("sources", sources)
        profiles = {t.name: p for t in tables if (p := self.profile(t.name))}
        return build_knowledge(
            curves=self.curves(), sources=tables, profiles=profiles, settings=settings
        )
