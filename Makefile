# Falcon operator — every install step lives here so that a fresh clone works.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
FALCON := $(VENV)/bin/falcon
DATA ?= ../shared/datasets/falcon
BENCH_OUT ?= bench/results/paper
BENCH_SEEDS ?= 20
STAMP := $(VENV)/.installed
# the demo needs the runtime package only: a plain install, no dev tools (see $(RUNTIME) below)
RUNTIME := $(VENV)/.runtime
# one BLAS thread per process: the GP fits are small, and the benchmark runs processes in parallel
export OPENBLAS_NUM_THREADS := 1
export OMP_NUM_THREADS := 1

.PHONY: help venv demo demo-replay test unit triton lint typecheck chart-crds docs bench bench-loo bench-quick bench-fleet bench-fleet-loo bench-mix bench-mix-loo bench-latency bench-ablation bench-ablation-heldout paper-eval calibrate bench-operator perf-analyzer model-analyzer kb-live bench-live bench-runner clean

help: ## list targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

venv: $(STAMP) ## create .venv and install the project with dev tools

# the demo's install: without a dev install, the package itself (not editable: no setuptools
# notes; reinstalled when its sources change) and its dependencies, no dev tools; with a dev
# install (make venv / make test), that one, brought up to date (it stays editable)
$(RUNTIME): pyproject.toml $(shell find operator/falcon_operator trial-runner/falcon_trial -type f -not -path '*__pycache__*' 2>/dev/null)
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (set PYTHON=...)"; exit 1; }
	@if [ -f $(STAMP) ]; then $(MAKE) --no-print-directory $(STAMP); else \
		echo "installing falcon-operator and its dependencies into $(VENV) (no dev tools)"; \
		test -x $(PY) || $(PYTHON) -m venv $(VENV); \
		$(PY) -m pip install -q --disable-pip-version-check . || exit 1; fi
	@touch $@

# the demo's GPUs: those of the tour's test cluster (e2e/cluster/nodepools.yaml), so that its
# recommendation names a GPU the tour can schedule; without --gpus, `falcon search` considers
# the whole catalog (A10G and L4 too)
DEMO_GPUS := T4,V100,M60,K80,A100,H100

demo: $(RUNTIME) ## the main job on the embedded default: search the simulated fleet for a shipped ONNX model
	$(FALCON) analyze operator/falcon_operator/data/models/vgg-plain.onnx
	$(FALCON) search operator/falcon_operator/data/models/vgg-plain.onnx --slo-p99-ms 50 --trials 12 --seed 0 \
	    --gpus $(DEMO_GPUS) --report falcon-report

demo-replay: $(RUNTIME) ## replay a Falcon search against a recorded table of the paper's data
	$(FALCON) replay --target bert-large --trials 15 --seed 0

test: $(STAMP) lint typecheck unit e2e ## lint, type-check and run every test (e2e included)

unit: $(STAMP) triton
	$(PY) -m pytest -q

triton: $(STAMP) ## install real Triton 2.51.0 (nvidia-pytriton wheel) + the simulated-GPU backend into $(FALCON_CACHE)/triton
	$(PY) -m falcon_operator.triton.install

lint: $(STAMP) ## ruff, and the import contracts of pyproject.toml (layers; see docs/architecture.md)
	$(VENV)/bin/ruff check operator trial-runner tests e2e bench
	$(VENV)/bin/ruff format --check operator trial-runner tests e2e bench
	$(VENV)/bin/lint-imports

typecheck: $(STAMP) ## mypy --strict on both packages
	$(VENV)/bin/mypy

docs: $(STAMP) ## regenerate docs/crd-reference.md, README's Layout, docs/architecture.md's layers, troubleshooting's failure kinds and the shipped source-model profiles (tests fail while stale)
	$(PY) -m falcon_operator.crd_reference
	$(PY) tests/docs_layout.py
	$(PY) -m falcon_operator.core.failure_doc
	$(PY) -m falcon_operator.bench.ablation_doc
	$(PY) -m falcon_operator.fleet.profiles

CHART := charts/falcon-operator

