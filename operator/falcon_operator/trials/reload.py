"""Reuse a running Triton for another batch size: reload the model through the repository API.

``POST /v2/repository/models/{model}/load`` with ``parameters.config`` (the JSON model config)
replaces the model's configuration without restarting the server or the pod; a configuration
the server cannot load (out of memory) is refused with HTTP 400 and the old one stays.
"""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from falcon_operator.core.errors import FalconError


class ReloadError(FalconError):
    """The server refused (``refused``: it tried and could not load it) or could not be asked
    to load the new configuration."""

    def __init__(self, message: str, *, refused: bool) -> None:
        super().__init__(message)
        self.refused = refused


def reload_model(
    host: str, model: str, config: Mapping[str, Any], *, port: int = 8000, timeout: float = 60.0
) -> None:
    """Load ``model`` with ``config`` on the server at ``host`` (blocking)."""
    body = json.dumps({"parameters": {"config": json.dumps(dict(config))}}).encode()
    url = f"http://{host}:{port}/v2/repository/models/{model}/load"
    request = urllib.request.Request(
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read().decode(errors="replace")[:300]
        with contextlib.suppress(ValueError, AttributeError):
            detail = str(json.loads(detail).get("error", detail))
        message = f"the server refused to load the new configuration: {detail}"
        raise ReloadError(message, refused=True) from None
    except (urllib.error.URLError, OSError) as exc:
        raise ReloadError(f"cannot reach {url}: {exc}", refused=False) from None
