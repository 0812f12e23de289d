"""The repository API as trials use it: another batch size without a restart, refusals, unload."""

from __future__ import annotations

import numpy as np
import pytest
from triton_helpers import RESNET, client, infer, reference, sample

from falcon_operator.core.knobs import BATCH
from falcon_operator.trials.modelconfig import model_config
from falcon_operator.trials.reload import ReloadError, reload_model
from falcon_operator.triton.repository import write_trial_model
from falcon_operator.triton.server import TritonServer

MODEL = "reload-resnet"


def test_reload_changes_the_batch_size_without_a_restart(t4_server: TritonServer) -> None:
    assert t4_server.process is not None
    pid = t4_server.process.pid
    write_trial_model(t4_server.repository, MODEL, RESNET, {BATCH: 4})
    t4_server.load(MODEL)
    assert t4_server.model_config(MODEL)["max_batch_size"] == 4
    # exactly the call the operator makes when it reuses a trial pod (trials/reload.py)
    reload_model("127.0.0.1", MODEL, model_config(MODEL, {BATCH: 8}), port=t4_server.ports.http)
    served = t4_server.model_config(MODEL)
    assert served["max_batch_size"] == 8
    assert served["dynamic_batching"]["preferred_batch_size"] == [8]
    name, x = sample(RESNET, 8)
    np.testing.assert_allclose(
        infer(client(t4_server), MODEL, name, x)["logits"],
        reference(RESNET, name, x)["logits"],
        rtol=1e-5,
        atol=1e-6,
    )
    assert t4_server.process.pid == pid and t4_server.process.poll() is None


def test_a_config_the_server_cannot_load_is_refused_and_the_old_one_stays(
    t4_server: TritonServer,
) -> None:
    write_trial_model(t4_server.repository, "refuse-resnet", RESNET, {BATCH: 2})
    t4_server.load("refuse-resnet")
    bad = model_config(
        "refuse-resnet", {BATCH: 4}, extra={"input": [{"name": "nope", "dims": [1]}]}
    )
    with pytest.raises(ReloadError, match="the server refused to load the new configuration") as e:
        reload_model("127.0.0.1", "refuse-resnet", bad, port=t4_server.ports.http)
    assert e.value.refused  # Triton tried and could not load it: a model-load trial
    assert t4_server.model_ready("refuse-resnet")
    assert t4_server.model_config("refuse-resnet")["max_batch_size"] == 2


def test_unload_then_load_again(t4_server: TritonServer) -> None:
    write_trial_model(t4_server.repository, "unload-resnet", RESNET, {BATCH: 2})
    t4_server.load("unload-resnet")
    assert t4_server.model_ready("unload-resnet")
    t4_server.unload("unload-resnet")
    assert not t4_server.model_ready("unload-resnet")
    t4_server.load("unload-resnet")
    assert t4_server.model_ready("unload-resnet")


def test_an_unreachable_server_is_a_reload_error() -> None:
    with pytest.raises(ReloadError, match="cannot reach") as e:
        reload_model("127.0.0.1", MODEL, model_config(MODEL, {BATCH: 8}), port=1, timeout=2.0)
    assert not e.value.refused
