"""One scrape of Triton's ``/metrics``: every sample, by metric name, and when it was taken.

Parsing uses ``prometheus_client``'s text parser. That parser names counter samples
``<name>_total``; a snapshot stores them under the family name Triton exposes (e.g.
``nv_inference_count``), so lookups use the names in :mod:`falcon_operator.metrics.names`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from prometheus_client.parser import text_string_to_metric_families

from falcon_operator.metrics.errors import MetricsFormatError
from falcon_operator.metrics.names import REQUEST_SUCCESS

LabelKey = tuple[tuple[str, str], ...]  #: a series' labels, sorted: identifies it across scrapes


@dataclass(frozen=True)
class Sample:
    """One series' value in one scrape."""

    labels: Mapping[str, str]
    value: float

    @property
    def key(self) -> LabelKey:
        return tuple(sorted(self.labels.items()))


@dataclass(frozen=True)
class Snapshot:
    """Every sample of one scrape. ``taken_at`` is a monotonic clock reading in seconds."""

    taken_at: float
    series: Mapping[str, tuple[Sample, ...]] = field(default_factory=dict)

    def samples(self, name: str) -> tuple[Sample, ...]:
        """All samples of metric ``name`` (empty when the scrape does not have it)."""
        return self.series.get(name, ())

    def model_samples(
        self, name: str, *, model: str, version: str | None = None
    ) -> Iterator[Sample]:
        """Samples of ``name`` for ``model`` (and ``version`` when given), e.g. every reason."""
        for s in self.samples(name):
            if s.labels.get("model") == model and (
                version is None or s.labels.get("version") == version
            ):
                yield s

    def models(self) -> tuple[str, ...]:
        """Models with a success counter, sorted."""
        return tuple(
            sorted(
                {s.labels["model"] for s in self.samples(REQUEST_SUCCESS) if "model" in s.labels}
            )
        )

    def gauge_by_gpu(
        self, name: str, *, gpu_uuids: Collection[str] | None = None
    ) -> dict[str, float]:
        """A GPU gauge per ``gpu_uuid`` (only the listed GPUs when ``gpu_uuids`` is given)."""
        out: dict[str, float] = {}
        for s in self.samples(name):
            uuid = s.labels.get("gpu_uuid")
            if uuid is not None and (gpu_uuids is None or uuid in gpu_uuids):
                out[uuid] = out.get(uuid, 0.0) + s.value
        return out


def parse_metrics(text: str, *, taken_at: float) -> Snapshot:
    """Parse a Prometheus text body; :class:`MetricsFormatError` when it is not one."""
    series: dict[str, list[Sample]] = {}
    try:
        for family in text_string_to_metric_families(text):
            for s in family.samples:
                name = s.name
                if family.type == "counter":
                    if s.name.endswith("_created"):
                        continue  # creation timestamps, not counts
                    name = family.name
                series.setdefault(name, []).append(
                    Sample(MappingProxyType(dict(s.labels)), float(s.value))
                )
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        first = text.strip().splitlines()[0][:80] if text.strip() else "(empty)"
        raise MetricsFormatError(
            f"not Prometheus text format ({exc}); body starts {first!r}"
        ) from exc
    return Snapshot(taken_at, MappingProxyType({k: tuple(v) for k, v in series.items()}))
