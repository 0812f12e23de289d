"""Errors of the test server: configuration problems, and request errors with an HTTP status.

The test server is independent of the trial runner (it stands in for Triton), so its errors
have their own root, :class:`TestServerError`.
"""

from __future__ import annotations


class TestServerError(Exception):
    """Root of every deliberate error of falcon_trial.testserver."""

    __test__ = False  # not a pytest test class


class ConfigError(TestServerError, ValueError):
    """A backend or model configuration is invalid (unknown GPU, out of GPU memory, bad model)."""


class RequestError(TestServerError):
    """A client request cannot be served; becomes ``{"error": message}`` with ``status``.

    ``reason`` is the ``reason`` label it adds to ``nv_inference_request_failure`` when the
    request reached a loaded model.
    """

    def __init__(self, message: str, *, status: int = 400, reason: str = "OTHER") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason


class BackendError(RequestError):
    """The backend failed while executing the batch the request was in."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=500, reason="BACKEND")


class ServerStoppedError(RequestError):
    """The server stopped (or was killed) while the request was waiting."""

    def __init__(self, message: str = "server is shutting down") -> None:
        super().__init__(message, status=503, reason="CANCELED")
