"""The kopf daemon of every InferenceConfigSearch, and the mapping of errors to kopf's.

One daemon per search runs :func:`~falcon_operator.reconcile.search.run_search`. Deleting the
search stops it (kopf's finalizer waits), and its trial pods are deleted explicitly. Errors:
:class:`TransientError` → ``kopf.TemporaryError`` (the daemon restarts after the delay and
adopts what exists); :class:`PermanentError` / :class:`SpecError` / other deliberate errors →
``kopf.PermanentError`` (the status already says why).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import kopf

from falcon_operator.core import errors
from falcon_operator.reconcile.kube import Kube
from falcon_operator.reconcile.search import cleanup_search, run_search, search_ref
from falcon_operator.reconcile.settings import ControllerSettings
from falcon_operator.spec.constants import GROUP, PLURAL, VERSION

log = logging.getLogger(__name__)


def register(
    registry: kopf.OperatorRegistry,
    kube: Kube,
    settings: ControllerSettings,
    *,
    cancellation_timeout_s: float,
) -> None:
    """Register the search daemon on ``registry``."""
    # searches prepare (read and analyse the model, build the strategy) a few at a time: 100
    # searches created at once would otherwise analyse 100 models at once (docs/operator.md)
    preparing = asyncio.Semaphore(settings.max_preparing)

    @kopf.daemon(
        GROUP,
        VERSION,
        PLURAL,
        registry=registry,  # type: ignore[arg-type]
        id="search",
        cancellation_backoff=cancellation_timeout_s,  # a graceful stop first
        cancellation_timeout=10.0,  # then asyncio cancellation
        cancellation_polling=1.0,  # how soon a deleted search's finalizer is released
    )
    async def search_daemon(body: kopf.Body, stopped: kopf.DaemonStopped, **_: Any) -> None:
        raw = {k: body[k] for k in body}
        ref = search_ref(raw)
        try:
            await run_search(kube, settings, raw, stop=stopped, preparing=preparing)
        except errors.TransientError as exc:
            raise kopf.TemporaryError(str(exc), delay=exc.delay) from None
        except errors.FalconError as exc:
            raise kopf.PermanentError(str(exc)) from None
        finally:
            reason = stopped.reason
            if reason is not None and reason & kopf.DaemonStoppingReason.RESOURCE_DELETED:
                try:
                    n = await cleanup_search(kube, ref)
                    log.info(
                        "search %s/%s deleted: %d trial pods deleted", ref.namespace, ref.name, n
                    )
                except errors.FalconError as exc:
                    log.warning("cleanup of %s/%s: %s", ref.namespace, ref.name, exc)

    @kopf.on.delete(GROUP, VERSION, PLURAL, registry=registry, id="cleanup")  # type: ignore[arg-type]
    async def search_deleted(body: kopf.Body, **_: Any) -> None:
        """Also when no daemon runs any more (a finished search, an operator restarted since):
        delete the trial pods and let kopf release the finalizer."""
        ref = search_ref({k: body[k] for k in body})
        try:
            n = await cleanup_search(kube, ref)
        except errors.TransientError as exc:
            raise kopf.TemporaryError(str(exc), delay=exc.delay) from None
        log.info("search %s/%s deleted: %d trial pods left to delete", ref.namespace, ref.name, n)
