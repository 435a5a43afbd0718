#!/usr/bin/env python3
"""Reference timings for `contour bench geometry`.

Writes the benchmark inputs (.npy masks) into --out, times the Python reference of each
operation on them, and writes --out/reference.json with the timings (best of --repeats) and
the results, which `contour bench geometry` uses to check that both sides agree.

    python benchmarks/geometry_reference.py --out /tmp/bench [--repeats 3] [--quick]

References: scipy.ndimage.distance_transform_edt (EDT), cc3d.connected_components (labelling),
MONAI compute_hausdorff_distance on CPU (HD95), scipy.ndimage.label counting (Betti numbers).
"""
import argparse
import json
import os
import platform
import time

import numpy as np
from scipy import ndimage as ndi


def blobs(rng, shape, sigma, threshold=0.5):
    return ndi.gaussian_filter(rng.random(shape, dtype=np.float32), sigma) > threshold


def best(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def betti_scipy(mask):
    _, b0 = ndi.label(mask, ndi.generate_binary_structure(2, 2))
    bg, n = ndi.label(~mask)
    border = np.unique(np.concatenate([bg[0], bg[-1], bg[:, 0], bg[:, -1]]))
    return int(b0), int(n - np.count_nonzero(border))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke test")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    q = args.quick
    rng = np.random.default_rng(7)
    sizes = {
        "edt2d": (256, 256) if q else (1024, 1024),
        "edt3d": (48, 48, 48) if q else (256, 256, 256),
        "cc3d": (48, 48, 48) if q else (256, 256, 256),
        "hd95_2d": (128, 128) if q else (512, 512),
        "hd95_3d": (40, 40, 40) if q else (160, 160, 160),
        "betti2d": (256, 256) if q else (1024, 1024),
    }
    inputs = {}
    inputs["edt2d"] = blobs(rng, sizes["edt2d"], 6)
    inputs["edt3d"] = blobs(rng, sizes["edt3d"], 3)
    inputs["cc3d"] = blobs(rng, sizes["cc3d"], 1.5)
    inputs["hd95_2d_pred"] = blobs(rng, sizes["hd95_2d"], 8)
    inputs["hd95_2d_truth"] = blobs(rng, sizes["hd95_2d"], 8)
    inputs["hd95_3d_pred"] = blobs(rng, sizes["hd95_3d"], 4)
    inputs["hd95_3d_truth"] = blobs(rng, sizes["hd95_3d"], 4)
    inputs["betti2d"] = blobs(rng, sizes["betti2d"], 2)
    for name, m in inputs.items():
        np.save(os.path.join(args.out, name + ".npy"), m.astype(np.uint8))

    timings, results, versions = {}, {}, {"python": platform.python_version(), "numpy": np.__version__}
    import scipy
    versions["scipy"] = scipy.__version__

    t, d = best(lambda: ndi.distance_transform_edt(inputs["edt2d"]), args.repeats)
    timings["edt2d"], results["edt2d"] = t, float(d.sum())
    t, d = best(lambda: ndi.distance_transform_edt(inputs["edt3d"]), args.repeats)
    timings["edt3d"], results["edt3d"] = t, float(d.sum())
    try:
        import cc3d
        versions["cc3d"] = getattr(cc3d, "__version__", "?")
        t, (lab, n) = best(lambda: cc3d.connected_components(inputs["cc3d"], connectivity=26, return_N=True), args.repeats)
        timings["cc3d"], results["cc3d"] = t, int(n)
    except ImportError:
        print("cc3d not installed: skipping the labelling reference")
    try:
        import torch
        from monai.metrics import compute_hausdorff_distance
        import monai
        versions["monai"], versions["torch"] = monai.__version__, torch.__version__
        torch.set_num_threads(os.cpu_count() or 1)
        for key in ("hd95_2d", "hd95_3d"):
            p = torch.from_numpy(inputs[key + "_pred"][None, None].astype(np.float32))
            g = torch.from_numpy(inputs[key + "_truth"][None, None].astype(np.float32))
            fn = lambda: compute_hausdorff_distance(p, g, include_background=True, percentile=95).item()
            t, v = best(fn, args.repeats)
            timings[key], results[key] = t, float(v)
    except ImportError:
        print("torch/monai not installed: skipping the HD95 reference")
    t, b = best(lambda: betti_scipy(inputs["betti2d"]), args.repeats)
    timings["betti2d"], results["betti2d"] = t, list(b)

    with open(os.path.join(args.out, "reference.json"), "w") as f:
        json.dump({"timings": timings, "results": results, "sizes": sizes, "versions": versions,
                   "cpus": os.cpu_count()}, f, indent=1)
    for k, v in timings.items():
        print(f"{k:10s} {v * 1000:10.1f} ms")


if __name__ == "__main__":
    main()
