"""The test server: the inference API and the metrics page on two ports, from async code.

``stop()`` shuts down in order (in-flight requests fail with 503). ``kill()`` dies the way a
crashed process does: listening sockets close and open connections are reset, mid-response.
``die_after_s`` schedules ``kill()`` — fault injection for "server died mid-window" tests;
``faults`` injects the others (:class:`~falcon_trial.testserver.faults.Faults`). Either way no
task is left behind: request handlers still running once the connections are gone (a killed
connection's, or one in host work that is never going to answer) are cancelled and awaited.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from aiohttp import web

from falcon_trial.testserver.app import make_app, make_metrics_app
from falcon_trial.testserver.backend import Backend
from falcon_trial.testserver.faults import NO_FAULTS, Faults
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
        faults: Faults = NO_FAULTS,
    ) -> None:
        self.backend, self.model_name, self.host, self.faults = backend, model_name, host, faults
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
        self._dying: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()  # connections whose handler is running
        self._stop_lock = asyncio.Lock()
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
                            instance_count=self._instances,
                            fail_inference=self.faults.fail_inference)  # fmt: skip
        model.start()
        self.model = model
        apps = (
            make_app(model, faults=self.faults, tasks=self._tasks),
            make_metrics_app(model, tasks=self._tasks),
        )
        try:
            for app, port in zip(apps, self._ports, strict=True):
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
            self._death = loop.call_later(self._die_after_s, self._die)

    def _die(self) -> None:
        self._dying = asyncio.get_running_loop().create_task(self.kill())  # keep a reference

    async def stop(self) -> None:
        """Stop listening, fail what is still queued, close connections; nothing left running.

        A stop while another is under way (``die_after_s`` firing as the caller stops) waits
        for it; a stop after the server stopped does nothing.
        """
        async with self._stop_lock:
            if not self.stopped.is_set():
                await self._stop()

    async def _stop(self) -> None:
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
        await self._cancel_handlers()
        await self.backend.close()
        self.stopped.set()

    async def _cancel_handlers(self) -> None:
        """Cancel and await the handlers no connection waits for any more (after ``kill()``)."""
        current = asyncio.current_task()
        leftover = [t for t in self._tasks if t is not current and not t.done()]
        for task in leftover:
            task.cancel()
        await asyncio.gather(*leftover, return_exceptions=True)
        self._tasks.clear()

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
