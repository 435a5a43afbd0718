#!/usr/bin/env bash
# BaBLoss on the 3D HPL demo pair (benchmarks/README.md "BaBLoss"): one landmark-only and one
# label-only half of a 64³ organ/core anatomy; the same multi-task network (resunet3d-mt) trained
# with segmentation only, landmarks only, the multi-task sum, DWA (T = 2), BaBLoss (official and
# cosine) and BaBLoss + pseudo-labels (convex hulls of the landmarks, `contour pseudo-label`).
# Each run: train, then `contour evaluate` on the test cases (Dice/HD95 per organ, MRE/SDR);
# time.json holds the training wall time. Rerunning skips finished runs. Summarise with
# benchmarks/hpl_table.py. OMP_WAIT_POLICY=PASSIVE: on a shared, oversubscribed CPU, OpenMP's
# spin-waiting otherwise burns ~4× the CPU time (measured with perf: 65 % in libgomp).
set -euo pipefail
C=${CONTOUR:-.build/release/contour}
DATA=${DATA:-demo-data/hpl}
OUT=${OUT:-runs/hpl-exp}
EPOCHS=${EPOCHS:-10}; ITERS=${ITERS:-6}; WIDTH=${WIDTH:-8}; BLOCKS=${BLOCKS:-2}
SEEDS=${SEEDS:-"0"}
ARMS=${ARMS:-"seg-only landmark-only sum dwa bab bab-cosine bab-pseudo"}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
[ -f "$DATA/dataset.json" ] || $C data demo --kind organ-landmarks-3d --count 24 --test-count 8 --output "$DATA"
for seed in $SEEDS; do
  for arm in $ARMS; do
    run="$OUT/$arm-s$seed"
    [ -f "$run/eval/summary.json" ] && continue
    extra=()
    case $arm in
      seg-only)      extra=(--set "objectives=[ce]") ;;
      landmark-only) extra=(--set "objectives=[heatmap-mse]") ;;
      sum)           extra=(--set "objectives=[heatmap-mse, ce]") ;;
      dwa)           extra=(--set "objectives=[heatmap-mse, ce]" --set "balancer={name: dwa, options: {temperature: 2}}") ;;
      bab)           extra=(--set "objectives=[heatmap-mse, ce, bab]") ;;
      bab-cosine)    extra=(--set "objectives=[heatmap-mse, ce, {name: bab, options: {form: cosine}}]") ;;
      bab-pseudo)
        # Only `sam` reads DATA/pseudoLabelsTr, so the other arms are unaffected by it.
        [ -d "$DATA/pseudoLabelsTr" ] || $C pseudo-label --dataset "$DATA" --output "$DATA/pseudoLabelsTr"
        extra=(--set "objectives=[heatmap-mse, ce, bab, sam]") ;;
      *) echo "unknown arm $arm" >&2; exit 2 ;;
    esac
    start=$(date +%s.%N)
    $C train --config configs/hpl.yaml --dataset "$DATA" --epochs "$EPOCHS" --seed "$seed" --output "$run" --overwrite \
      --set run.iterationsPerEpoch="$ITERS" --set run.validationInterval="$EPOCHS" \
      --set model.options.baseWidth="$WIDTH" --set model.options.blocks="$BLOCKS" "${extra[@]}" --quiet
    end=$(date +%s.%N)
    echo "{\"seconds\": $(python3 -c "print($end - $start)")}" > "$run/time.json"
    $C evaluate --checkpoint "$run" --dataset "$DATA" --split test --output "$run/eval" > /dev/null
  done
done
