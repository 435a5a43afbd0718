# Contour — the two commands a user needs are `make demo` and `make test`; both run `make setup`
# first, which installs what is missing (Debian -dev packages, libtorch 2.11.0 into .deps/).
SWIFT ?= swift
BENCH_PY := .venv-bench/bin/python

.PHONY: setup build test demo bench bench-venv fixtures tensorboard-fixture clean check-report docs nccl cudagraph fuzz sanitizer-build check-sanitizers soak-leaks

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

# The CUDA plugins: the pieces of the shim that need libtorch_cuda, which a CPU build does not link,
# built against the CUDA build of torch that $(CUDA_PYTHON) imports (the same libtorch version
# Contour runs with): `make nccl` (the nccl backend for distributed training on GPUs) and
# `make cudagraph` (CUDA graphs: `bench models --cuda-graph`). The shim finds each beside the contour
# binary, in .build/NAME/ (beside .build/release), or at $$CONTOUR_NCCL_PLUGIN / $$CONTOUR_CUDAGRAPH_PLUGIN.
CUDA_PYTHON ?= $(or $(NCCL_PYTHON),python3)
NCCL_PLUGIN ?= .build/nccl/libcontour_nccl.so
CUDAGRAPH_PLUGIN ?= .build/cudagraph/libcontour_cudagraph.so
nccl:
	PYTHON=$(CUDA_PYTHON) bash plugins/build.sh nccl $(NCCL_PLUGIN)

cudagraph:
	PYTHON=$(CUDA_PYTHON) bash plugins/build.sh cudagraph $(CUDAGRAPH_PLUGIN)

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
	$(BENCH_PY) scripts/fixtures/make_condseg_ablation_fixtures.py
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
	$(BENCH_PY) scripts/fixtures/make_bench_unet_fixtures.py

# An event file written by TensorBoard's own writer, for the Swift reader in TensorBoardTests.
tensorboard-fixture:
	test -x .venv-tensorboard/bin/python || (python3 -m venv .venv-tensorboard && .venv-tensorboard/bin/pip install -q tensorboard)
	.venv-tensorboard/bin/python scripts/fixtures/make_tensorboard_fixture.py

clean:
	rm -rf .build .build-asan .build-tsan demo-data runs

