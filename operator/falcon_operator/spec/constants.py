"""Names of the InferenceConfigSearch API and of the labels the operator reads and writes."""

from __future__ import annotations

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
#: GPU Feature Discovery's product label, the default node selector of a GPU type
PRODUCT_LABEL = "nvidia.com/gpu.product"
#: node label of a GPU pool's power cap (percent of TDP)
POWER_LABEL = "autoconfig.falcon.io/gpu-power-limit"
GPU_RESOURCE = "nvidia.com/gpu"
MIG_RESOURCE_PREFIX = "nvidia.com/mig-"

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
