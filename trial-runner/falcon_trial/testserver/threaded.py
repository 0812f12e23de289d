"""The test server from synchronous code: its own event loop in a background thread.

``with running_server(backend) as srv:`` starts it and waits until both ports listen; leaving
the block stops it. ``srv.stop_now()`` kills it abruptly (for "server died" tests). The loop is
closed the way ``asyncio.run`` closes its own: every task still pending is cancelled and
awaited first, so none is destroyed pending when the interpreter exits.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from falcon_trial.testserver.backend import Backend
from falcon_trial.testserver.errors import TestServerError
from falcon_trial.testserver.faults import NO_FAULTS, Faults
from falcon_trial.testserver.server import TestServer

START_TIMEOUT_S = 30.0
T = TypeVar("T")


class RunningServer:
    """A started :class:`TestServer` and the loop it runs on."""

    def __init__(self, server: TestServer, loop: asyncio.AbstractEventLoop) -> None:
        self.server, self._loop = server, loop

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def metrics_url(self) -> str:
        return self.server.metrics_url

    @property
    def backend(self) -> Backend:
        return self.server.backend

    def call(self, make: Callable[[], Coroutine[Any, Any, T]], *, timeout: float = 30.0) -> T:
        """Run a coroutine on the server's loop and return its result."""
        return asyncio.run_coroutine_threadsafe(make(), self._loop).result(timeout)

    def stop_now(self) -> None:
        """Kill the server: ports close and open connections are reset."""
        if not self.server.stopped.is_set():
            self.call(self.server.kill)


@contextmanager
def running_server(
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
) -> Iterator[RunningServer]:
    """Serve ``backend`` in a background thread for the duration of the block."""
    loop = asyncio.new_event_loop()
    server = TestServer(backend, model_name=model_name, host=host, port=port,
                        metrics_port=metrics_port, max_queue_delay_ms=max_queue_delay_ms,
                        instance_count=instance_count, die_after_s=die_after_s,
                        faults=faults)  # fmt: skip
    started = threading.Event()
    failure: list[BaseException] = []

    def main() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.start())
        except BaseException as exc:  # handed to the caller's thread
            failure.append(exc)
            started.set()
            _close(loop)
            return
        started.set()
        try:
            loop.run_forever()
            if not server.stopped.is_set():
                loop.run_until_complete(server.stop())
        finally:
            _close(loop)

    thread = threading.Thread(target=main, name="falcon-triton-sim", daemon=True)
    thread.start()
    if not started.wait(START_TIMEOUT_S):
        raise TestServerError(f"the test server did not start within {START_TIMEOUT_S:g} s")
    if failure:
        thread.join()
        raise failure[0]
    try:
        yield RunningServer(server, loop)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(START_TIMEOUT_S)


def _close(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel and await every task still pending, then close the loop (as ``asyncio.run``)."""
    try:
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        if tasks:
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        for task in tasks:
            if not task.cancelled() and (exc := task.exception()) is not None:
                message = "unhandled exception in the test server's loop at shutdown"
                loop.call_exception_handler({"message": message, "exception": exc, "task": task})
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()
