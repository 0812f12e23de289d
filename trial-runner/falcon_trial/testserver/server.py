"""The test server: the inference API and the metrics page on two ports, from async code.

``stop()`` shuts down in order (in-flight requests fail with 503). ``kill()`` dies the way a
crashed process does: listening sockets close and open connections are reset, mid-response.
``die_after_s`` schedules ``kill()`` — fault injection for "server died mid-window" tests.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from falcon_trial.testserver.app import make_app, make_metrics_app
from falcon_trial.testserver.backend import Backend
from falcon_trial.testserver.model import ServedModel

SHUTDOWN_TIMEOUT_S = 2.0


def _url_host(host: str) -> str:
    if host in ("", "0.0.0.0", "::"):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


class TestServer:
    """A Triton-compatible server for one model on ``backend``."""

    __test__ = False  # not a pytest test class

    def __init__(
        self,
        backend: Backend,
        *,
        model_name: str = "model",
        host: str = "127.0.0.1",
        port: int = 0,
        metrics_port: int = 0,
        max_queue_delay_ms: float = 1.0,
        instance_count: int = 1,
        die_after_s: float | None = None,
    ) -> None:
        self.backend, self.model_name, self.host = backend, model_name, host
        self._ports = (port, metrics_port)
        self._delay_ms, self._instances, self._die_after_s = (
            max_queue_delay_ms,
            instance_count,
            die_after_s,
        )
        self.model: ServedModel | None = None
        self._runners: list[web.AppRunner] = []
        self._bound: list[int] = []
        self._death: asyncio.TimerHandle | None = None
        self.stopped = asyncio.Event()
        self.killed = False

    @property
    def port(self) -> int:
        return self._bound[0]

    @property
    def metrics_port(self) -> int:
        return self._bound[1]

    @property
    def url(self) -> str:
        """``http://HOST:PORT`` of the inference API."""
        return f"http://{_url_host(self.host)}:{self.port}"

    @property
    def metrics_url(self) -> str:
        return f"http://{_url_host(self.host)}:{self.metrics_port}/metrics"

    async def start(self) -> None:
        """Load the model and listen on both ports (port 0: any free port)."""
        self.stopped = asyncio.Event()
        model = ServedModel(self.model_name, self.backend, max_queue_delay_ms=self._delay_ms,
                            instance_count=self._instances)  # fmt: skip
        model.start()
        self.model = model
        try:
            for app, port in zip(
                (make_app(model), make_metrics_app(model)), self._ports, strict=True
            ):
                runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
                await runner.setup()
                self._runners.append(runner)
                await web.TCPSite(runner, self.host, port).start()
                self._bound.append(int(runner.addresses[0][1]))
        except BaseException:
            await self.stop()
            raise
        if self._die_after_s is not None:
            loop = asyncio.get_running_loop()
            self._death = loop.call_later(self._die_after_s, lambda: loop.create_task(self.kill()))

    async def stop(self) -> None:
        """Stop listening, fail what is still queued, close connections."""
        if self._death is not None:
            self._death.cancel()
        for runner in self._runners:
            for site in list(runner.sites):
                await site.stop()
        if self.model is not None:
            await self.model.stop()
        for runner in self._runners:
            await runner.cleanup()
        self._runners = []
        await self.backend.close()
        self.stopped.set()

    async def kill(self) -> None:
        """Die abruptly: close the ports and reset every open connection."""
        self.killed = True
        for runner in self._runners:
            for site in list(runner.sites):
                await site.stop()
            if runner.server is not None:
                for connection in runner.server.connections:
                    if connection.transport is not None:
                        with contextlib.suppress(Exception):
                            connection.transport.abort()
        await self.stop()
