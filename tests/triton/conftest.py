"""Fixtures of the real-Triton tests: one simulated-T4 server for the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from triton_helpers import T4, started, trial_env

from falcon_operator.triton.server import TritonServer


@pytest.fixture(scope="session")
def t4_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TritonServer]:
    """Real Triton with the simulated T4 (FALCON_TRIAL_CONFIG); models are loaded per test."""
    server = started(tmp_path_factory.mktemp("t4-repository"), env=trial_env(T4))
    yield server
    server.stop()
