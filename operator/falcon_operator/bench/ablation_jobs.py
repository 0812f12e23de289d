"""Knowledge for the ablation variants whose mechanism is offline (PCA): their jobs' own bases.

The benchmark plans its jobs and knowledge bases as for any method; :func:`variant_knowledge`
then points each job of such a variant (bench/ablation.py ``Variant.knowledge``) at a knowledge
base rebuilt from the same sources and profiles as the job's own, from the dataset's curves
before pruning, with the variant's build settings. So a variant sees exactly the sources full
Falcon sees on the same target (leave-one-out included).

:func:`common_streams` lets every variant draw Falcon's random stream on the same (target, seed)
(common random numbers): the GP's restarts and, in a noisy world, the noise of each trial
(drawn in trial order, bench/noisy.py) are then the same, so two searches that agree so far stay
identical: a variant whose switch changes nothing ties Falcon exactly, and a paired difference
comes from the mechanism, not from the streams.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from falcon_operator.bench.ablation import (
    REFERENCE,
    Variant,
    is_variant,
    settings_diff,
    variant,
    with_knowledge,
)
from falcon_operator.bench.runner import Job
from falcon_operator.knowledge.base import Knowledge, KnowledgeSettings, build_knowledge
from falcon_operator.knowledge.curves import Curve
from falcon_operator.knowledge.tables import Table


def rebuild(kb: Knowledge, curves: Sequence[Curve], variant: Variant) -> Knowledge:
    """``kb`` built again from the same sources and profiles and the dataset's raw ``curves``,
    its build settings changed where the variant changes them."""
    assert variant.knowledge is not None
    changed = settings_diff(KnowledgeSettings(), variant.knowledge)
    settings = replace(kb.settings, **{n: getattr(variant.knowledge, n) for n in changed})
    space = kb.space
    sources = [Table(n, space, v) for n, v in kb.sources.items()] if space is not None else []
    return build_knowledge(curves=curves, sources=sources, profiles=kb.profiles, settings=settings)


def variant_knowledge(
    jobs: Sequence[Job], knowledge: dict[str, Knowledge], curves: Callable[[str], Sequence[Curve]]
) -> list[Job]:
    """Jobs of variants with their own build pointed at ``<variant>/<key>`` knowledge bases,
    added to ``knowledge``: each rebuilt from the job's own base (the same sources) and
    ``curves(key)``, the dataset's curves before pruning."""
    out: list[Job] = []
    for job in jobs:
        if not with_knowledge(job.method):
            out.append(job)
            continue
        key = f"{job.method}/{job.knowledge_key}"
        found = variant(job.method)
        if key not in knowledge and found is not None:
            base = knowledge[job.knowledge_key]
            knowledge[key] = rebuild(base, curves(job.knowledge_key), found)
        out.append(replace(job, knowledge_key=key))
    return out


def common_streams(jobs: Sequence[Job]) -> list[Job]:
    """Jobs of ablation variants set to draw Falcon's random stream; other jobs unchanged."""
    return [replace(j, stream=REFERENCE) if is_variant(j.method) else j for j in jobs]
