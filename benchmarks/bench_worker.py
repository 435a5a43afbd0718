#!/usr/bin/env python3
"""The reference side of every `contour bench …`: one long-lived worker, driven over a pipe.

Contour starts it once per bench (python benchmarks/bench_worker.py), with OMP_NUM_THREADS etc.
set to the bench's thread count, and sends one JSON request per line; each gets one JSON reply
per line. Interpreter start-up, imports and input loading happen in `prepare`, never inside a
timed call; `time` times only the reference call itself (time.perf_counter around it).

Requests:
  {"op": "hello"}                                  → {"ready": true, "python": …, "versions": {…}}
  {"op": "prepare", "id": K, "ref": R, "args": {…}} → {"ok": true, …}
        or {"missing": "<module>", "install": "make bench-venv"} when R's package is absent
  {"op": "time", "id": K}                          → {"ms": …, "result": <summary to check agreement>}
  {"op": "partition", "id": K, "labels": PATH}     → {"agree": bool}: do the labels in PATH (.npy)
        and K's last labels describe the same partition (equal up to renumbering)?
  {"op": "quit"}

References R (args): scipy.edt (input), seung.edt (input, threads), cc3d (input, connectivity),
monai.hd95 (prediction, truth, threads), scipy.betti (input), torch.tinyunet (batch, size,
threads), torch.unet (weights, inputs, spatial, options, classes, in_channels, lr, weight_decay,
threads: Contour's unet2d/unet3d from benchmarks/unet_reference.py, its weights and
x/y batch from safetensors, one DiceCE + AdamW step per call, result the loss), torch.bab
(segmentation, heatmaps, relations, threads). Runs on torch ≥ 2.11
(`make bench-venv`); scipy/numpy alone are enough for the scipy references.
"""
import json
import os
import platform
import sys
import time

import warnings

import numpy as np

warnings.filterwarnings("ignore", category=FutureWarning)  # MONAI's deprecation notices, once per call

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "scripts", "fixtures"))


class Missing(Exception):
    pass


def need(module):
    try:
        return __import__(module)
    except ImportError as e:
        raise Missing(module) from e


def torch_threads(threads):
    torch = need("torch")
    if threads:
        torch.set_num_threads(int(threads))
    return torch


def betti_scipy(ndi, mask):
    _, b0 = ndi.label(mask, ndi.generate_binary_structure(2, 2))
    bg, n = ndi.label(~mask)
    border = np.unique(np.concatenate([bg[0], bg[-1], bg[:, 0], bg[:, -1]]))
    return [int(b0), int(n - np.count_nonzero(border))]