# Reliability checks (not part of `make test`; slow). One ASan build (.build-asan) serves the fuzz
# targets, the ASan+UBSan test suite and the leak check: Swift with -sanitize=address plus libFuzzer's
# coverage, C/C++ (the libtorch shim, libyaml) with -fsanitize=address,undefined (vptr off: it needs
# the C++ UBSan runtime, which swiftc does not link). sanitizers/*.supp hold the justified suppressions.
SAN_DIR := $(CURDIR)/sanitizers
# libFuzzer's coverage is asked for explicitly rather than by -sanitize=fuzzer, which would link
# libFuzzer's own main into every executable (contour, the tests): the driver comes from the
# no-main runtime and contour-fuzz calls it (LLVMFuzzerRunDriver).
SWIFT_CLANG_RT := $(realpath $(dir $(realpath $(shell command -v swiftc)))../lib/clang)
FUZZER_LIB := $(firstword $(wildcard $(SWIFT_CLANG_RT)/*/lib/linux/libclang_rt.fuzzer_no_main-x86_64.a))
ASAN_BUILD := --scratch-path .build-asan -Xswiftc -sanitize=address -Xswiftc -sanitize-coverage=edge,trace-cmp,inline-8bit-counters,pc-table \
  -Xswiftc -DFUZZING -Xlinker $(FUZZER_LIB) \
  -Xcc -fsanitize=address,undefined,fuzzer-no-link -Xcc -fno-sanitize=vptr \
  -Xcxx -fsanitize=address,undefined,fuzzer-no-link -Xcxx -fno-sanitize=vptr
ASAN_ENV := ASAN_OPTIONS=detect_leaks=1:suppressions=$(SAN_DIR)/asan.supp:alloc_dealloc_mismatch=0 \
  LSAN_OPTIONS=suppressions=$(SAN_DIR)/lsan.supp:print_suppressions=0 \
  UBSAN_OPTIONS=print_stacktrace=1:suppressions=$(SAN_DIR)/ubsan.supp OMP_WAIT_POLICY=PASSIVE
TSAN_BUILD := --scratch-path .build-tsan -Xswiftc -sanitize=thread -Xcc -fsanitize=thread -Xcxx -fsanitize=thread
TSAN_ENV := TSAN_OPTIONS=suppressions=$(SAN_DIR)/tsan.supp:halt_on_error=0:report_signal_unsafe=0 OMP_WAIT_POLICY=PASSIVE
# Test classes run under TSan: the data loader, the trainer, and distributed training.
TSAN_FILTER ?= DataLoaderTests|TrainingCoreTests|TrainingTests\.TrainingTests|DistributedTests|DistributedTrainingTests
# Empty: the whole suite under ASan+UBSan; a regex (e.g. ImagingTests) narrows it.
ASAN_FILTER ?=

FUZZ_RUNS ?= 1000000
FUZZ_TARGETS ?= png jpeg tiff nifti nifti-gz npy safetensors pth pickle dataset landmarks config
# libFuzzer flags: inputs up to 64 KiB, 10 s per input, and a 4 GiB memory ceiling; readers may not
# allocate what a header claims, so CONTOUR_MAX_ELEMENTS is lowered to keep every input small.
FUZZ_FLAGS ?= -max_len=65536 -timeout=10 -rss_limit_mb=4096 -malloc_limit_mb=2048 -print_final_stats=1
# pth and pickle open a zip through ZIPFoundation's Archive(url:), which leaks ~40 bytes per file (see
# sanitizers/lsan.supp); with libFuzzer's per-input leak check that made every input a full LSan scan
# (~1 input/s). -detect_leaks=0 keeps LeakSanitizer's check at exit only, which still sees every leak.
# FUZZ_NICE="nice -n 19" on a shared machine; FUZZ_SECONDS=600 stops each target after that long.
FUZZ_NICE ?=
FUZZ_SECONDS ?=

sanitizer-build: setup
	$(SWIFT) build --build-tests $(ASAN_BUILD)

# Each target in turn: its new inputs go to .build-asan/fuzz-corpus/TARGET, crashes to .build-asan/fuzz-crashes/.
fuzz: sanitizer-build
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p .build-asan/fuzz-corpus/$$t .build-asan/fuzz-crashes; \
	  echo "== fuzz $$t ($(FUZZ_RUNS) runs)"; \
	  case $$t in pth|pickle) extra=-detect_leaks=0;; *) extra=;; esac; \
	  $(ASAN_ENV) CONTOUR_MAX_ELEMENTS=4194304 $(FUZZ_NICE) .build-asan/debug/contour-fuzz $$t -runs=$(FUZZ_RUNS) $(FUZZ_FLAGS) $(if $(FUZZ_SECONDS),-max_total_time=$(FUZZ_SECONDS)) $$extra \
	    -artifact_prefix=.build-asan/fuzz-crashes/$$t- .build-asan/fuzz-corpus/$$t fuzz/corpus/$$t || exit 1; \
	done

check-sanitizers: sanitizer-build
	$(ASAN_ENV) $(SWIFT) test --skip-build --disable-swift-testing --scratch-path .build-asan $(if $(ASAN_FILTER),--filter '$(ASAN_FILTER)')
	$(SWIFT) build --build-tests $(TSAN_BUILD)
	$(TSAN_ENV) $(SWIFT) test --skip-build --disable-swift-testing --scratch-path .build-tsan --filter '$(TSAN_FILTER)'

# LeakSanitizer over a 200-step training run.
soak-leaks: sanitizer-build
	$(ASAN_ENV) .build-asan/debug/contour bench soak --steps 200 --every 100 --set 'data.patchSize=[64,64]' --set data.batchSize=2

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
