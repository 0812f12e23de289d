"""Building and watching pods on the e2e cluster."""

from __future__ import annotations

from kubernetes import client

from falcon_e2e.cluster import wait_for

# never pulled: KWOK fakes the kubelet, no container runs
IMAGE = "registry.invalid/falcon/trial:e2e"


def gpu_pod(
    name: str,
    *,
    resources: dict[str, str] | None = None,
    node_selector: dict[str, str] | None = None,
    labels: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
) -> client.V1Pod:
    """A one-container pod whose requests equal its limits (required for extended resources)."""
    res = {"cpu": "100m", "memory": "128Mi"} | (resources or {})
    return client.V1Pod(
        metadata=client.V1ObjectMeta(name=name, labels=labels, annotations=annotations),
        spec=client.V1PodSpec(
            containers=[
                client.V1Container(
                    name="trial",
                    image=IMAGE,
                    resources=client.V1ResourceRequirements(requests=res, limits=res),
                )
            ],
            node_selector=node_selector,
            restart_policy="Never",
            termination_grace_period_seconds=0,
        ),
    )


def condition(pod: client.V1Pod, type_: str) -> client.V1PodCondition | None:
    return next((c for c in pod.status.conditions or [] if c.type == type_), None)


def wait_phase(
    core: client.CoreV1Api, ns: str, name: str, phase: str, timeout: float = 30.0
) -> client.V1Pod:
    def check() -> client.V1Pod | None:
        pod = core.read_namespaced_pod(name, ns)
        return pod if pod.status.phase == phase else None

    return wait_for(check, timeout=timeout, what=f"pod {ns}/{name} phase {phase}")


def wait_unschedulable(
    core: client.CoreV1Api, ns: str, name: str, timeout: float = 30.0
) -> client.V1Pod:
    def check() -> client.V1Pod | None:
        pod = core.read_namespaced_pod(name, ns)
        cond = condition(pod, "PodScheduled")
        ok = cond is not None and cond.status == "False" and cond.reason == "Unschedulable"
        return pod if ok else None

    return wait_for(check, timeout=timeout, what=f"pod {ns}/{name} PodScheduled=False")
