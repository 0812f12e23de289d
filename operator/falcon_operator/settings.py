"""Settings of one operator process (``falcon operator run``): frozen, documented dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field

from falcon_operator.reconcile.lease import LeaseSettings
from falcon_operator.reconcile.settings import ControllerSettings


@dataclass(frozen=True)
class OperatorSettings:
    """Where the operator connects, what it watches, what it serves."""

    #: kubeconfig file; None: in-cluster service account, else the default kubeconfig
    kubeconfig: str | None = None
    #: namespaces to watch; empty: every namespace (cluster-wide)
    namespaces: tuple[str, ...] = ()
    #: Prometheus metrics port (0: off)
    metrics_port: int = 8080
    #: kopf liveness endpoint, e.g. http://0.0.0.0:8081/healthz (None: off)
    liveness_endpoint: str | None = None
    #: leader election; None: no election (a single replica)
    lease: LeaseSettings | None = field(default_factory=LeaseSettings)
    #: this replica's identity in the Lease (default: host name and process id)
    identity: str | None = None
    #: seconds a search's loop may take to stop by itself after its search is deleted (it is
    #: then cancelled; either way its trial pods are deleted)
    cancellation_timeout_s: float = 5.0
    controller: ControllerSettings = field(default_factory=ControllerSettings)
    #: glibc malloc arenas of the process (handlers/memory.py; None: glibc's default, up to
    #: eight per core); MALLOC_ARENA_MAX in the environment wins
    malloc_arenas: int | None = 2
