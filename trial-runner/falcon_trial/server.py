"""Before the load: wait for the server to be ready, then read the model's metadata and config.

Readiness is ``GET /v2/health/ready`` (gRPC ``ServerReady``), probed every
``ready_poll_s`` until ``ready_timeout_s``; connection errors count as "not ready yet". A server
that answers "not ready" because its load of the model failed (the repository index holds the
model ``UNAVAILABLE`` with Triton's reason) is ``ModelLoadError`` at once, as is a model whose
metadata cannot be read for that reason. An unknown model (HTTP 404, gRPC NOT_FOUND, or Triton's
"unknown model" message) is ``ModelNotFoundError``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from falcon_trial.client import Client, describe, error_status
from falcon_trial.errors import (
    ModelLoadError,
    ModelNotFoundError,
    ServerLostError,
    ServerNotReadyError,
)
from falcon_trial.model import ModelInfo, parse_model
from falcon_trial.settings import ServerSettings

Log = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


#: the repository index's reason for a model that was unloaded on purpose (not a failed load)
_UNLOADED = "unloaded"


def load_failure(client: Client) -> str | None:
    """Triton's reason when its load of the model failed (index state UNAVAILABLE), else None."""
    try:
        state = client.model_state()
    except Exception:  # an index the server cannot give says nothing about the model
        return None
    if state is None:
        return None
    status, reason = state
    if status == "UNAVAILABLE" and reason and reason != _UNLOADED:
        return reason
    return None


def _load_error(settings: ServerSettings, reason: str) -> ModelLoadError:
    one_line = " ".join(reason.split())[:500]  # Triton's reason may hold a Python traceback
    return ModelLoadError(f"the server could not load model {settings.model!r}: {one_line}")


def wait_ready(
    client: Client,
    settings: ServerSettings,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    log: Log = _quiet,
) -> float:
    """Block until the server is ready; the seconds waited. ``ServerNotReadyError`` at deadline,
    ``ModelLoadError`` as soon as the server says its load of the model failed."""
    start = clock()
    deadline = start + settings.ready_timeout_s
    last = "no answer"
    while True:
        try:
            ready = client.is_ready()
        except Exception as exc:  # connection refused, reset, timeout: not ready yet
            ready, last = None, describe(exc)
        if ready:
            waited = clock() - start
            log(f"server {settings.url} ready after {waited:.1f} s")
            return waited
        if ready is not None:  # the server answers, and says not ready: did a load fail?
            last = "answered not ready"
            failure = load_failure(client)
            if failure is not None:
                raise _load_error(settings, failure)
        remaining = deadline - clock()
        if remaining <= 0:
            raise ServerNotReadyError(
                f"server {settings.url} not ready after {settings.ready_timeout_s:g} s "
                f"(last probe: {last})"
            )
        sleep(min(settings.ready_poll_s, remaining))


def _is_not_found(exc: BaseException) -> bool:
    status = error_status(exc).upper()
    text = str(exc).lower()
    return "404" in status or "NOT_FOUND" in status or "unknown model" in text


def read_model(client: Client, settings: ServerSettings) -> ModelInfo:
    """The model's metadata and config, parsed; ``ModelNotFoundError`` when the server lacks it."""
    version = f" version {settings.model_version}" if settings.model_version else ""
    what = f"model {settings.model!r}{version}"
    try:
        metadata = client.model_metadata()
        config = client.model_config()
    except OSError as exc:
        raise ServerLostError(f"server went away while reading {what}: {describe(exc)}") from exc
    except Exception as exc:
        failure = load_failure(client)
        if failure is not None:
            raise _load_error(settings, failure) from exc
        if _is_not_found(exc):
            raise ModelNotFoundError(f"{what} not found on {settings.url}") from exc
        raise ModelNotFoundError(f"cannot read {what}: {describe(exc)}") from exc
    return parse_model(metadata, config)
