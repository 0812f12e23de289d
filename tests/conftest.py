"""Shared test settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(scope="session", autouse=True)
def _one_blas_thread() -> Iterator[None]:
    """The GP fits work on tiny matrices; threaded BLAS only adds contention on a busy machine."""
    with threadpool_limits(limits=1):
        yield
