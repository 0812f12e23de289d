"""One number format for everything a user reads: events, status, messages, the report.

``plain(x)`` keeps four significant digits, at least every integer digit, and never an
exponent (``13467.6159`` → ``13468``, ``0.012345`` → ``0.01235``); ``rounded(x)`` is the same
number as a float, for the status fields that ``kubectl get`` prints (so a printer column and an
event show the same digits). ``versus(a, b)`` prints two numbers with as many digits as it takes
to tell them apart, for comparisons such as a measured p99 against its SLO.
"""

from __future__ import annotations

import math

from falcon_operator.core.objective import Metric, Objective

#: significant digits of every number shown to a user
DIGITS = 4


def _decimals(x: float, digits: int) -> int:
    if x == 0 or not math.isfinite(x):
        return 0
    return max(0, digits - 1 - math.floor(math.log10(abs(x))))


def rounded(x: float, *, digits: int = DIGITS) -> float:
    """``x`` rounded to ``digits`` significant digits (integer digits are kept)."""
    if not math.isfinite(x):
        return x
    return round(float(x), _decimals(x, digits)) + 0.0


def plain(x: float, *, digits: int = DIGITS) -> str:
    """``x`` with ``digits`` significant digits, no exponent, no trailing zeros."""
    if not math.isfinite(x):
        return str(x)
    text = f"{rounded(x, digits=digits):.{_decimals(x, digits)}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def versus(a: float, b: float, *, digits: int = DIGITS) -> tuple[str, str]:
    """``a`` and ``b`` printed with enough digits to show that they differ (when they do)."""
    for d in range(digits, 16):
        ta, tb = plain(a, digits=d), plain(b, digits=d)
        if ta != tb or a == b:
            return ta, tb
    return repr(float(a)), repr(float(b))


def objective(x: float, goal: Objective | None = None) -> str:
    """A score of ``goal`` (default: requests per second per dollar-hour) with its unit:
    ``13468 req/s per $/h``, or for CostAtTargetThroughput the $/h of the replicas that serve
    the target, ``1.782 $/h for 2500 req/s``."""
    if goal is None or goal.metric is Metric.RPS_PER_DOLLAR:
        return f"{plain(x)} req/s per $/h"
    return f"{plain(goal.shown(x))} $/h for {plain(goal.target_rps or 0.0)} req/s"


def slo_break(p99_ms: float, slo_p99_ms: float) -> str:
    """The reason of a trial whose measured p99 breaks the SLO (compared unrounded)."""
    measured, slo = versus(p99_ms, slo_p99_ms)
    return f"measured p99 {measured} ms breaks the {slo} ms SLO"
