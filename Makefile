# Contour — the two commands a user needs are `make demo` and `make test`; both run `make setup`
# first, which installs what is missing (Debian -dev packages, libtorch 2.11.0 into .deps/).
SWIFT ?= swift
BENCH_PY := .venv-bench/bin/python

.PHONY: setup build test demo bench bench-venv fixtures tensorboard-fixture clean check-report docs nccl

setup:
	@bash scripts/setup.sh

build: setup
	$(SWIFT) build -c release --product contour

test: setup
	$(SWIFT) build --build-tests
	# Passive OpenMP waiting: on a loaded 2-core machine spinning libgomp threads made single-process runs up to 20× slower.
	OMP_WAIT_POLICY=PASSIVE $(SWIFT) test --skip-build --disable-swift-testing

demo: build
	.build/release/contour demo

# The nccl backend (distributed training on GPUs): a plugin the shim loads at run time, built
# against the CUDA build of torch that $(NCCL_PYTHON) imports (the same libtorch version Contour
# runs with). The shim finds it beside the contour binary, in .build/nccl/ (beside .build/release),
# or at $$CONTOUR_NCCL_PLUGIN.
NCCL_PYTHON ?= python3
NCCL_PLUGIN ?= .build/nccl/libcontour_nccl.so
nccl:
	PYTHON=$(NCCL_PYTHON) bash plugins/nccl/build.sh $(NCCL_PLUGIN)

# Benchmarks (not tests). The PyTorch references need `make bench-venv` once (≈5 GB: torch with CUDA wheels).
bench: build
	OMP_WAIT_POLICY=PASSIVE .build/release/contour bench all

bench-venv:
	test -x $(BENCH_PY) || python3 -m venv .venv-bench
	$(BENCH_PY) -m pip install -q torch==2.11.0 safetensors monai scikit-image connected-components-3d edt scipy numpy

# Regenerate test fixtures (commit the outputs; CI only reads them).
fixtures: tensorboard-fixture
	python3 scripts/fixtures/make_torch_fixtures.py
	python3 scripts/fixtures/make_config_yaml_fixtures.py
	$(BENCH_PY) scripts/fixtures/make_neuralnet_fixtures.py
	$(BENCH_PY) scripts/fixtures/make_geometry_fixtures.py
	$(BENCH_PY) scripts/fixtures/make_landmark_fixtures.py
	$(BENCH_PY) scripts/fixtures/make_resunet_fixtures.py
	$(BENCH_PY) scripts/fixtures/make_condseg_fixtures.py
	$(BENCH_PY) scripts/fixtures/make_pth_fixtures.py
	$(BENCH_PY) scripts/fixtures/make_condseg_loss_fixtures.py
	$(BENCH_PY) scripts/fixtures/make_bab_fixtures.py
	$(BENCH_PY) scripts/fixtures/make_pseudolabel_fixtures.py
	python3 scripts/fixtures/make_hadwiger_fixtures.py
	$(BENCH_PY) scripts/fixtures/make_hadwiger_torch_fixtures.py
	$(BENCH_PY) scripts/fixtures/make_compare_fixtures.py
	$(BENCH_PY) scripts/fixtures/make_resample_fixtures.py
	$(BENCH_PY) scripts/fixtures/make_planned_prediction_fixtures.py
	$(BENCH_PY) scripts/fixtures/make_bench_fixtures.py

# An event file written by TensorBoard's own writer, for the Swift reader in TensorBoardTests.
tensorboard-fixture:
	test -x .venv-tensorboard/bin/python || (python3 -m venv .venv-tensorboard && .venv-tensorboard/bin/pip install -q tensorboard)
	.venv-tensorboard/bin/python scripts/fixtures/make_tensorboard_fixture.py

clean:
	rm -rf .build demo-data runs

# API documentation of the library targets, one combined DocC archive (not committed). Browse it with
# `python3 -m http.server -d .build/docs` and open http://localhost:8000/documentation/training
DOC_TARGETS := Torch NeuralNet Models Objectives Training Geometry Metrics Imaging
# CPATH: the symbol-graph extractor does not get Imaging's -I/usr/include/nifti from Package.swift.
docs: setup
	CPATH=/usr/include/nifti$${CPATH:+:$$CPATH} $(SWIFT) package --allow-writing-to-directory .build/docs generate-documentation \
	  $(addprefix --target ,$(DOC_TARGETS)) --enable-experimental-combined-documentation \
	  --transform-for-static-hosting --output-path .build/docs

# Renders a report in headless Chromium (installed here if missing) and checks it is not blank.
check-report: setup
	@command -v chromium >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium)
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --disable-swift-testing --filter ReportRenderTests
