#!/usr/bin/env bash
# HadBalance on the shapes demo (benchmarks/README.md): the primary loss alone vs the Hadwiger
# priors (area, perimeter, Euler characteristic) under linear scalarisation (sum) vs CAOB, CAOB
# with the primary anchored, and one-prior CAOB ablations; 3 seeds, the same budget for all.
# Each run: train, then `contour evaluate` on the 20 test cases; time.json holds the training
# wall time. Rerunning skips finished runs. Summarise with benchmarks/hadbalance_table.py.
set -euo pipefail
C=${CONTOUR:-.build/release/contour}
DATA=${DATA:-demo-data/shapes}
OUT=${OUT:-runs/hadbalance-exp}
EPOCHS=${EPOCHS:-20}; ITERS=${ITERS:-15}; PATCH=${PATCH:-64}
SEEDS=${SEEDS:-"0 1 2"}
ARMS=${ARMS:-"primary sum caob caob-anchor caob-area caob-perimeter caob-euler"}
[ -f "$DATA/dataset.json" ] || $C data demo --kind shapes --output "$DATA"
for seed in $SEEDS; do
  for arm in $ARMS; do
    run="$OUT/$arm-s$seed"
    [ -f "$run/eval/summary.json" ] && continue
    case $arm in
      primary)     cfg=configs/primary.yaml; extra=() ;;
      sum)         cfg=configs/hadbalance-sum.yaml; extra=() ;;
      caob)        cfg=configs/hadbalance.yaml; extra=() ;;
      caob-anchor) cfg=configs/hadbalance.yaml; extra=(--set balancer.options.anchorPrimary=true --set balancer.options.normalize=false) ;;
      caob-*)      cfg=configs/hadbalance.yaml; extra=(--set "objectives[0].options.priors=[${arm#caob-}]") ;;
      *) echo "unknown arm $arm" >&2; exit 2 ;;
    esac
    start=$(date +%s.%N)
    $C train --config "$cfg" --dataset "$DATA" --epochs "$EPOCHS" --seed "$seed" --output "$run" --overwrite \
      --set run.iterationsPerEpoch="$ITERS" --set run.validationInterval="$EPOCHS" --set "data.patchSize=[$PATCH, $PATCH]" \
      "${extra[@]}" --quiet
    end=$(date +%s.%N)
    echo "{\"seconds\": $(python3 -c "print($end - $start)")}" > "$run/time.json"
    $C evaluate --checkpoint "$run" --dataset "$DATA" --split test --output "$run/eval" > /dev/null
  done
done
