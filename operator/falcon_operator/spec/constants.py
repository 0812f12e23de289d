"""Names of the InferenceConfigSearch API and of the labels the operator reads and writes."""

from __future__ import annotations

# the node labels and GPU resources of the knobs are the knob registry's (re-exported)
from falcon_operator.core.knobs import GPU_RESOURCE as GPU_RESOURCE
from falcon_operator.core.knobs import MIG_RESOURCE_PREFIX as MIG_RESOURCE_PREFIX
from falcon_operator.core.knobs import POWER_LABEL as POWER_LABEL
from falcon_operator.core.knobs import PRODUCT_LABEL as PRODUCT_LABEL

GROUP = "autoconfig.falcon.io"
VERSION = "v1alpha1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "InferenceConfigSearch"
PLURAL = "inferenceconfigsearches"
SHORT_NAME = "ics"

#: default of spec.model.tritonImage: the Triton of the trial pods and the recommended Deployment
TRITON_IMAGE = "nvcr.io/nvidia/tritonserver:24.08-py3"

#: field manager of every write (server-side apply of the recommendation included)
FIELD_MANAGER = "falcon-operator"

#: labels and annotations of the objects the operator creates for a search
SEARCH_LABEL = "autoconfig.falcon.io/search"
TRIAL_LABEL = "autoconfig.falcon.io/trial"
COMPONENT_LABEL = "app.kubernetes.io/component"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
CONFIG_ANNOTATION = "autoconfig.falcon.io/configuration"
INDEX_ANNOTATION = "autoconfig.falcon.io/trial-index"
#: test hook read from a search's annotations in simulated mode only: crash or oom, optionally
#: for some trial indices only ("crash@0,2")
SIMULATED_FAULT_ANNOTATION = "autoconfig.falcon.io/simulated-fault"
#: the KWOK fault-injection label of the e2e cluster (e2e/cluster/stages.yaml)
FAULT_LABEL = "falcon.io/fault"

#: output.mode Apply (reconcile/ownership.py, docs/security.md): the annotation the operator puts
#: on the objects it creates (value: the search's name) ...
CREATED_BY_ANNOTATION = "autoconfig.falcon.io/created-by-search"
#: ... the annotation by which a Deployment's owner lets searches update it (comma-separated
#: search names of the namespace, or *) ...
ACCEPT_FROM_ANNOTATION = "autoconfig.falcon.io/accept-recommendation-from"
#: ... and the one that lets them take over fields other field managers own ("true")
ACCEPT_FORCE_ANNOTATION = "autoconfig.falcon.io/accept-recommendation-force"
