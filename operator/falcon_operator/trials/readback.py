"""Read a trial pod back: where it is in its life, and what its containers left behind.

Works on the pod as a plain dict (the API's JSON). An unschedulable pod carries the scheduler's
message; when every node was rejected for its labels or taints (not for busy resources), no
pool can ever take it and the configuration is infeasible at once. A pod whose runner has
finished while Triton still serves is ready (reusable), although the kubelet then reports its
Ready condition False: a terminated container is never ready. Out of memory is read from the
structure the kubelet writes (a container terminated with reason ``OOMKilled``), never from a
message.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from falcon_operator.core.records import FailureKind
from falcon_operator.core.space import Config
from falcon_operator.spec.constants import CONFIG_ANNOTATION, FAULT_LABEL, INDEX_ANNOTATION
from falcon_operator.trials.container import TRITON_CONTAINER
from falcon_operator.trials.manifest import RUNNER_CONTAINER
from falcon_trial.schema import SchemaError, parse_report

_NODES = re.compile(r"0/(?P<total>[0-9]+) nodes are available")
_COUNTED = re.compile(r"(?P<n>[0-9]+) (?P<why>[^,.:]+)")
#: scheduler reasons no amount of waiting fixes (without a new node pool)
_PERMANENT = ("didn't match Pod's node affinity/selector", "untolerated taint")
#: a terminated container's ``reason`` when the kernel killed it for memory
OOM_KILLED = "OOMKilled"


class PodState(enum.StrEnum):
    PENDING = "Pending"  #: not scheduled yet (no verdict from the scheduler)
    UNSCHEDULABLE = "Unschedulable"
    STARTING = "Starting"  #: scheduled, not ready (pulling images, loading the model)
    READY = "Ready"
    FAILED = "Failed"
    SUCCEEDED = "Succeeded"
    DELETING = "Deleting"


@dataclass(frozen=True)
class Termination:
    """How a container ended."""

    container: str
    exit_code: int
    reason: str
    message: str


@dataclass(frozen=True)
class PodView:
    """What the controller needs to know about one trial pod."""

    name: str
    index: int | None
    config: Config | None
    state: PodState
    ip: str | None = None
    node: str | None = None
    message: str = ""  #: the scheduler's message, or why the pod failed
    created_at: datetime | None = None
    ready_at: datetime | None = None
    fault: str | None = None
    terminations: tuple[Termination, ...] = field(default=())

    @property
    def runner_report(self) -> str | None:
        """The trial runner's termination message (its JSON report), once it has ended."""
        return next(
            (t.message for t in self.terminations if t.container == RUNNER_CONTAINER and t.message),
            None,
        )

    @property
    def oom_killed(self) -> bool:
        """Whether the kernel killed a container for memory (the kubelet's ``OOMKilled``); a
        bare exit code 137 is any SIGKILL (a deadline, a preemption) and says nothing more."""
        return any(t.reason == OOM_KILLED for t in self.terminations)

    @property
    def failure(self) -> FailureKind:
        """The failure kind of a failed pod: ``oom`` when a container was OOMKilled, else
        ``crash``."""
        return FailureKind.OOM if self.oom_killed else FailureKind.CRASH


def _time(text: Any) -> datetime | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def never_schedulable(message: str) -> bool:
    """Whether the scheduler rejected every node for labels/taints (not for busy resources)."""
    m = _NODES.search(message)
    if m is None:
        return False
    total = int(m["total"])
    rest = message[m.end() :].split("preemption:")[0]
    permanent = sum(
        int(c["n"]) for c in _COUNTED.finditer(rest) if any(p in c["why"] for p in _PERMANENT)
    )
    return total > 0 and permanent >= total


def _terminations(status: Mapping[str, Any]) -> tuple[Termination, ...]:
    out = []
    for cs in status.get("containerStatuses") or []:
        term = (cs.get("state") or {}).get("terminated")
        if term:
            out.append(
                Termination(
                    str(cs.get("name", "")),
                    int(term.get("exitCode", 0)),
                    str(term.get("reason", "")),
                    str(term.get("message", "")),
                )
            )
    return tuple(out)


def _served_since(status: Mapping[str, Any]) -> tuple[bool, datetime | None]:
    """Whether Triton is ready and the runner has ended; and since when Triton was ready.

    The runner started with Triton and waited ``ready_wait_s`` (its report) for it to get ready;
    the Ready condition's time is that of the runner's end by then.
    """
    statuses = {cs.get("name"): cs for cs in status.get("containerStatuses") or []}
    triton, runner = statuses.get(TRITON_CONTAINER) or {}, statuses.get(RUNNER_CONTAINER) or {}
    ended = (runner.get("state") or {}).get("terminated")
    if not triton.get("ready") or not ended:
        return False, None
    started = _time(ended.get("startedAt"))
    try:
        wait = parse_report(str(ended.get("message") or "")).ready_wait_s or 0.0
    except SchemaError:  # judged (and failed) when the trial is measured
        wait = 0.0
    return True, None if started is None else started + timedelta(seconds=max(0.0, wait))


def _state(pod: Mapping[str, Any]) -> tuple[PodState, str, datetime | None]:
    meta, status = pod.get("metadata") or {}, pod.get("status") or {}
    conditions = {c.get("type"): c for c in status.get("conditions") or []}
    phase = status.get("phase", "Pending")
    if meta.get("deletionTimestamp"):
        return PodState.DELETING, "", None
    if phase == "Failed":
        return PodState.FAILED, str(status.get("reason") or status.get("message") or "Failed"), None
    if phase == "Succeeded":
        return PodState.SUCCEEDED, "", None
    scheduled = conditions.get("PodScheduled") or {}
    if scheduled.get("status") == "False" and scheduled.get("reason") == "Unschedulable":
        return PodState.UNSCHEDULABLE, str(scheduled.get("message", "")), None
    ready = conditions.get("Ready") or {}
    if phase == "Running" and ready.get("status") == "True":
        return PodState.READY, "", _time(ready.get("lastTransitionTime"))
    serving, since = _served_since(status)
    if phase == "Running" and serving:
        return PodState.READY, "", since
    if scheduled.get("status") == "True":
        return PodState.STARTING, "", None
    return PodState.PENDING, "", None


def read_pod(pod: Mapping[str, Any]) -> PodView:
    """The :class:`PodView` of a pod dict; annotations it lacks become None."""
    meta, status = pod.get("metadata") or {}, pod.get("status") or {}
    annotations, labels = meta.get("annotations") or {}, meta.get("labels") or {}
    try:
        config = json.loads(annotations[CONFIG_ANNOTATION])
        config = config if isinstance(config, dict) else None
    except (KeyError, ValueError):
        config = None
    index_text = str(annotations.get(INDEX_ANNOTATION, ""))
    state, message, ready_at = _state(pod)
    return PodView(
        name=str(meta.get("name", "")),
        index=int(index_text) if index_text.isdigit() else None,
        config=config,
        state=state,
        ip=status.get("podIP") or None,
        node=(pod.get("spec") or {}).get("nodeName") or None,
        message=message,
        created_at=_time(meta.get("creationTimestamp")),
        ready_at=ready_at,
        fault=labels.get(FAULT_LABEL),
        terminations=_terminations(status),
    )


def failure_reason(view: PodView) -> str:
    """One line on why a failed pod failed (container reasons and exit codes)."""
    parts = [
        f"{t.container}: {t.reason or 'exited'} (exit {t.exit_code})"
        for t in view.terminations
        if t.exit_code != 0
    ]
    return "; ".join(parts) or view.message or "pod failed"
