"""Source tables from live measurements: each source's objective over the whole live space.

Profiling measures a sample of the space (:mod:`.profiling`); the knowledge base needs every
cell. Per source, two Gaussian processes (scikit-learn, Matern 5/2 plus white noise, on the
space's encoding) are fitted to log throughput per core and log p99 of the successful
measurements; a cell's value is the predicted throughput per core, missing (NaN) where the
predicted p99 breaks the SLO or the nearest measured configuration failed to run. Each table
is then divided by its best, as the fleet's are, so sources of any speed weigh alike. The
operator shares of each source come from the ONNX analysis.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import NDArray
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

from falcon_operator.analysis.profile import analyze
from falcon_operator.core.errors import KnowledgeError
from falcon_operator.core.knobs import CPUS
from falcon_operator.core.space import Knob, Space
from falcon_operator.fleet.models import SOURCES
from falcon_operator.knowledge.base import Knowledge, KnowledgeSettings, build_knowledge
from falcon_operator.knowledge.tables import Table
from falcon_operator.live.profiling import Measured, ProfileCache, model_file

Array = NDArray[np.float64]
#: fewest successful measurements a source needs to be fitted
MIN_OK = 5


def _gp(x: Array, y: Array) -> GaussianProcessRegressor:
    kernel = ConstantKernel(1.0) * Matern(length_scale=np.ones(x.shape[1]), nu=2.5) + WhiteKernel(
        0.05
    )
    gp = GaussianProcessRegressor(kernel, normalize_y=True, random_state=0, n_restarts_optimizer=2)
    with warnings.catch_warnings():  # a length scale at its bound is a flat knob, not an error
        warnings.simplefilter("ignore", ConvergenceWarning)
        return gp.fit(x, y)


def source_table(
    name: str, space: Space, measured: Sequence[Measured], *, slo_p99_ms: float | None
) -> Table:
    """``name``'s table over ``space`` fitted to its measurements (values relative to its best)."""
    rows = [m for m in measured if m.ok and m.rps > 0 and m.p99_ms > 0]
    if len(rows) < MIN_OK:
        raise KnowledgeError(
            f"source {name}: {len(rows)} successful live measurements, {MIN_OK} needed "
            "(run falcon kb build --live with more --samples)"
        )
    every = space.all_indices()
    grid = space.encode(every)
    x = space.encode(np.array([space.index_of(m.config) for m in rows]))
    per_core = np.log([m.rps / float(m.config[CPUS]) for m in rows])
    value = np.exp(_gp(x, per_core).predict(grid))
    if slo_p99_ms is not None:
        p99 = np.exp(_gp(x, np.log([m.p99_ms for m in rows])).predict(grid))
        value[p99 > slo_p99_ms] = np.nan
    bad = [m for m in measured if not m.ok]
    if bad:  # cells nearer a configuration that failed to run than any that ran: missing
        x_bad = space.encode(np.array([space.index_of(m.config) for m in bad]))
        near_ok = _nearest(grid, x)
        near_bad = _nearest(grid, x_bad)
        value[near_bad < near_ok] = np.nan
    values = np.full(space.size, np.nan)
    values[every] = value
    best = np.nanmax(values) if np.any(~np.isnan(values)) else 1.0
    return Table(name, space, values / best, objective_name="rps/core")


def _nearest(grid: Array, points: Array) -> Array:
    d = ((grid[:, None, :] - points[None, :, :]) ** 2).sum(axis=2)
    return np.asarray(d.min(axis=1), dtype=float)


def profiled_space(space: Space, measured: Sequence[Measured]) -> Space:
    """The space the measurements were drawn from: ``space``'s knobs, each with the values
    measured (a search over other values of a knob gets no prior there)."""
    values = {k.name: sorted({m.config[k.name] for m in measured if k.name in m.config})
              for k in space.knobs}  # fmt: skip
    missing = [name for name, vals in values.items() if not vals]
    if missing:
        raise KnowledgeError(f"the live profiles have no values of knobs {missing}")
    return Space(tuple(Knob(k.name, tuple(values[k.name]), k.kind) for k in space.knobs))


def fitted_table(
    name: str, space: Space, measured: Sequence[Measured], *, slo_p99_ms: float | None
) -> Table:
    """``name``'s table fitted over the space it was profiled in, then aligned to ``space``
    (and divided by its best there)."""
    rows = [m for m in measured if set(m.config) == set(space.names)]
    table = source_table(name, profiled_space(space, rows), rows, slo_p99_ms=slo_p99_ms)
    values = table.aligned_to(space)
    if np.all(np.isnan(values)):
        raise KnowledgeError(f"source {name}: no profiled configuration lies in this space")
    return Table(name, space, values / np.nanmax(values), objective_name=table.objective_name)


def live_knowledge(
    space: Space,
    measured: Mapping[str, Sequence[Measured]],
    *,
    cache: ProfileCache,
    slo_p99_ms: float | None,
    settings: KnowledgeSettings | None = None,
) -> Knowledge:
    """The knowledge base of the live sources: fitted tables and their operator shares."""
    tables = [
        fitted_table(name, space, rows, slo_p99_ms=slo_p99_ms)
        for name, rows in sorted(measured.items())
    ]
    profiles = {
        name: analyze(model_file(name, cache.folder / "models")).shares() for name in measured
    }
    return build_knowledge(sources=tables, profiles=profiles, settings=settings)


def cached_knowledge(
    space: Space, cache: ProfileCache, *, slo_p99_ms: float | None
) -> Knowledge | None:
    """The knowledge base of every source profiled in ``cache`` with at least :data:`MIN_OK`
    successful measurements (None when there is none)."""
    if not cache.folder.is_dir():
        return None
    names = sorted({p.stem.rsplit("-", 1)[0] for p in cache.folder.glob("*.jsonl")})
    measured = {n: cache.read(n) for n in names if n in SOURCES}
    measured = {n: rows for n, rows in measured.items() if sum(m.ok for m in rows) >= MIN_OK}
    if not measured:
        return None
    return live_knowledge(space, measured, cache=cache, slo_p99_ms=slo_p99_ms)
