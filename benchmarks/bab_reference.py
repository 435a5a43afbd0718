#!/usr/bin/env python3
"""PyTorch reference for the BaBLoss row of `contour bench objectives`: the official BaB
function (lhaof/HPL train_3d.py, as re-implemented in scripts/fixtures/make_bab_fixtures.py),
forward + backward, CPU float32, on the segmentation/heatmap .npy files Contour wrote.

Interleaved with Contour: after loading, each line "run" on stdin times one forward + backward
and prints {"ms": …, "loss": …}; "quit" (or end of input) exits. Runs on torch ≥ 2.11.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts", "fixtures"))
import make_bab_fixtures as ref  # noqa: E402

torch.set_default_dtype(torch.float32)  # the generator works in float64; the official code in float32


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--segmentation", required=True)
    ap.add_argument("--heatmaps", required=True)
    ap.add_argument("--relations", required=True, help='JSON {"0": [1, 5], …}')
    ap.add_argument("--max-distance", type=int, default=10)
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args()
    if a.threads > 0:
        torch.set_num_threads(a.threads)
    seg = torch.from_numpy(np.load(a.segmentation))
    heat = torch.from_numpy(np.load(a.heatmaps))
    relations = {int(k): v for k, v in json.loads(a.relations).items()}
    print(json.dumps({"ready": True, "threads": torch.get_num_threads(), "torch": torch.__version__}), flush=True)
    for line in sys.stdin:
        if line.strip() != "run":
            break
        s = seg.clone().requires_grad_()
        h = heat.clone().requires_grad_()
        t0 = time.perf_counter()
        loss = ref.bab_loss(s, h, relations, a.max_distance)
        loss.backward()
        ms = (time.perf_counter() - t0) * 1000
        print(json.dumps({"ms": ms, "loss": float(loss.detach())}), flush=True)


if __name__ == "__main__":
    main()
