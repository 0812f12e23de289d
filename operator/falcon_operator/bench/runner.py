"""Run strategies against target tables: one search per (method, target, seed), in parallel.

Knowledge is built from the sources only; each target's operator profile (if the dataset has
one) is handed to the strategy as the unseen model's profile. Each search is the shared ask/tell
driver's (search/driver.py) against the table; the latency of every ask and the configurations
tried are kept.
Leave-one-out runs use one knowledge base per held-out source (``Job.knowledge_key``).
Each search's strategy gets its own random stream, keyed by (method, target, seed)
(bench/streams.py), so targets and methods never share one. With ``Job.noise_sigma`` the oracle
measures with noise (bench/noisy.py) and a run's best-so-far is the true value of the
configuration with the best measured objective so far. A method may be an ablation variant of
Falcon (bench/ablation.py); its knowledge base is the one its job names, and with
``Job.stream`` it may draw Falcon's stream instead of its own.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from falcon_operator.backends.table import TableOracle
from falcon_operator.bench.ablation import make_bench_strategy
from falcon_operator.bench.noisy import NoisyTableOracle, deployed_best
from falcon_operator.bench.runs import RunResult
from falcon_operator.bench.streams import stream_seed
from falcon_operator.core.objective import Objective
from falcon_operator.core.space import Config
from falcon_operator.knowledge.base import Knowledge
from falcon_operator.knowledge.tables import Table
from falcon_operator.search.driver import Budget, Driver


@dataclass(frozen=True)
class Job:
    method: str
    target: Table
    profile: dict[str, float]
    seed: int
    trials: int
    #: which knowledge base (key into the mapping given to run_jobs); "" is the shared one
    knowledge_key: str = ""
    #: the objective the target's table is scored by, for priors in throughput units (KOP
    #: curves); None where the tables' GPUs have no price (the paper's integer codes)
    objective: Objective | None = None
    #: measurement noise of the oracle (log-normal sigma, bench/noisy.py); 0 = the table's
    #: true values, as the paper and fleet benchmarks use
    noise_sigma: float = 0.0
    #: whose random stream the search draws: "" its own method's; an ablation variant may draw
    #: Falcon's (common random numbers, ``falcon bench --ablation --common-streams``)
    stream: str = ""


@dataclass(frozen=True)
class JobResult:
    run: RunResult
    latencies: tuple[float, ...]
    #: the configurations tried, in order (the search path; bench/paper_eval)
    configs: tuple[Config, ...] = ()


KnowledgeSet = Mapping[str, Knowledge]
_KNOWLEDGE: KnowledgeSet = {}


def _init(knowledge: KnowledgeSet) -> None:
    global _KNOWLEDGE
    _KNOWLEDGE = knowledge


def run_job(job: Job, knowledge: KnowledgeSet | None = None) -> JobResult:
    kb = (knowledge if knowledge is not None else _KNOWLEDGE)[job.knowledge_key]
    seed = stream_seed(job.seed, job.stream or job.method, job.target.name)
    strategy = make_bench_strategy(
        job.method,
        job.target.space,
        kb,
        profile=job.profile,
        seed=seed,
        objective=job.objective,
    )
    latencies: list[float] = []
    driver = Driver(strategy, Budget(job.trials), observe=latencies.append)
    best: list[float] = []
    if job.noise_sigma > 0:  # the true value of the best *measured* configuration so far
        noisy = NoisyTableOracle(job.target, sigma=job.noise_sigma, seed=seed)
        history = driver.run(noisy.run).history
        best = deployed_best([r.objective for r in history], noisy.truth)
    else:
        history = driver.run(TableOracle(job.target).run).history
        for record in history:
            prev = best[-1] if best else float("nan")
            value = record.objective if record.objective is not None else float("nan")
            best.append(value if not best or prev != prev or value > prev else prev)
    infeasible = sum(not record.ok for record in history)
    run = RunResult(
        job.method, job.target.name, job.seed, tuple(best), job.target.best, infeasible, seed
    )
    return JobResult(run, tuple(latencies), tuple(dict(r.config) for r in history))


def run_jobs(
    jobs: Sequence[Job],
    knowledge: KnowledgeSet,
    *,
    workers: int | None = None,
    on_done: Callable[[JobResult], None] | None = None,
) -> list[JobResult]:
    """Run every job (in ``workers`` processes; 1 runs in this process) in a stable order."""
    n = workers or min(len(jobs), os.cpu_count() or 1)
    results: list[JobResult] = []
    if n <= 1:
        for job in jobs:
            res = run_job(job, knowledge)
            results.append(res)
            if on_done:
                on_done(res)
        return results
    with ProcessPoolExecutor(n, initializer=_init, initargs=(knowledge,)) as pool:
        for res in pool.map(run_job, jobs, chunksize=1):
            results.append(res)
            if on_done:
                on_done(res)
    return results
