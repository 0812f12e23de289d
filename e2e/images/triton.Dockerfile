# syntax=docker/dockerfile:1
# The test world's CPU Triton Inference Server 2.51.0: the server of the nvidia-pytriton wheel
# (laid out by `make triton` at $FALCON_CACHE/triton/2.51.0/server, docs/triton.md) with a
# Python that has what its backends import (numpy, onnx, onnxruntime and the project without
# its dependencies) from operator/falcon_operator/data/triton/stub-requirements.txt: numpy must
# be below 2, since the 2.51.0 stub is built against numpy 1.x and returns empty output tensors
# under numpy 2. Trial pods run it with
# args ["tritonserver", "--model-repository=/models", "--model-control-mode=explicit", ...],
# so the image has no ENTRYPOINT and `tritonserver` is on PATH. Build from the repository root:
#
#   docker build -f e2e/images/triton.Dockerfile \
#       --build-context triton=$FALCON_CACHE/triton/2.51.0/server \
#       -t ghcr.io/falcon-operator/tritonserver-cpu:2.51.0 .
#
# `make images` builds the same image without Docker (e2e/images/, docs/images.md;
# e2e/test_images_build.py checks the built image against this file).
ARG PYTHON_IMAGE=python:3.11.7-slim-bookworm

# -- builder: the project's wheel (no dependencies) and the backends' dependency wheels --------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md NOTICE ./
COPY operator/ operator/
COPY trial-runner/ trial-runner/
RUN pip wheel --no-deps --wheel-dir /wheels/project . \
    && pip wheel --wheel-dir /wheels/deps -r operator/falcon_operator/data/triton/stub-requirements.txt

# -- final: the server at /opt/tritonserver (its default backend directory), a venv on PATH ----
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="tritonserver-cpu" \
      org.opencontainers.image.description="Triton Inference Server 2.51.0 (nvidia-pytriton 0.7.0) on CPU for the falcon-operator test world" \
      org.opencontainers.image.licenses="BSD-3-Clause AND Apache-2.0" \
      org.opencontainers.image.version="2.51.0"
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:/opt/tritonserver/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LD_LIBRARY_PATH=/opt/tritonserver/lib:/usr/local/lib
COPY --from=triton . /opt/tritonserver
RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
    --mount=type=bind,source=operator/falcon_operator/data/triton/stub-requirements.txt,target=/tmp/stub-requirements.txt \
    python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-index --find-links /wheels/deps -r /tmp/stub-requirements.txt \
    && /opt/venv/bin/pip install --no-index --no-deps /wheels/project/*.whl \
    && groupadd --gid 65532 falcon \
    && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin falcon
USER 65532:65532
# HTTP/REST (KServe v2), gRPC, Prometheus metrics
EXPOSE 8000 8001 8002
CMD ["tritonserver"]
