"""Read back what Triton Model Analyzer measured: its CSV, its log and its variant configs.

Three files of one ``model-analyzer profile`` run are joined:

- ``<export>/results/metrics-model-inference.csv``: one row per (model config variant, client
  batch, concurrency) MA measured, passing or failing the constraints, with throughput and p99.
- MA's console log: MA logs ``Profiling <variant>: concurrency=<c>`` exactly once per
  perf_analyzer run it starts (``MetricsManager.profile_models``); a run config it already
  measured logs "Existing measurement found ... Skipping profile" instead, with no "Profiling"
  line. So the order of the "Profiling" lines is the order of measurement. A "Profiling" line
  whose perf_analyzer run failed has no CSV row and is dropped. (MA's checkpoint groups the
  measurements by variant and carries no timestamps, so it cannot give the global order.)
- ``<output repository>/<variant>/config.pbtxt``: the instance count, ``max_batch_size`` and
  dynamic batching the variant was served with. MA's CSV column "Instance Group" is not used
  for the count: for a config without ``instance_group`` it says ``1:CPU``, while Triton 2.51
  serves such a CPU model with 2 instances (that is why the base config we give MA names its
  instance group explicitly).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from falcon_operator.core.errors import FalconError

CSV_PATH = Path("results") / "metrics-model-inference.csv"
_PROFILING = re.compile(
    r"Profiling (?P<variant>\S+): (?:client batch size=(?P<batch>\d+), )?"
    r"concurrency=(?P<concurrency>\d+)\s*$"
)
_INSTANCE_GROUP = re.compile(r"^instance_group\s*\{(?P<body>[^{}]*)\}", re.MULTILINE)
_COUNT = re.compile(r"^\s*count:\s*(\d+)\s*$", re.MULTILINE)
_MAX_BATCH = re.compile(r"^max_batch_size:\s*(\d+)\s*$", re.MULTILINE)
_DYNAMIC = re.compile(r"^dynamic_batching\s*\{", re.MULTILINE)


class AnalyzerError(FalconError):
    """Triton Model Analyzer is missing, failed, or left nothing that can be read back."""


class AnalyzerResultsError(AnalyzerError):
    """MA's output is missing or does not fit together (no measurements, unknown variants)."""


@dataclass(frozen=True)
class AnalyzerMeasurement:
    """One perf_analyzer measurement MA made, as the configuration it measured."""

    config: Mapping[str, int]  # {"instances": n, "batchsize": max_batch_size, "concurrency": c}
    throughput: float  # inferences/s as MA measured it
    p99_ms: float
    order: int  # 1-based order in which MA measured it
    variant: str  # MA's model config variant (e.g. "resnet-mini_config_3")
    dynamic_batching: bool  # the variant has dynamic_batching (MA's "default" variant has not)


@dataclass(frozen=True)
class VariantConfig:
    instances: int
    max_batch_size: int
    dynamic_batching: bool


def profiling_order(log: str) -> list[tuple[str, int, int]]:
    """``(variant, client batch, concurrency)`` of every perf_analyzer run MA started, in order."""
    out: list[tuple[str, int, int]] = []
    for line in log.splitlines():
        m = _PROFILING.search(line)
        if m:
            out.append((m["variant"], int(m["batch"] or 1), int(m["concurrency"])))
    return out


def variant_config(pbtxt: str, *, where: str = "config.pbtxt") -> VariantConfig:
    """Instance count (summed over groups), max_batch_size and dynamic batching of a config."""
    groups = [g["body"] for g in _INSTANCE_GROUP.finditer(pbtxt)]
    batch = _MAX_BATCH.search(pbtxt)
    if not groups or batch is None:
        raise AnalyzerResultsError(f"{where}: no instance_group or max_batch_size")
    counts = [int(c[1]) if (c := _COUNT.search(g)) else 1 for g in groups]
    return VariantConfig(sum(counts), int(batch[1]), bool(_DYNAMIC.search(pbtxt)))


def csv_rows(text: str) -> list[dict[str, str]]:
    """The rows of MA's inference CSV (its header names as keys)."""
    return [dict(row) for row in csv.DictReader(io.StringIO(text))]


def _float(row: Mapping[str, str], column: str) -> float:
    try:
        return float(row[column])
    except (KeyError, ValueError):
        raise AnalyzerResultsError(
            f"MA's CSV row {dict(row)} has no number in {column!r}"
        ) from None


def measurements(
    csv_text: str, log: str, variants: Mapping[str, VariantConfig]
) -> tuple[AnalyzerMeasurement, ...]:
    """Every row of MA's CSV as a measurement, in MA's measurement order (from ``log``).

    ``order`` counts the measurements that produced a row, 1..n (a perf_analyzer run that
    failed is logged but has no row, and takes no number).
    """
    order = {key: i for i, key in reversed(list(enumerate(profiling_order(log), 1)))}
    out: list[AnalyzerMeasurement] = []
    for row in csv_rows(csv_text):
        variant = row.get("Model Config Path", "")
        key = (variant, int(row.get("Batch") or 1), int(row.get("Concurrency") or 0))
        if key not in order:
            raise AnalyzerResultsError(f"MA's log never says it profiled {key} (CSV row {row})")
        if variant not in variants:
            raise AnalyzerResultsError(f"no config.pbtxt of MA's variant {variant!r}")
        v = variants[variant]
        config = {"instances": v.instances, "batchsize": v.max_batch_size, "concurrency": key[2]}
        out.append(AnalyzerMeasurement(
            config, _float(row, "Throughput (infer/sec)"), _float(row, "p99 Latency (ms)"),
            order[key], variant, v.dynamic_batching,
        ))  # fmt: skip
    if not out:
        raise AnalyzerResultsError("Model Analyzer measured nothing (its CSV has no rows)")
    # failed perf_analyzer runs leave gaps in the log's numbering: renumber 1..n
    ranked = sorted(out, key=lambda m: m.order)
    return tuple(replace(m, order=i) for i, m in enumerate(ranked, 1))


def read_results(
    export: Path, log: str, output_repository: Path
) -> tuple[AnalyzerMeasurement, ...]:
    """:func:`measurements` of one MA run from its export folder and output repository."""
    path = export / CSV_PATH
    if not path.is_file():
        raise AnalyzerResultsError(f"Model Analyzer wrote no {path}: it measured nothing")
    variants = {
        d.name: variant_config((d / "config.pbtxt").read_text(), where=str(d / "config.pbtxt"))
        for d in sorted(output_repository.iterdir())
        if (d / "config.pbtxt").is_file()
    }
    return measurements(path.read_text(), log, variants)
