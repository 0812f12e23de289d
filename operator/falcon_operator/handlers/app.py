"""Run the operator: kopf embedded in our own event loop, behind a leader-election Lease.

kopf is configured never to write the spec, labels or annotations of a search: its handler
bookkeeping goes to ``status.kopf``, it posts no log events (the controller posts its own), and
its finalizer is ``autoconfig.falcon.io/cleanup`` (a deleted search waits until its loop has
stopped and its trial pods are deleted). Peering is off: the Lease elects the one active
replica; losing it stops this replica (exit code 1, so its Deployment restarts it).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import os
import signal
import socket
from typing import Any

import kopf
import prometheus_client

from falcon_operator.core.errors import FalconError, TransientError
from falcon_operator.handlers import search
from falcon_operator.handlers.memory import limit_malloc_arenas
from falcon_operator.reconcile.kube import Kube, load_api_client
from falcon_operator.reconcile.lease import LeaseElector
from falcon_operator.settings import OperatorSettings
from falcon_operator.spec.constants import GROUP

log = logging.getLogger(__name__)
FINALIZER = f"{GROUP}/cleanup"


def kopf_settings() -> kopf.OperatorSettings:
    s = kopf.OperatorSettings()
    s.persistence.finalizer = FINALIZER
    s.persistence.progress_storage = kopf.StatusProgressStorage(field="status.kopf.progress")
    s.persistence.diffbase_storage = kopf.StatusDiffBaseStorage(field="status.kopf.diffbase")
    s.posting.enabled = False
    s.watching.server_timeout = 300
    s.networking.connect_timeout = 10
    return s


def _connection(kube: Kube) -> kopf.ConnectionInfo:
    """kopf's credentials, taken from the kubernetes client's configuration."""
    cfg = kube.api.configuration
    header = cfg.get_api_key_with_prefix("BearerToken") or cfg.get_api_key_with_prefix(
        "authorization"
    )
    parts = header.split(" ", 1) if header else []
    scheme, token = (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0] if parts else None)
    return kopf.ConnectionInfo(
        server=cfg.host,
        ca_path=cfg.ssl_ca_cert,
        insecure=not cfg.verify_ssl,
        scheme=scheme or None,
        token=token or None,
        certificate_path=cfg.cert_file,
        private_key_path=cfg.key_file,
    )


def build_registry(kube: Kube, settings: OperatorSettings) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()

    @kopf.on.login(registry=registry)  # type: ignore[arg-type]
    def login(**_: Any) -> kopf.ConnectionInfo:
        return _connection(kube)

    search.register(
        registry, kube, settings.controller, cancellation_timeout_s=settings.cancellation_timeout_s
    )
    return registry


async def _serve(kube: Kube, settings: OperatorSettings, stop: asyncio.Event) -> None:
    await kopf.operator(
        registry=build_registry(kube, settings),
        settings=kopf_settings(),
        standalone=True,
        clusterwide=not settings.namespaces,
        namespaces=list(settings.namespaces),
        liveness_endpoint=settings.liveness_endpoint,
        stop_flag=stop,
    )


async def run_operator(settings: OperatorSettings) -> int:
    """Run until SIGTERM/SIGINT (0) or until leadership is lost (1)."""
    limit_malloc_arenas(settings.malloc_arenas)  # before the API threads start
    loop = asyncio.get_running_loop()
    loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(64, "falcon"))
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    kube = Kube(load_api_client(settings.kubeconfig))
    if settings.metrics_port:
        try:
            prometheus_client.start_http_server(settings.metrics_port)
        except OSError as err:  # e.g. the port is taken by another operator on this host
            raise FalconError(
                f"cannot serve metrics on port {settings.metrics_port}: {err.strerror or err} "
                "(choose another with --metrics-port, or 0 to turn them off)"
            ) from err
    identity = settings.identity or f"{socket.gethostname()}-{os.getpid()}"
    elector = LeaseElector(kube, identity, settings.lease) if settings.lease else None
    if elector is not None:
        waiting = asyncio.create_task(elector.acquire())
        stopping = asyncio.create_task(stop.wait())
        await asyncio.wait({waiting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if stop.is_set():
            waiting.cancel()
            return 0
    operator = asyncio.create_task(_serve(kube, settings, stop))
    holding = asyncio.create_task(elector.hold()) if elector else None
    tasks = {operator} | ({holding} if holding else set())
    await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    code = 0
    if holding is not None and holding.done():
        exc = holding.exception()
        log.error("stopping: %s", exc if isinstance(exc, TransientError) else "lease lost")
        code = 1
        stop.set()
    await asyncio.gather(operator, return_exceptions=True)
    if holding is not None:
        holding.cancel()
        if code == 0 and elector is not None:
            await asyncio.to_thread(elector.release)
    return code
