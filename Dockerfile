# syntax=docker/dockerfile:1
# The operator image: `falcon operator run`. Build from the repository root:
#
#   docker build -t ghcr.io/falcon-operator/falcon-operator:0.1.0 .
#
# The base is pinned by its full version tag. Its digest could not be resolved where this file
# was written (no registry access); pin it where you build (docs/images.md):
#   docker buildx imagetools inspect python:3.11.7-slim-bookworm
# and use python:3.11.7-slim-bookworm@sha256:<digest> in both stages.
ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm

# -- builder: the project's wheel and a wheel of every dependency (all ship binary wheels) -----
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md NOTICE ./
COPY operator/ operator/
COPY trial-runner/ trial-runner/
RUN pip wheel --wheel-dir /wheels .

# -- final: the wheels installed from the builder, no build tools, non-root ---------------------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="falcon-operator" \
      org.opencontainers.image.description="Kubernetes operator for InferenceConfigSearch (Falcon, SoCC'22)" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="0.1.0"
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
# the wheels are bind-mounted from the builder, so they leave no layer behind
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    pip install --no-index --find-links /wheels falcon-operator \
    && groupadd --gid 65532 falcon \
    && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin falcon
COPY NOTICE /usr/share/doc/falcon-operator/NOTICE
USER 65532:65532
# Prometheus metrics (--metrics-port 8080); liveness when run with
# --liveness http://0.0.0.0:8081/healthz
EXPOSE 8080 8081
ENTRYPOINT ["falcon", "operator", "run"]