chart-crds: ## copy crds/ into the Helm chart (tests/test_chart.py fails while they differ)
	rm -f $(CHART)/files/crds/*.yaml
	cp crds/*.yaml $(CHART)/files/crds/

bench: $(STAMP) ## paper-data benchmark: every method, 8 targets, 20 seeds, 6/15/30 trials
	@test -d $(DATA)/models || { echo "error: $(DATA) is not a Falcon-layout directory (set DATA=...)"; exit 2; }
	$(FALCON) bench --data $(DATA) --trials 6,15,30 --seeds $(BENCH_SEEDS) --out $(BENCH_OUT)

bench-loo: $(STAMP) ## validation protocol: each source table in turn is the target (defaults were tuned here)
	$(FALCON) bench --data $(DATA) --loo --trials 6,15,30 --seeds $(BENCH_SEEDS) --out bench/results/loo

bench-fleet: $(STAMP) ## fleet benchmark: tables generated from the simulated fleet, 5 held-out models, SLO 100 ms
	$(FALCON) bench --fleet --trials 6,15,30 --seeds $(BENCH_SEEDS) --data bench/results/fleet-data --out bench/results/fleet

bench-fleet-loo: $(STAMP) ## fleet benchmark, leave-one-source-out over the 9 fleet source models (validation)
	$(FALCON) bench --fleet --loo --trials 6,15,30 --seeds $(BENCH_SEEDS) --no-latency --data bench/results/fleet-data --out bench/results/fleet-loo

bench-mix: $(STAMP) ## mix world: held-out targets unlike any source, 3 scenarios (SLO, prices), noisy measurements
	$(FALCON) bench --mix --trials 6,15,30 --seeds $(BENCH_SEEDS) --data bench/results/mix-data --out bench/results/mix

bench-mix-loo: $(STAMP) ## mix world, validation: every source in turn in every scenario (tune here, never on the targets)
	$(FALCON) bench --mix --loo --trials 6,15,30 --seeds $(BENCH_SEEDS) --no-latency --data bench/results/mix-data --out bench/results/mix-loo

bench-latency: $(STAMP) ## Falcon's suggestion latency only, no accuracy runs (paper + fleet knowledge; docs/benchmark.md)
	$(FALCON) bench --latency-only --data $(DATA) --out bench/results/latency/paper
	$(FALCON) bench --fleet --latency-only --data bench/results/fleet-data --out bench/results/latency/fleet

# the ablation's world: its tables and held-out targets (ABLATION_WORLD="--fleet --data
# bench/results/fleet-data" for the fleet's)
ABLATION_WORLD ?= --mix --data bench/results/mix-data
# --common-streams: variants draw Falcon's random stream (docs/algorithm.md, Ablation)
ABLATION_STREAMS ?=

bench-ablation: $(STAMP) ## Falcon with each mechanism off vs full Falcon, leave-one-source-out (validation); then make docs
	$(FALCON) bench --ablation $(ABLATION_STREAMS) $(ABLATION_WORLD) --loo --trials 6,15,30 --seeds $(BENCH_SEEDS) --out bench/results/ablation

bench-ablation-heldout: $(STAMP) ## the same ablation on the world's held-out targets (reported apart, never tuned on)
	$(FALCON) bench --ablation $(ABLATION_STREAMS) $(ABLATION_WORLD) --trials 6,15,30 --seeds $(BENCH_SEEDS) --out bench/results/ablation-heldout

# the paper's seven evaluations (docs/evaluation.md); evaluations 1 and 3 read the committed
# bench/results/{paper,mix}/results.json (make bench, make bench-mix): run those first
PAPER_EVAL_SEEDS ?= 20

paper-eval: $(STAMP) ## the paper's seven evaluations in one report: docs/evaluation.md and docs/evaluation/*.png
	$(FALCON) paper-eval --seeds $(PAPER_EVAL_SEEDS) --data $(DATA) --out docs/evaluation --doc docs/evaluation.md

bench-quick: $(STAMP) ## a 3-seed benchmark for a quick look
	$(FALCON) bench --data $(DATA) --trials 6,15,30 --seeds 3 --out bench/results/quick

calibrate: $(STAMP) ## fit of the fleet's per-operator GPU speed ratios to the shared operator timings
	$(FALCON) calibrate --timings $(DATA)/operators/operator_timings.csv \
		--json bench/results/calibration/calibration.json --markdown bench/results/calibration/calibration.md

# the operator bench's scale (docs/operator.md, "The operator under load")
BENCH_OPERATOR_ARGS ?= --searches 100 --namespaces 10 --repeat 3

bench-operator: $(STAMP) cluster-tools ## 100 searches over 10 namespaces and an API-server pause (3 runs each), a 500-trial history (bench/results/operator)
	$(PY) e2e/bench_operator.py $(BENCH_OPERATOR_ARGS)

perf-analyzer: ## NVIDIA's perf_analyzer 2.41 into $(FALCON_CACHE)/perf_analyzer/ (for bench-runner)
	@PY=$(PY) bench/perf-analyzer.sh >/dev/null

model-analyzer: ## Triton Model Analyzer 1.58 into $(FALCON_CACHE)/model-analyzer/ (its own venv; docs/live.md)
	@bench/model-analyzer.sh >/dev/null

kb-live: $(STAMP) triton ## profile the source models with real trials on this host (cached in $(FALCON_CACHE)/live; docs/live.md)
	$(FALCON) kb build --live

# the head-to-head's models, SLO and budget (docs/live.md, "The head-to-head")
LIVE_ARGS ?= --models vgg-plain,vit-patch,wide-deep-l --trials 15 --slo-p99-ms 50 --repeats 3

bench-live: kb-live perf-analyzer model-analyzer ## Falcon live vs Triton Model Analyzer quick/brute, random, TPE on real Triton (bench/results/live; resumes)
	$(PY) bench/live_head_to_head.py $(LIVE_ARGS) --out bench/results/live

bench-runner: $(STAMP) triton perf-analyzer ## falcon-trial vs perf_analyzer on one real Triton (bench/results/runner)
	$(PY) bench/runner_vs_perf_analyzer.py --concurrency 1,4,16 --window-s 5 --out bench/results/runner

include e2e/cluster/cluster.mk

clean: ## remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
