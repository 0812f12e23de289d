"""The trial history: one JSON record per finished trial in the ConfigMap ``<search>-trials``.

It is the source of truth: the engine is rebuilt from it after a restart. Keys are
``t<index>.json``; a record is written before its trial pod is deleted, so a trial is either
recorded or still has its pod.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from falcon_operator.core.errors import DataError
from falcon_operator.core.records import TrialRecord


@dataclass(frozen=True)
class TrialEntry:
    """One finished trial: the engine's record (with its failure kind) plus where and how it ran.

    Its JSON is the record's keys (``failure`` included, ``""`` when ok) and the entry's own.
    """

    index: int
    name: str
    record: TrialRecord
    pod: str = ""  #: the pod it ran on (an earlier trial's pod when reused)
    reused: bool = False
    started_at: str = ""
    finished_at: str = ""
    duration_s: float = 0.0
    saved_s: float = 0.0  #: wall-clock a reused pod saved (its start-up time)
    node: str = ""

    @property
    def counts_as_failed(self) -> bool:
        """Whether this trial uses up the failure budget (maxFailedTrials): its kind's policy."""
        return self.record.counts_against_budget

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            **self.record.to_dict(),
            "pod": self.pod,
            "reused": self.reused,
            "failure": "" if self.record.failure is None else self.record.failure.value,
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
            "durationSeconds": round(self.duration_s, 3),
            "savedSeconds": round(self.saved_s, 3),
            "node": self.node,
        }

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> TrialEntry:
        try:
            return TrialEntry(
                index=int(data["index"]),
                name=str(data["name"]),
                record=TrialRecord.from_dict(data),
                pod=str(data.get("pod", "")),
                reused=bool(data.get("reused", False)),
                started_at=str(data.get("startedAt", "")),
                finished_at=str(data.get("finishedAt", "")),
                duration_s=float(data.get("durationSeconds", 0.0)),
                saved_s=float(data.get("savedSeconds", 0.0)),
                node=str(data.get("node", "")),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"malformed trial entry {dict(data)!r}: {exc}") from exc


def entry_key(index: int) -> str:
    return f"t{index:03d}.json"


def encode_entry(entry: TrialEntry) -> dict[str, str]:
    """The ConfigMap data patch that records ``entry``."""
    return {entry_key(entry.index): json.dumps(entry.to_dict(), sort_keys=True, allow_nan=False)}


def decode_history(data: Mapping[str, str] | None) -> list[TrialEntry]:
    """Entries of a history ConfigMap's data, by index; a malformed one is a DataError."""
    entries = []
    for key, text in (data or {}).items():
        try:
            raw = json.loads(text)
        except ValueError as exc:
            raise DataError(f"history record {key} is not JSON: {exc}") from exc
        if not isinstance(raw, Mapping):
            raise DataError(f"history record {key} is not an object")
        entries.append(TrialEntry.from_dict(raw))
    entries.sort(key=lambda e: e.index)
    if len({e.index for e in entries}) != len(entries):
        raise DataError("history holds two records for one trial index")
    return entries


def records(entries: Iterable[TrialEntry]) -> list[TrialRecord]:
    """The engine's history, in trial order."""
    return [e.record for e in sorted(entries, key=lambda e: e.index)]
