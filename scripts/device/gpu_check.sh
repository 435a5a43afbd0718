#!/usr/bin/env bash
# Contour's CUDA checks on a machine with an NVIDIA GPU and a CUDA build of torch 2.11 in
# `python3`, but no Swift: unpacks an archive from scripts/device/package.sh (the release `contour`
# and the test bundle) and runs
#   1. `contour info` (CUDA found through the machine's libtorch_cuda),
#   2. the CUDATests class (objectives, models and short training runs against the CPU),
#   3. the two-stage ConDSeg config, BaBLoss on 3D HPL data, evaluate and predict, all on cuda,
#   4. `contour bench models` on cuda in fp32 and bf16 against PyTorch's official model,
#   5. the NCCL backend (scripts/device/nccl_check.sh: builds the plugin, collectives, a run),
#   6. CUDA graphs: builds libcontour_cudagraph.so beside `contour`, the CUDATests graph test, and
#      batch-1 `bench models` in bf16 eager, then with --cuda-graph (both sides).
# $OUT (or /tmp/gpu-check) gets summary.txt and logs.tgz (one log per step).
#
#   scripts/device/gpu_check.sh PKG.tar.xz [steps…]   (steps: info tests condseg hpl bench nccl graph; default all)
set -u
pkg=${1:?archive from scripts/device/package.sh}
shift
steps=${*:-info tests condseg hpl bench nccl graph}
out=${OUT:-/tmp/gpu-check}
mkdir -p "$out"
ct=/tmp/contour-gpu
rm -rf "$ct" && mkdir -p "$ct" && tar -C "$ct" -xJf "$pkg" || { echo "cannot unpack $pkg"; exit 1; }
torchlib=${TORCH_LIB:-$(python3 -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')} || exit 1
export LD_LIBRARY_PATH="$ct/lib:$torchlib" OMP_WAIT_POLICY=PASSIVE
C="$ct/contour"
work=/tmp/gpu-work
logs=$work/logs
rm -rf "$work" && mkdir -p "$logs"
summary="$out/summary.txt"
trap 'tar -C "$work" -czf "$out/logs.tgz" logs' EXIT
: >"$summary"

# step NAME COMMAND…: runs one check, logs it, records its exit code and seconds in the summary.
step() {
  local name=$1 start rc
  shift
  start=$(date +%s%N)
  "$@" >"$logs/$name.log" 2>&1
  rc=$?
  printf '%-20s rc=%-3s %6d ms\n' "$name" "$rc" "$((($(date +%s%N) - start) / 1000000))" | tee -a "$summary"
  [ $rc -eq 0 ] || tail -n 30 "$logs/$name.log"
  return $rc
}
has() { [[ " $steps " == *" $1 "* ]]; }

nvidia-smi -L | tee -a "$summary"
python3 -c 'import torch; print("torch", torch.__version__, torch.cuda.get_device_name(0))' | tee -a "$summary"
if has info; then step info "$C" info && grep -i -E "cuda|device" "$logs/info.log" | tee -a "$summary"; fi
if has tests; then step cuda-tests "$ct/ContourPackageTests.xctest" TrainingTests.CUDATests \
  && grep -E "Executed|skipped" "$logs/cuda-tests.log" | tail -n 2 | tee -a "$summary"; fi
if has condseg; then
  step polyps-data "$C" data demo --kind polyps --count 24 --test-count 6 --output "$work/polyps" &&
  step condseg-train "$C" train --config configs/condseg.yaml --dataset "$work/polyps" --epochs 2 --iterations 10 \
    --set run.device=cuda --set run.output="$work/condseg" &&
  step condseg-evaluate "$C" evaluate --checkpoint "$work/condseg" --dataset "$work/polyps" --split test \
    --condseg-conventions --device cuda && tail -n 6 "$logs/condseg-evaluate.log" | tee -a "$summary"
fi
if has hpl; then
  step hpl-data "$C" data demo --kind organ-landmarks-3d --count 8 --test-count 2 --output "$work/hpl" &&
  step hpl-train "$C" train --config configs/hpl.yaml --dataset "$work/hpl" --epochs 2 --iterations 3 \
    --set run.device=cuda --set run.output="$work/hpl-run" &&
  step hpl-predict "$C" predict --checkpoint "$work/hpl-run" --input "$work/hpl/imagesTs" --output "$work/hpl-pred" --device cuda &&
  ls "$work/hpl-pred" | head -n 4 | tee -a "$summary"
fi
if has bench; then
  for p in fp32 bf16; do
    step "models-$p" "$C" bench models --device cuda --precision "$p" --batches 1,16 --iters 20 --rounds 8 \
      --python python3 && tail -n 12 "$logs/models-$p.log" | tee -a "$summary"
  done
fi
if has nccl; then
  step nccl env WORK="$work/nccl" bash scripts/device/nccl_check.sh "$C"
  grep -E "^(PASS|FAIL|ALL PASS)|FAILED|collectives checked|all-reduce" "$logs/nccl.log" | tee -a "$summary"
fi
if has graph; then
  step cudagraph-plugin env PYTHON=python3 bash plugins/build.sh cudagraph "$ct/libcontour_cudagraph.so" &&
  step cudagraph-test "$ct/ContourPackageTests.xctest" TrainingTests.CUDATests/testCUDAGraphReplaysAForwardOnNewInputs &&
  grep -E "Executed|skipped|error" "$logs/cudagraph-test.log" | tail -n 3 | tee -a "$summary"
  for mode in eager graph; do
    step "models-bf16-b1-$mode" "$C" bench models --device cuda --precision bf16 --batches 1 --iters 50 --rounds 8 \
      --train-batch 0 --python python3 $([ $mode = graph ] && echo --cuda-graph) && tail -n 8 "$logs/models-bf16-b1-$mode.log" | tee -a "$summary"
  done
fi
exit 0
