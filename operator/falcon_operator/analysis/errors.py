"""The one error the model analysis raises on purpose."""

from __future__ import annotations

from falcon_operator.core.errors import FalconError


class ModelError(FalconError, ValueError):
    """A model file or an analysis request is unusable (not ONNX, no inputs, bad opset, ...).

    The message is one line, fit for ``falcon: error: ...``.
    """


def one_line(exc: BaseException, *, limit: int = 200) -> str:
    """An exception's message on one line, shortened to ``limit`` characters."""
    text = " ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    text = text or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
