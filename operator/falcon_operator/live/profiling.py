"""Offline profiling, live: source models measured on this host, cached under ``$FALCON_CACHE``.

``falcon kb build --live`` measures every source model (built ONNX graphs of
:data:`falcon_operator.fleet.models.SOURCES`, default :data:`DEFAULT_SOURCES`) in ``samples``
configurations of the live space, drawn once per (source, seed) without replacement, with a
real Triton per configuration (:class:`~.trial.LiveBackend`, no SLO: throughput and p99 are kept
as measured, so one profile serves every SLO). Each measurement is appended to
``$FALCON_CACHE/live/<host>/<source>-<model digest>.jsonl`` the moment it ends, so an
interrupted build resumes where it stopped and a repeated one measures nothing new.
``<host>`` names the CPU model and core count, the Triton version and the trial settings.
"""

from __future__ import annotations

import hashlib
import json
import platform
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import onnx

from falcon_operator.core.errors import KnowledgeError, SpaceError
from falcon_operator.core.records import Outcome, TrialRecord
from falcon_operator.core.space import Config, Space, Value
from falcon_operator.fleet.models import SOURCES
from falcon_operator.live.judge import LiveObjective
from falcon_operator.live.space import DEFAULT_SAMPLES, DEFAULT_SOURCES, host_cores
from falcon_operator.live.trial import LiveBackend, LiveTrialSettings
from falcon_operator.triton.install import TRITON_VERSION, cache_dir

_NO_SLO = LiveObjective()
Trial = Callable[[Mapping[str, Value]], TrialRecord]


@dataclass(frozen=True)
class Measured:
    """One cached measurement of a source model in one configuration."""

    config: Mapping[str, Value]
    ok: bool
    rps: float
    p99_ms: float
    reason: str = ""

    @staticmethod
    def of(record: TrialRecord) -> Measured:
        m = record.metrics
        ok = record.outcome is Outcome.OK
        return Measured(dict(record.config), ok, m.get("rps", 0.0), m.get("p99_ms", 0.0),
                        record.reason)  # fmt: skip


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def host_key(settings: LiveTrialSettings) -> str:
    """What makes measurements of this host comparable: CPU, cores, Triton, trial settings."""
    text = json.dumps(
        {"cpu": _cpu_model(), "cores": len(host_cores()), "triton": TRITON_VERSION,
         "trial": asdict(settings)}, sort_keys=True,
    )  # fmt: skip
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def model_file(source: str, folder: Path) -> Path:
    """The ONNX file of source model ``source`` (built once into ``folder``)."""
    if source not in SOURCES:
        raise KnowledgeError(f"unknown source model {source!r}; the sources are {sorted(SOURCES)}")
    path = folder / f"{source}.onnx"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        onnx.save(SOURCES[source](), str(path))
    return path


def sample(space: Space, count: int, *, seed: int) -> list[Config]:
    """``count`` distinct configurations of ``space`` (all of them when it has fewer)."""
    indices = space.all_indices()
    rng = np.random.default_rng(seed)
    chosen = rng.permutation(indices)[: min(count, len(indices))]
    return [space.config_at(int(i)) for i in chosen]


class ProfileCache:
    """The cached live measurements of this host (one JSON-lines file per source model)."""

    def __init__(self, settings: LiveTrialSettings, *, root: Path | None = None) -> None:
        self.settings = settings
        self.folder = (root or cache_dir() / "live") / host_key(settings)

    def path(self, source: str) -> Path:
        digest = hashlib.sha256(model_file(source, self.folder / "models").read_bytes())
        return self.folder / f"{source}-{digest.hexdigest()[:12]}.jsonl"

    def read(self, source: str) -> list[Measured]:
        path = self.path(source)
        if not path.is_file():
            return []
        out = []
        for line in path.read_text().splitlines():
            try:
                raw = json.loads(line)
                out.append(Measured(raw["config"], bool(raw["ok"]), float(raw["rps"]),
                                    float(raw["p99_ms"]), str(raw.get("reason", ""))))  # fmt: skip
            except (ValueError, KeyError, TypeError):
                continue  # a line cut short by an interrupted build
        return out

    def append(self, source: str, measured: Measured) -> None:
        """Add one line (after a line an interrupted build cut short, on a line of its own)."""
        line = json.dumps(asdict(measured), sort_keys=True).encode() + b"\n"
        with self.path(source).open("a+b") as fh:
            if fh.tell() > 0:
                fh.seek(-1, 2)
                if fh.read(1) != b"\n":
                    line = b"\n" + line
            fh.write(line)


def profile_sources(
    space: Space,
    *,
    sources: Sequence[str] = DEFAULT_SOURCES,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
    settings: LiveTrialSettings | None = None,
    cache: ProfileCache | None = None,
    on_trial: Callable[[str, Config, Measured, bool], None] = lambda *_: None,
    trial: Callable[[Path], Trial] | None = None,
) -> dict[str, list[Measured]]:
    """Measure every source in ``samples`` configurations (cached ones are not measured again).

    ``on_trial(source, config, measured, cached)`` is called once per configuration.
    ``trial(model_file)`` gives the function that measures one configuration (default: a real
    Triton per configuration, :class:`~.trial.LiveBackend` without an SLO).
    """
    settings = settings or LiveTrialSettings()
    cache = cache or ProfileCache(settings)
    out: dict[str, list[Measured]] = {}
    for source in sources:
        path = model_file(source, cache.folder / "models")
        done = {space.key(m.config): m for m in cache.read(source) if _in(space, m.config)}
        run = trial(path) if trial else LiveBackend(path, objective=_NO_SLO, settings=settings).run
        for config in sample(space, samples, seed=seed):
            key = space.key(config)
            if key in done:
                on_trial(source, config, done[key], True)
                continue
            measured = Measured.of(run(config))
            cache.append(source, measured)
            done[key] = measured
            on_trial(source, config, measured, False)
        out[source] = list(done.values())
    return out


def _in(space: Space, config: Mapping[str, Value]) -> bool:
    try:
        space.validate(config)
    except SpaceError:  # a configuration of another space is simply not used
        return False
    return True
