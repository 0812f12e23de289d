"""Errors and exit codes: every deliberate failure of the runner derives from ``TrialError``.

The CLI turns a ``TrialError`` into one line on stderr, a JSON report with ``"status": "error"``
(stdout and the termination log, when the settings are known) and the error's exit code. Anything
else is a bug and keeps its traceback.

Exit codes (also in docs/trial-runner.md):

==== ===================== ==========================================================
code kind                  meaning
==== ===================== ==========================================================
0    (ok)                  measurement stable; report written
2    bad-arguments         invalid option, or an option this install cannot serve (gRPC)
3    server-not-ready      ``/v2/health/ready`` did not answer ready before the deadline
4    model-not-found       the model (or version) is unknown to the server (404), or
                           its metadata/config cannot be read
5    all-requests-failed   no inference request succeeded
6    (unstable)            measurement did not stabilise in ``--max-windows``; report written
7    server-lost           requests started failing (or the server went away) mid-measurement
8    model-unsupported     the model's inputs cannot be generated (datatype, batch size)
9    report-not-written    an explicitly given ``--termination-log`` cannot be written
10   model-load-failed     the server tried to load the model and could not (its repository
                           index says UNAVAILABLE with Triton's reason)
==== ===================== ==========================================================
"""

from __future__ import annotations

from typing import ClassVar

from falcon_trial.schema import MODEL_LOAD_FAILED

EXIT_OK = 0
EXIT_UNSTABLE = 6


class TrialError(Exception):
    """Root of every deliberate error in falcon_trial; carries its exit code and report kind."""

    exit_code: ClassVar[int] = 1
    kind: ClassVar[str] = "error"


class SettingsError(TrialError, ValueError):
    """An option value is invalid, or asks for something this install cannot do."""

    exit_code = 2
    kind = "bad-arguments"


class ServerNotReadyError(TrialError):
    """The server did not report ready before the readiness deadline."""

    exit_code = 3
    kind = "server-not-ready"


class ModelNotFoundError(TrialError):
    """The server does not know the model (HTTP 404, gRPC NOT_FOUND) or its metadata is unusable."""

    exit_code = 4
    kind = "model-not-found"


class AllRequestsFailedError(TrialError):
    """Every inference request failed (none succeeded since the load started)."""

    exit_code = 5
    kind = "all-requests-failed"


class ServerLostError(TrialError):
    """Requests succeeded at first, then (mostly) failed: the server died or broke mid-run."""

    exit_code = 7
    kind = "server-lost"


class ModelUnsupportedError(TrialError):
    """The model declares inputs the runner cannot generate, or a batch size it cannot take."""

    exit_code = 8
    kind = "model-unsupported"


class ReportError(TrialError):
    """The report could not be written to an explicitly requested termination-log path."""

    exit_code = 9
    kind = "report-not-written"


class ModelLoadError(TrialError):
    """The server tried to load the model and failed (out of memory, a refused configuration)."""

    exit_code = 10
    kind = MODEL_LOAD_FAILED
