"""The apiserver is real: CRD schema validation and pruning, status subresource, optimistic
concurrency and watches with bookmarks, on a throwaway CRD."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from falcon_e2e.cluster import wait_for
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

GROUP = "e2e.falcon.io"
VERSION = "v1alpha1"


@pytest.fixture(scope="module")
def widgets(api_client: client.ApiClient) -> Iterator[tuple[str, str]]:
    """A throwaway namespaced CRD with a structural schema; yields (plural, kind)."""
    suffix = uuid.uuid4().hex[:6]
    plural, kind = f"widgets{suffix}", f"Widget{suffix.upper()}"
    ext = client.ApiextensionsV1Api(api_client)
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{GROUP}"},
        "spec": {
            "group": GROUP,
            "scope": "Namespaced",
            "names": {"plural": plural, "singular": f"widget{suffix}", "kind": kind},
            "versions": [
                {
                    "name": VERSION,
                    "served": True,
                    "storage": True,
                    "subresources": {"status": {}},
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "properties": {
                                "spec": {
                                    "type": "object",
                                    "required": ["gpus"],
                                    "properties": {
                                        "gpus": {"type": "integer", "minimum": 1, "maximum": 8},
                                        "product": {
                                            "type": "string",
                                            "enum": ["Tesla-T4", "NVIDIA-A100-SXM4-40GB"],
                                        },
                                    },
                                },
                                "status": {
                                    "type": "object",
                                    "properties": {"phase": {"type": "string"}},
                                },
                            },
                        }
                    },
                }
            ],
        },
    }
    ext.create_custom_resource_definition(crd)

    def established() -> bool:
        got = ext.read_custom_resource_definition(f"{plural}.{GROUP}")
        return any(
            c.type == "Established" and c.status == "True" for c in got.status.conditions or []
        )

    wait_for(established, timeout=30, what=f"CRD {plural} Established")
    yield plural, kind
    ext.delete_custom_resource_definition(f"{plural}.{GROUP}")


def _widget(kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": kind,
        "metadata": {"name": name},
        "spec": spec,
    }


def test_valid_resource_is_accepted_and_unknown_fields_pruned(
    api_client: client.ApiClient, widgets: tuple[str, str], namespace: str
) -> None:
    plural, kind = widgets
    co = client.CustomObjectsApi(api_client)
    body = _widget(kind, "ok", {"gpus": 2, "product": "Tesla-T4", "colour": "red"})
    co.create_namespaced_custom_object(GROUP, VERSION, namespace, plural, body)
    got = co.get_namespaced_custom_object(GROUP, VERSION, namespace, plural, "ok")
    assert got["spec"] == {"gpus": 2, "product": "Tesla-T4"}  # `colour` pruned


@pytest.mark.parametrize(
    ("spec", "needle"),
    [
        ({"gpus": 0}, "spec.gpus"),
        ({"gpus": "two"}, "spec.gpus"),
        ({"product": "Tesla-T4"}, "spec.gpus"),
        ({"gpus": 1, "product": "GeForce-GTX-1080"}, "spec.product"),
    ],
)
def test_invalid_resource_is_rejected(
    api_client: client.ApiClient,
    widgets: tuple[str, str],
    namespace: str,
    spec: dict[str, Any],
    needle: str,
) -> None:
    plural, kind = widgets
    co = client.CustomObjectsApi(api_client)
    with pytest.raises(ApiException) as err:
        co.create_namespaced_custom_object(
            GROUP, VERSION, namespace, plural, _widget(kind, "bad", spec)
        )
    assert err.value.status == 422
    assert needle in err.value.body


def test_status_subresource_and_resource_version_conflict(
    api_client: client.ApiClient, widgets: tuple[str, str], namespace: str
) -> None:
    plural, kind = widgets
    co = client.CustomObjectsApi(api_client)
    created = co.create_namespaced_custom_object(
        GROUP, VERSION, namespace, plural, _widget(kind, "w", {"gpus": 1})
    )
    # status written through the main resource is ignored ...
    created["status"] = {"phase": "Sneaky"}
    updated = co.replace_namespaced_custom_object(GROUP, VERSION, namespace, plural, "w", created)
    assert "status" not in updated
    # ... and through the status subresource it sticks, leaving spec alone
    updated["status"] = {"phase": "Trialling"}
    updated["spec"] = {"gpus": 8}
    after = co.replace_namespaced_custom_object_status(
        GROUP, VERSION, namespace, plural, "w", updated
    )
    assert after["status"] == {"phase": "Trialling"}
    assert after["spec"] == {"gpus": 1}
    assert int(after["metadata"]["generation"]) == 1
    # a write based on a stale resourceVersion is refused with 409 Conflict
    stale = dict(created)
    stale["spec"] = {"gpus": 3}
    with pytest.raises(ApiException) as err:
        co.replace_namespaced_custom_object(GROUP, VERSION, namespace, plural, "w", stale)
    assert err.value.status == 409


def test_watch_delivers_changes_since_a_resource_version(
    api_client: client.ApiClient, widgets: tuple[str, str], namespace: str
) -> None:
    plural, kind = widgets
    co = client.CustomObjectsApi(api_client)
    rv = co.list_namespaced_custom_object(GROUP, VERSION, namespace, plural)["metadata"][
        "resourceVersion"
    ]
    co.create_namespaced_custom_object(
        GROUP, VERSION, namespace, plural, _widget(kind, "seen", {"gpus": 4})
    )
    co.patch_namespaced_custom_object(
        GROUP, VERSION, namespace, plural, "seen", {"spec": {"gpus": 5}}
    )
    seen: list[tuple[str, int]] = []
    w = watch.Watch()
    for ev in w.stream(
        co.list_namespaced_custom_object,
        GROUP,
        VERSION,
        namespace,
        plural,
        resource_version=rv,
        allow_watch_bookmarks=True,
        timeout_seconds=15,
    ):
        if ev["type"] == "BOOKMARK":
            continue
        seen.append((ev["type"], ev["raw_object"]["spec"]["gpus"]))
        if len(seen) == 2:
            w.stop()
    assert seen == [("ADDED", 4), ("MODIFIED", 5)]


def test_streaming_list_ends_with_a_bookmark(core: client.CoreV1Api, namespace: str) -> None:
    core.create_namespaced_config_map(
        namespace, client.V1ConfigMap(metadata=client.V1ObjectMeta(name="seen"), data={"a": "1"})
    )
    # watch-list (sendInitialEvents): the initial state, then a BOOKMARK annotated
    # k8s.io/initial-events-end
    events: list[tuple[str, dict[str, Any]]] = []
    w = watch.Watch()
    for ev in w.stream(
        core.list_namespaced_config_map,
        namespace,
        allow_watch_bookmarks=True,
        send_initial_events=True,
        resource_version_match="NotOlderThan",
        timeout_seconds=15,
    ):
        events.append((ev["type"], ev["raw_object"]))
        if ev["type"] == "BOOKMARK":
            w.stop()
    names = [(t, o["metadata"].get("name")) for t, o in events if t != "BOOKMARK"]
    # kube-root-ca.crt is published into every namespace by kube-controller-manager
    assert ("ADDED", "seen") in names
    assert all(t == "ADDED" for t, _ in names)
    assert events[-1][0] == "BOOKMARK"
    bookmark = events[-1][1]["metadata"]
    assert bookmark["annotations"]["k8s.io/initial-events-end"] == "true"
    assert int(bookmark["resourceVersion"]) > 0
