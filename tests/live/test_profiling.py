"""Live profiling's cache: one line per measurement, resumed, never measured twice."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from falcon_operator.core.records import FailureKind, Outcome, TrialRecord
from falcon_operator.core.space import Value
from falcon_operator.live.profiling import ProfileCache, profile_sources, sample
from falcon_operator.live.space import live_space
from falcon_operator.live.trial import LiveTrialSettings

SPACE = live_space(cores=2)


class Counting:
    """Measures by a formula and counts the configurations it was asked for."""

    def __init__(self) -> None:
        self.asked: list[dict[str, Value]] = []

    def __call__(self, path: Path):  # type: ignore[no-untyped-def]
        assert path.is_file() and path.suffix == ".onnx"

        def run(config: Mapping[str, Value]) -> TrialRecord:
            self.asked.append(dict(config))
            if config["batchsize"] == 16 and config["instances"] == 3:
                return TrialRecord.failed(config, FailureKind.MODEL_LOAD, "refused")
            rps = 100.0 * float(config["cpus"]) + float(config["batchsize"])
            metrics = {"rps": rps, "p99_ms": 5.0 + float(config["concurrency"])}
            return TrialRecord(dict(config), Outcome.OK, rps, metrics=metrics)

        return run


def test_samples_are_distinct_reproducible_and_bounded_by_the_space() -> None:
    first = sample(SPACE, 20, seed=3)
    assert len({SPACE.key(c) for c in first}) == 20
    assert sample(SPACE, 20, seed=3) == first != sample(SPACE, 20, seed=4)
    assert len(sample(live_space(LiveSpaceSettings_small(), cores=1), 99, seed=0)) == 4


def LiveSpaceSettings_small():  # type: ignore[no-untyped-def]  # noqa: N802
    from falcon_operator.live.space import LiveSpaceSettings

    return LiveSpaceSettings(batch_sizes=(1, 2), instances=(1,), concurrency=(1, 2),
                             ort_threads=(1,), queue_delay_us=(0,))  # fmt: skip


def test_a_second_build_measures_nothing_and_a_larger_one_only_the_new_configurations(
    tmp_path: Path,
) -> None:
    cache = ProfileCache(LiveTrialSettings(), root=tmp_path)
    counting = Counting()
    first = profile_sources(SPACE, sources=["resnet-s"], samples=6, cache=cache, trial=counting)
    assert len(first["resnet-s"]) == 6 and len(counting.asked) == 6
    again = profile_sources(SPACE, sources=["resnet-s"], samples=6, cache=cache, trial=counting)
    assert len(counting.asked) == 6 and again == first
    more = profile_sources(SPACE, sources=["resnet-s"], samples=9, cache=cache, trial=counting)
    assert len(counting.asked) == 9 and len(more["resnet-s"]) == 9
    lines = cache.path("resnet-s").read_text().splitlines()
    assert len(lines) == 9


def test_a_line_cut_short_by_an_interruption_is_measured_again(tmp_path: Path) -> None:
    cache = ProfileCache(LiveTrialSettings(), root=tmp_path)
    counting = Counting()
    profile_sources(SPACE, sources=["bert-s"], samples=3, cache=cache, trial=counting)
    path = cache.path("bert-s")
    path.write_text(path.read_text()[:-20])  # the last line lost its end
    profile_sources(SPACE, sources=["bert-s"], samples=3, cache=cache, trial=counting)
    assert len(counting.asked) == 4
    assert len(cache.read("bert-s")) == 3
