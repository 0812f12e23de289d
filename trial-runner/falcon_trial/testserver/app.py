"""The HTTP endpoints (KServe v2 with Triton's extensions) and the metrics page, on aiohttp.

Every error is Triton-style JSON ``{"error": "..."}``: 404 for an unknown model or version,
400 for a bad request or a model that is not loaded, 500 when the backend fails, 503 while
shutting down. Versioned paths (``/v2/models/{m}/versions/{v}/...``) accept version ``1``.
Every request's connection task is kept in the app's ``TASKS_KEY`` set while its handler runs,
so the server can cancel (and await) whatever a killed connection left running.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from falcon_trial import __version__
from falcon_trial.testserver import exposition
from falcon_trial.testserver.codec import HEADER_LENGTH
from falcon_trial.testserver.config import config_json, metadata_json
from falcon_trial.testserver.errors import RequestError
from falcon_trial.testserver.faults import NO_FAULTS, Faults
from falcon_trial.testserver.model import ServedModel

MODEL_KEY = web.AppKey("model", ServedModel)
FAULTS_KEY = web.AppKey("faults", Faults)
TASKS_KEY = web.AppKey("tasks", set[asyncio.Task[Any]])
EXTENSIONS = ["binary_tensor_data", "model_repository", "model_configuration"]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _error(message: str, status: int) -> web.Response:
    return web.json_response({"error": message}, status=status)


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Errors as Triton's JSON; the connection's task is tracked while the handler runs."""
    tasks, task = request.app[TASKS_KEY], request.task
    tasks.add(task)
    try:
        return await handler(request)
    except RequestError as exc:
        return _error(str(exc), exc.status)
    except web.HTTPNotFound:
        return _error(f"not found: {request.method} {request.path}", 404)
    except web.HTTPMethodNotAllowed:
        return _error(f"method {request.method} not allowed on {request.path}", 405)
    finally:
        tasks.discard(task)


def _model(request: web.Request) -> ServedModel:
    """The served model named in the path (404 when unknown, or for an unknown version)."""
    model = request.app[MODEL_KEY]
    name, version = request.match_info["model"], request.match_info.get("version")
    if name != model.name:
        raise RequestError(f"Request for unknown model: '{name}' is not found", status=404)
    if version not in (None, "", "1"):
        raise RequestError(
            f"Request for unknown model: '{name}' version {version} is not found", status=404
        )
    return model


async def _json_body(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise RequestError(f"failed to parse the request JSON buffer: {exc}") from None
    if not isinstance(data, dict):
        raise RequestError("the request body must be a JSON object")
    return data


async def server_metadata(request: web.Request) -> web.Response:
    return web.json_response(
        {"name": "falcon-triton-sim", "version": __version__, "extensions": EXTENSIONS}
    )


async def live(request: web.Request) -> web.Response:
    return web.Response(status=200)


async def ready(request: web.Request) -> web.Response:
    return web.Response(status=503 if request.app[FAULTS_KEY].never_ready else 200)


async def model_ready(request: web.Request) -> web.Response:
    model = _model(request)
    return (
        web.Response(status=200)
        if model.loaded
        else _error(f"model '{model.name}' is not loaded", 400)
    )


async def model_metadata(request: web.Request) -> web.Response:
    model = _model(request)
    if not model.loaded:
        raise RequestError(f"Request for unknown model: '{model.name}' has no available versions")
    return web.json_response(
        metadata_json(model.name, model.backend.signature, model.backend.platform)
    )


async def model_config(request: web.Request) -> web.Response:
    model = _model(request)
    backend = model.backend
    body = config_json(
        model.name, backend.signature, model.config, platform=backend.platform, kind=backend.kind
    )
    return web.json_response(body)


async def infer(request: web.Request) -> web.Response:
    arrival = asyncio.get_running_loop().time()
    model = _model(request)
    body, headers = await model.infer(
        await request.read(), request.headers.get(HEADER_LENGTH), arrival
    )
    return web.Response(body=body, headers=headers)


async def repository_index(request: web.Request) -> web.Response:
    model = request.app[MODEL_KEY]
    state = "READY" if model.loaded else "UNAVAILABLE"
    reason = "" if model.loaded else "unloaded"
    return web.json_response(
        [{"name": model.name, "version": "1", "state": state, "reason": reason}]
    )


async def load(request: web.Request) -> web.Response:
    model = _model(request)
    params = (await _json_body(request)).get("parameters") or {}
    if any(str(k).startswith("file:") for k in params):
        raise RequestError("loading model files is not supported by the test server")
    override = params.get("config")
    if override is not None and not isinstance(override, str):
        raise RequestError("parameters.config must be a JSON string")
    model.load(override)
    return web.json_response({})


async def unload(request: web.Request) -> web.Response:
    model = _model(request)
    await _json_body(request)
    await model.unload()
    return web.json_response({})


async def metrics(request: web.Request) -> web.Response:
    model = request.app[MODEL_KEY]
    now = asyncio.get_running_loop().time()
    text = exposition.render(model.name, model.stats, model.pending, model.backend.gpu_gauges(now))
    return web.Response(body=text.encode(), headers={"Content-Type": exposition.CONTENT_TYPE})


def _new_app(
    model: ServedModel, tasks: set[asyncio.Task[Any]] | None, **kwargs: Any
) -> web.Application:
    app = web.Application(middlewares=[_errors], **kwargs)
    app[MODEL_KEY] = model
    app[TASKS_KEY] = set() if tasks is None else tasks
    return app


def make_app(
    model: ServedModel,
    *,
    faults: Faults = NO_FAULTS,
    tasks: set[asyncio.Task[Any]] | None = None,
) -> web.Application:
    """The inference API (Triton's HTTP port); ``tasks`` collects its running requests' tasks."""
    app = _new_app(model, tasks, client_max_size=256 * 1024 * 1024)
    app[FAULTS_KEY] = faults
    for prefix in ("/v2/models/{model}", "/v2/models/{model}/versions/{version}"):
        app.router.add_get(prefix, model_metadata)
        app.router.add_get(prefix + "/ready", model_ready)
        app.router.add_get(prefix + "/config", model_config)
        app.router.add_post(prefix + "/infer", infer)
    app.router.add_get("/v2", server_metadata)
    app.router.add_get("/v2/health/live", live)
    app.router.add_get("/v2/health/ready", ready)
    app.router.add_post("/v2/repository/index", repository_index)
    app.router.add_post("/v2/repository/models/{model}/load", load)
    app.router.add_post("/v2/repository/models/{model}/unload", unload)
    return app


def make_metrics_app(
    model: ServedModel, *, tasks: set[asyncio.Task[Any]] | None = None
) -> web.Application:
    """The metrics page (Triton's metrics port)."""
    app = _new_app(model, tasks)
    app.router.add_get("/metrics", metrics)
    return app
