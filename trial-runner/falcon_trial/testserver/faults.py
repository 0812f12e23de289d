"""Fault injection: a server that never becomes ready, a model whose every inference fails.

Dying mid-run is ``die_after_s`` on :class:`~falcon_trial.testserver.server.TestServer` (and
``RunningServer.stop_now()``); an unknown model is a wrong ``model_name`` (404), a small
``max_batch_size`` the backend's batch size.
"""

from __future__ import annotations

from dataclasses import dataclass

from falcon_trial.testserver.errors import ConfigError


@dataclass(frozen=True)
class Faults:
    """What the test server does wrong on purpose (nothing by default)."""

    never_ready: bool = False
    """``GET /v2/health/ready`` answers 503 forever; liveness, metadata and inference work."""

    fail_inference: str | None = None
    """Every inference request is served as usual (host work, queue, batch) and then fails with
    HTTP 500 and ``{"error": fail_inference}``, counted as a ``BACKEND`` failure."""

    def __post_init__(self) -> None:
        if self.fail_inference is not None and not self.fail_inference.strip():
            raise ConfigError("the injected inference error needs a message")


NO_FAULTS = Faults()
