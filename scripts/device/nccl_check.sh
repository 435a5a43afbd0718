#!/usr/bin/env bash
# NCCL check on a one-GPU CUDA machine (no Swift, no network needed). Usage, from the repository root:
#   bash scripts/device/nccl_check.sh /path/to/contour
# Needs: python3 with a CUDA build of torch 2.11 (the libtorch the contour binary runs with, its
# libraries on LD_LIBRARY_PATH), g++, CUDA headers (nvcc's toolkit or torch's nvidia wheels).
# Steps: (1) build the plugin as `make nccl` does; (2) the collectives check and all-reduce timing
# on NCCL, 1 rank (NCCL refuses two ranks on one GPU); (3) the same with --dist-backend auto (must
# pick nccl); (4) a 1-rank NCCL training run of a few steps (broadcast at start, validation gathers);
# (5) nccl without the plugin fails with the clear error. Prints PASS/FAIL per step; exit 1 on a FAIL.
set -x
contour=${1:?usage: nccl_check.sh /path/to/contour}
work=${WORK:-$(mktemp -d /tmp/contour-nccl-check.XXXXXX)}
fails=0
result() { set +x; echo "step $1: exit code $2"; if [ "$2" = 0 ]; then echo "PASS $1"; else echo "FAIL $1"; fails=$((fails + 1)); fi; set -x; }

nvidia-smi -L; python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "gpus", torch.cuda.device_count(), "nccl", torch.cuda.nccl.version())'
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"

# (1) the plugin (make nccl)
timeout 240 env PYTHON=python3 bash plugins/build.sh nccl "$work/libcontour_nccl.so"
result build-plugin $?
export CONTOUR_NCCL_PLUGIN=$work/libcontour_nccl.so

# (2) collectives on NCCL, checked against expected values, and the all-reduce time
timeout 120 "$contour" bench distributed --all-reduce-only --workers 1 --device cuda --dist-backend nccl \
  --parameters 30000000 --repeats 5 2>&1 | tee "$work/bench-nccl.txt"
rc=${PIPESTATUS[0]}; [ "$rc" = 0 ] && ! grep -q "collectives checked on nccl" "$work/bench-nccl.txt" && rc=90
result bench-nccl "$rc"

# (3) auto picks nccl for a CUDA device
timeout 120 "$contour" bench distributed --all-reduce-only --workers 1 --device cuda --dist-backend auto \
  --parameters 1000000 --repeats 2 2>&1 | tee "$work/bench-auto.txt"
rc=${PIPESTATUS[0]}; [ "$rc" = 0 ] && ! grep -q "collectives checked on nccl" "$work/bench-auto.txt" && rc=91
result bench-auto-picks-nccl "$rc"

# (4) a short 1-rank NCCL training run on a generated dataset
timeout 60 "$contour" data demo --output "$work/data" --kind tubular --count 8 --test-count 0
result demo-data $?
cat > "$work/run.yaml" <<YAML
data: {dataset: $work/data, patchSize: [64, 64], batchSize: 2, workers: 1, preset: nnunet-default}
model: {name: unet2d, options: {stages: 3, baseWidth: 8}}
objectives: [cedice]
optimizer: {name: sgd, learningRate: 0.01, momentum: 0.9}
run: {epochs: 2, iterationsPerEpoch: 3, seed: 1, output: $work/run}
YAML
timeout 180 "$contour" train --config "$work/run.yaml" --device cuda --nproc-per-node 1 --dist-backend nccl 2>&1 | tee "$work/train.txt"
rc=${PIPESTATUS[0]}; [ "$rc" = 0 ] && ! ls "$work"/run*/checkpoints >/dev/null 2>&1 && rc=92
result train-nccl "$rc"

# (5) without the plugin, nccl is a clear error (not a crash)
CONTOUR_NCCL_PLUGIN=$work/absent.so timeout 60 "$contour" bench distributed --all-reduce-only --workers 1 --device cuda \
  --dist-backend nccl --parameters 1000 --repeats 1 > "$work/noplugin.txt" 2>&1
rc=$?; cat "$work/noplugin.txt"
[ "$rc" != 0 ] && grep -q "libcontour_nccl.so" "$work/noplugin.txt"
result missing-plugin-error $?

set +x
echo "work folder: $work"
[ "$fails" = 0 ] && echo "ALL PASS" || echo "$fails FAILED"
[ "$fails" = 0 ]
