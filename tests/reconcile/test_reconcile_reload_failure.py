"""A reused pod whose Triton refuses the reloaded configuration: kind ``model-load`` (infeasible),
read from the reload's structure (Triton answered, and refused), not from its message; a server
that cannot be reached is a ``crash``."""

from __future__ import annotations

import asyncio

import pytest
from fake_kube import FakeKube, model_ref

from falcon_operator.core.records import FailureKind, Outcome, TrialRecord
from falcon_operator.core.space import Value
from falcon_operator.reconcile import measure
from falcon_operator.reconcile.plan import Launch
from falcon_operator.reconcile.prepare import prepare, shipped_knowledge
from falcon_operator.reconcile.settings import ControllerSettings
from falcon_operator.trials.manifest import SearchRef
from falcon_operator.trials.readback import read_pod
from falcon_operator.trials.reload import ReloadError

REF = SearchRef("resnet-mini", "team-a", "0000-1111")
BODY = {
    "spec": {
        "model": model_ref(),
        "searchSpace": {"gpus": [{"type": "T4"}], "batchSizes": [4, 8]},
    }
}
CONFIG: dict[str, Value] = {
    "batchsize": 8, "cpus": 2, "gpumem": 0.0, "gpupower": 100, "gputype": "T4"
}  # fmt: skip


def _reused(monkeypatch: pytest.MonkeyPatch, error: ReloadError) -> TrialRecord:
    def refuse(*args: object, **kwargs: object) -> None:
        raise error

    monkeypatch.setattr(measure, "reload_model", refuse)
    view = read_pod(
        {
            "metadata": {"name": "resnet-mini-t000"},
            "status": {"phase": "Running", "podIP": "127.0.0.1"},
        }
    )

    async def run() -> TrialRecord:
        kube = FakeKube().kube
        ctx = await prepare(
            kube, ControllerSettings(), REF, BODY, knowledge=lambda _: shipped_knowledge()
        )
        try:
            launch = Launch(1, "resnet-mini-t001", CONFIG, reuse_pod="resnet-mini-t000")
            return await measure.reused(ctx, launch, view, ControllerSettings())
        finally:
            await ctx.close()

    return asyncio.run(run())


def test_a_refused_reload_is_a_model_load_trial_whatever_triton_says(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # no "out of memory" in Triton's words: the kind comes from the refusal itself
    message = "the server refused to load the new configuration: failed to allocate 2.1 GiB"
    record = _reused(monkeypatch, ReloadError(message, refused=True))
    assert record.failure is FailureKind.MODEL_LOAD and record.outcome is Outcome.INFEASIBLE
    assert not record.counts_against_budget and record.reason == message


def test_an_unreachable_server_on_reload_is_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    record = _reused(monkeypatch, ReloadError("cannot reach it: out of memory?", refused=False))
    assert record.failure is FailureKind.CRASH and record.counts_against_budget
