# e2e test cluster targets (included by the top-level Makefile). See docs/testing.md.
E2E_CLUSTER_DIR := e2e/cluster
include $(E2E_CLUSTER_DIR)/versions.env
FALCON_CACHE ?= $(HOME)/.cache/falcon-operator
export FALCON_CACHE
export PY

.PHONY: cluster-tools cluster-up cluster-down kubeconfig e2e images

cluster-tools: ## build the pinned kube/etcd/kwok/helm binaries into $(FALCON_CACHE)/bin (once)
	$(E2E_CLUSTER_DIR)/build-tools.sh

cluster-up: $(STAMP) cluster-tools ## start (or reuse) the local control plane with GPU node pools
	$(E2E_CLUSTER_DIR)/cluster.sh up

cluster-down: ## stop the local control plane and delete its state
	$(E2E_CLUSTER_DIR)/cluster.sh down

images: $(STAMP) triton ## build the operator, runner, Triton and busybox images as OCI archives in $(FALCON_CACHE)/images (root; cached)
	e2e/images/build.sh

kubeconfig: ## print the kubeconfig path of the local control plane
	@$(E2E_CLUSTER_DIR)/cluster.sh kubeconfig

e2e: $(STAMP) cluster-tools images ## e2e tests against the local control plane (starts it if needed)
	$(PY) -m pytest -q e2e
