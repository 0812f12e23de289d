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