def prepare(ref, a):
    """Returns (fn, summary): fn() runs the reference once (timed); summary(out) → JSON value."""
    if ref == "scipy.edt":
        need("scipy.ndimage")
        from scipy import ndimage as ndi
        x = np.load(a["input"]).astype(bool)
        return (lambda: ndi.distance_transform_edt(x)), lambda d: float(d.sum())
    if ref == "seung.edt":
        edt = need("edt")
        x = np.ascontiguousarray(np.load(a["input"]).astype(np.uint8))
        n = int(a.get("threads", 1))
        return (lambda: edt.edt(x, black_border=False, parallel=n)), lambda d: float(d.astype(np.float64).sum())
    if ref == "cc3d":
        cc3d = need("cc3d")
        x = np.load(a["input"]).astype(bool)
        c = int(a.get("connectivity", 26))
        return (lambda: cc3d.connected_components(x, connectivity=c, return_N=True)), lambda out: int(out[1])
    if ref == "monai.hd95":
        torch = torch_threads(a.get("threads"))
        need("monai")
        from monai.metrics import compute_hausdorff_distance
        p = torch.from_numpy(np.load(a["prediction"])[None, None].astype(np.float32))
        g = torch.from_numpy(np.load(a["truth"])[None, None].astype(np.float32))
        return (lambda: compute_hausdorff_distance(p, g, include_background=True, percentile=95).item()), float
    if ref == "scipy.betti":
        need("scipy.ndimage")
        from scipy import ndimage as ndi
        x = np.load(a["input"]).astype(bool)
        return (lambda: betti_scipy(ndi, x)), list
    if ref == "torch.tinyunet":
        torch = torch_threads(a.get("threads"))
        from engine_reference import TinyUNet
        torch.manual_seed(0)
        model = TinyUNet()
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        x = torch.randn(a["batch"], 1, a["size"], a["size"])
        y = torch.randint(0, 2, (a["batch"], a["size"], a["size"]))

        def step():
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            return loss.item()
        return step, float
    if ref == "torch.unet":
        torch = torch_threads(a.get("threads"))
        need("safetensors")
        from safetensors.torch import load_file
        from unet_reference import dice_ce, from_options
        model = from_options(int(a["spatial"]), int(a["in_channels"]), int(a["classes"]), a.get("options", {}))
        model.load_state_dict(load_file(a["weights"]), strict=True)
        model.train()
        data = load_file(a["inputs"])
        x, y = data["x"], data["y"]
        opt = torch.optim.AdamW(model.parameters(), lr=float(a["lr"]), weight_decay=float(a["weight_decay"]))

        def step():
            opt.zero_grad()
            loss = dice_ce(model(x), y)
            value = loss.item()
            loss.backward()
            opt.step()
            return value
        return step, float
    if ref == "torch.bab":
        torch = torch_threads(a.get("threads"))
        need("scipy")
        import make_bab_fixtures as bab
        torch.set_default_dtype(torch.float32)  # the generator works in float64; the official code in float32
        seg = torch.from_numpy(np.load(a["segmentation"]))
        heat = torch.from_numpy(np.load(a["heatmaps"]))
        relations = {int(k): v for k, v in a["relations"].items()}

        def step():
            s, h = seg.clone().requires_grad_(), heat.clone().requires_grad_()
            loss = bab.bab_loss(s, h, relations, int(a.get("max_distance", 10)))
            loss.backward()
            return float(loss.detach())
        return step, float
    raise ValueError(f"unknown reference {ref!r}")


def versions():
    from importlib import metadata
    v = {"python": platform.python_version(), "numpy": np.__version__}
    for m, dist in (("scipy", "scipy"), ("torch", "torch"), ("monai", "monai"), ("cc3d", "connected-components-3d"), ("edt", "edt")):
        try:
            v[m] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return v


def main():
    prepared, last = {}, {}

    def reply(o):
        sys.stdout.write(json.dumps(o) + "\n")
        sys.stdout.flush()

    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            req = json.loads(line)
            op = req.get("op")
            if op == "quit":
                break
            if op == "hello":
                reply({"ready": True, "versions": versions(), "cpus": os.cpu_count()})
            elif op == "prepare":
                try:
                    prepared[req["id"]] = prepare(req["ref"], req.get("args", {}))
                    reply({"ok": True})
                except Missing as m:
                    reply({"missing": str(m), "install": "make bench-venv (or --python PATH to a Python that has it)"})
            elif op == "time":
                fn, summary = prepared[req["id"]]
                t0 = time.perf_counter()
                out = fn()
                ms = (time.perf_counter() - t0) * 1e3
                last[req["id"]] = out
                reply({"ms": ms, "result": summary(out)})
            elif op == "partition":
                out = last[req["id"]]
                theirs = np.asarray(out[0] if isinstance(out, tuple) else out).astype(np.int64).ravel()
                ours = np.load(req["labels"]).astype(np.int64).ravel()
                ok = theirs.shape == ours.shape and bool(np.all((theirs == 0) == (ours == 0)))
                if ok:
                    pairs = np.unique(theirs * (int(ours.max()) + 1) + ours)
                    ok = len(np.unique(theirs)) == len(pairs) == len(np.unique(ours))
                reply({"agree": bool(ok)})
            else:
                reply({"error": f"unknown op {op!r}"})
        except Exception as e:  # a reply, not a crash: the bench reports it and times Contour alone
            reply({"error": f"{type(e).__name__}: {e}"})


if __name__ == "__main__":
    main()
