"""The InferenceConfigSearch CRD (crds/) as the API server serves it, beyond validation
(test_operator_validation.py): its defaults are the operator's, unknown fields are pruned, and
status is a subresource that reads Pending until the operator writes it -- what the operator's
``observedGeneration`` and its GitOps promise (test_operator_gitops.py) rest on.
"""

from __future__ import annotations

import copy
from typing import Any

from falcon_e2e.operator import GROUP, PLURAL, VERSION, create_search
from kubernetes import client

from falcon_operator.spec.parse import parse_spec

BODY: dict[str, Any] = {
    "apiVersion": f"{GROUP}/{VERSION}",
    "kind": "InferenceConfigSearch",
    "metadata": {"name": "crd"},
    "spec": {
        "model": {
            "name": "resnet-mini",
            "configMapRef": {"name": "resnet-mini-model", "key": "model.onnx"},
        },
        "searchSpace": {"gpus": [{"type": "T4"}]},
    },
}


def _get(custom: client.CustomObjectsApi, namespace: str) -> dict[str, Any]:
    obj: dict[str, Any] = custom.get_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, "crd"
    )
    return obj


def test_the_crd_defaults_are_the_operators(
    custom: client.CustomObjectsApi, namespace: str
) -> None:
    """A minimal search, defaulted by the API server, parses to what the operator's own
    defaults make of it (``falcon search`` and tests parse specs that never saw the server)."""
    create_search(custom, namespace, copy.deepcopy(BODY))
    stored = _get(custom, namespace)["spec"]
    assert stored != BODY["spec"], "the CRD declares no defaults"
    assert parse_spec(stored) == parse_spec(BODY["spec"])


def test_unknown_fields_are_pruned_and_status_is_a_subresource(
    custom: client.CustomObjectsApi, namespace: str
) -> None:
    body = copy.deepcopy(BODY)
    body["spec"]["budget"] = {"maxTrials": 2, "colour": "red"}
    body["status"] = {"phase": "Succeeded"}
    custom.create_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, body, field_validation="Ignore"
    )
    created = _get(custom, namespace)
    assert "colour" not in created["spec"]["budget"]  # pruned, not stored
    assert created["spec"]["budget"]["maxTrials"] == 2
    # status is not written through the main resource: a new search reads as the CRD's default
    assert created["status"] == {"phase": "Pending", "message": "waiting for the operator"}
    assert int(created["metadata"]["generation"]) == 1

    # the operator's status writes touch neither spec nor generation ...
    created["status"] = {"phase": "Running", "observedGeneration": 1}
    created["spec"]["budget"]["maxTrials"] = 5
    after = custom.replace_namespaced_custom_object_status(
        GROUP, VERSION, namespace, PLURAL, "crd", created
    )
    assert after["status"]["phase"] == "Running"
    assert after["spec"]["budget"]["maxTrials"] == 2
    assert int(after["metadata"]["generation"]) == 1
    # ... while a spec change (the budget may change) makes a new generation for it to observe
    custom.patch_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, "crd", {"spec": {"budget": {"maxTrials": 3}}}
    )
    patched = _get(custom, namespace)
    assert int(patched["metadata"]["generation"]) == 2
    assert patched["status"]["observedGeneration"] == 1
