"""A thin protocol adapter over ``tritonclient`` (HTTP always, gRPC when installed).

``tritonclient`` clients are not thread-safe, so every load worker opens its own ``Client`` in
its own thread (for HTTP that also binds gevent's per-thread hub correctly). Errors from the
library are left as they are; ``error_status`` reads their status code.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Mapping
from types import ModuleType
from typing import Any

import numpy as np
from numpy.typing import NDArray

from falcon_trial.errors import SettingsError
from falcon_trial.model import ModelInfo
from falcon_trial.settings import ServerSettings, split_url

_MODULES = {"http": "tritonclient.http", "grpc": "tritonclient.grpc"}


def load_protocol(protocol: str) -> ModuleType:
    """The ``tritonclient`` module of ``protocol``; a ``SettingsError`` when not installed."""
    try:
        return importlib.import_module(_MODULES[protocol])
    except (ImportError, RuntimeError) as exc:  # tritonclient.grpc raises RuntimeError
        extra = "grpc" if protocol == "grpc" else "http"
        raise SettingsError(
            f"protocol {protocol} is not installed; pip install 'tritonclient[{extra}]'"
        ) from exc


def error_status(exc: BaseException) -> str:
    """The status code of a ``tritonclient`` error (``"404"``, ``"StatusCode.NOT_FOUND"``) or ''."""
    status = getattr(exc, "status", None)
    value = status() if callable(status) else status
    return "" if value is None else str(value)


def describe(exc: BaseException) -> str:
    """One line for an error: its message, or its type when the message is empty."""
    text = " ".join(str(exc).split())
    return text[:300] if text else type(exc).__name__


class Client:
    """One connection to the server: readiness, model documents and repeated inference."""

    def __init__(self, settings: ServerSettings, *, timeout_s: float | None = None) -> None:
        self.settings = settings
        self._module = load_protocol(settings.protocol)
        hostport, tls = split_url(settings.url)
        timeout = settings.request_timeout_s if timeout_s is None else timeout_s
        if settings.protocol == "http":
            self._client: Any = self._module.InferenceServerClient(
                hostport, connection_timeout=timeout, network_timeout=timeout, ssl=tls
            )
        else:
            self._client = self._module.InferenceServerClient(hostport, ssl=tls)
        self._inputs: list[Any] = []
        self._outputs: list[Any] = []

    def is_ready(self) -> bool:
        """True when the server answers ready (connection errors propagate)."""
        return bool(self._client.is_server_ready())

    def model_state(self) -> tuple[str, str] | None:
        """The model's ``(state, reason)`` in the server's repository index, or None if absent."""
        kwargs: dict[str, Any] = {"as_json": True} if self.settings.protocol == "grpc" else {}
        index = self._client.get_model_repository_index(**kwargs)
        entries = index.get("models", []) if isinstance(index, Mapping) else index
        for entry in entries or []:
            if not isinstance(entry, Mapping) or entry.get("name") != self.settings.model:
                continue
            version = self.settings.model_version
            if version and str(entry.get("version", version)) != version:
                continue
            return str(entry.get("state", "")), str(entry.get("reason", ""))
        return None

    def _json(self, method: str) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model_version": self.settings.model_version}
        if self.settings.protocol == "grpc":
            kwargs["as_json"] = True
        document = getattr(self._client, method)(self.settings.model, **kwargs)
        if not isinstance(document, Mapping):
            raise TypeError(f"{method} returned {type(document).__name__}, not a JSON object")
        return dict(document)

    def model_metadata(self) -> dict[str, Any]:
        """``GET /v2/models/{m}[/versions/{v}]`` as a dict."""
        return self._json("get_model_metadata")

    def model_config(self) -> dict[str, Any]:
        """``GET /v2/models/{m}[/versions/{v}]/config`` as a dict."""
        return self._json("get_model_config")

    def prepare(self, model: ModelInfo, arrays: Mapping[str, NDArray[np.generic]]) -> None:
        """Build the request once: these inputs, every declared output (binary on HTTP)."""
        self._inputs = []
        for spec in model.inputs:
            array = arrays[spec.name]
            tensor = self._module.InferInput(spec.name, list(array.shape), spec.datatype)
            tensor.set_data_from_numpy(array)
            self._inputs.append(tensor)
        if self.settings.protocol == "http":
            self._outputs = [
                self._module.InferRequestedOutput(o.name, binary_data=True) for o in model.outputs
            ]
        else:
            self._outputs = [self._module.InferRequestedOutput(o.name) for o in model.outputs]

    def infer(self) -> None:
        """Send the prepared request and wait for its response (raises on failure)."""
        kwargs: dict[str, Any] = {"model_version": self.settings.model_version}
        if self._outputs:
            kwargs["outputs"] = self._outputs
        if self.settings.protocol == "grpc":
            kwargs["client_timeout"] = self.settings.request_timeout_s
        self._client.infer(self.settings.model, self._inputs, **kwargs)

    def close(self) -> None:
        """Close the connection (errors while closing are ignored)."""
        with contextlib.suppress(Exception):  # closing a broken connection may fail
            self._client.close()
