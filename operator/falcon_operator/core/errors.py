"""The exception hierarchy: every error this package raises on purpose derives from FalconError.

The CLI turns a ``FalconError`` into a one-line message and a non-zero exit code; anything else is a
bug and keeps its traceback.
"""


class FalconError(Exception):
    """Root of every deliberate error in falcon_operator."""


class SpaceError(FalconError, ValueError):
    """A configuration space or a configuration is malformed (unknown knob, value out of domain)."""


class DataError(FalconError, ValueError):
    """Input data (a table, a curve file, an operator-share file) is missing or malformed."""


class KnowledgeError(FalconError):
    """A knowledge base cannot be built, read, or does not fit the space it is used with."""


class StrategyError(FalconError):
    """A search strategy was asked for something it cannot do (e.g. more suggestions than exist)."""


class MetricsError(FalconError):
    """Triton's metrics could not be scraped, parsed or turned into a window measurement.

    Subclasses in :mod:`falcon_operator.metrics.errors` say whether a retry may help.
    """


class SpecError(FalconError, ValueError):
    """An InferenceConfigSearch spec is invalid in a way its CRD schema cannot express."""


class TransientError(FalconError):
    """Something that may work when tried again later (API server unreachable, conflict).

    ``delay`` is a suggested wait in seconds before the retry; ``reason`` is a CamelCase word for
    conditions and events (e.g. ``ConfigMapNotFound``, ``ApiServerUnreachable``).
    """

    def __init__(
        self, message: str, *, delay: float = 10.0, reason: str = "TransientError"
    ) -> None:
        super().__init__(message)
        self.delay = delay
        self.reason = reason


class PermanentError(FalconError):
    """Something that will not work however often it is retried (a missing model, a bad spec).

    ``reason`` is a CamelCase word for conditions and events (e.g. ``ModelUnavailable``).
    """

    def __init__(self, message: str, *, reason: str = "PermanentError") -> None:
        super().__init__(message)
        self.reason = reason
