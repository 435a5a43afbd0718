#!/usr/bin/env python3
"""PyTorch reference worker for `contour bench models` (runs on torch >= 2.11; the user-facing
variant is .venv-bench with torch 2.11, `make bench-venv`).

A long-lived process driven over stdin/stdout, one command per line, one JSON reply per line,
so that interpreter and model start-up are never timed. The model is the official ConDSeg
architecture as re-implemented (same classes and state-dict keys) in
scripts/fixtures/make_condseg_fixtures.py, the stage-2 loss the official one in
scripts/fixtures/make_condseg_loss_fixtures.py; both are imported, not copied. The model's
final sigmoids are replaced by identities so that it returns logits, as Contour's heads do;
inference applies the sigmoid to the four outputs afterwards (the same ops as the official
forward), training feeds the logits to the loss, which applies it (and its second sigmoid).

Start-up: --weights (Contour's safetensors, loaded strictly) and --inputs (x: the inference
images; train_x / train_y: the training batch and its binary target). Replies "ready" with
torch.__version__ and the thread count. Commands:
  infer B N      N eval-mode no-grad forwards of x[:B] (+ sigmoid of the four heads) → {"ms": total}
  infer B N graph  the same as a CUDA graph: recorded once per B (after 3 warm-up forwards on a side
                 stream, autocast's cache off, as torch.cuda.graphs' documentation says), N replays timed
  dump B PATH    the four logit heads of x[:B] (eval mode) → safetensors at PATH
  train          one stage-2 step: zero_grad, forward (train mode), condseg loss, loss.item(),
                 backward, Adam step → {"ms": ..., "loss": ..., "phases_ms": {...}}
  train PATH     the same under torch.profiler (CPU, and CUDA on a GPU), Chrome trace written to PATH
  quit
"""
import argparse
import importlib.util
import json
import os
import sys
import time

import torch
from safetensors.torch import load_file, save_file

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "scripts", "fixtures")
HEADS = ["segmentation", "foreground", "background", "uncertainty"]


def load_module(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(FIXTURES, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--weights", required=True)
    p.add_argument("--inputs", required=True)
    p.add_argument("--encoder", default="resnet50")
    p.add_argument("--threads", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--precision", default="fp32", choices=["fp32", "bf16"])
    p.add_argument("--lr", type=float, default=1e-4)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)

    models = load_module("make_condseg_fixtures")
    losses = load_module("make_condseg_loss_fixtures")
    torch.set_default_dtype(torch.float32)  # the loss fixture script sets float64 on import

    device = torch.device(a.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print(json.dumps({"error": "torch.cuda.is_available() is False in this Python"}), flush=True)
        return
    model = models.strip_sigmoids(models.ConDSeg(a.encoder))
    model.load_state_dict(load_file(a.weights), strict=True)
    model.to(device)
    data = {k: v.to(device) for k, v in load_file(a.inputs).items()}
    optimizer = torch.optim.Adam(model.parameters(), lr=a.lr)

    def sync():
        if device.type == "cuda":
            torch.cuda.synchronize()

    def autocast(cache=True):
        return torch.autocast(device.type, dtype=torch.bfloat16, enabled=a.precision == "bf16", cache_enabled=cache)

    def forward(x, cache=True):
        with autocast(cache):
            return [y.float() for y in model(x)]

    graphs = {}

    def graph(b):
        if b not in graphs:
            x = data["x"][:b].contiguous()
            model.eval()
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side), torch.no_grad():
                for _ in range(3):
                    [torch.sigmoid(y) for y in forward(x, cache=False)]
            torch.cuda.current_stream().wait_stream(side)
            g = torch.cuda.CUDAGraph()
            with torch.cuda.graph(g), torch.no_grad():
                ys = [torch.sigmoid(y) for y in forward(x, cache=False)]
            graphs[b] = (g, x, ys)
        return graphs[b][0]

    def reply(o):
        print(json.dumps(o), flush=True)

    def train_step():
        x, y = data["train_x"], data["train_y"]
        model.train()
        sync()
        t0 = time.perf_counter()
        optimizer.zero_grad()
        loss = losses.condseg(forward(x), y, parity=True)
        value = loss.item()
        t1 = time.perf_counter()
        loss.backward()
        sync()
        t2 = time.perf_counter()
        optimizer.step()
        sync()
        t3 = time.perf_counter()
        return {"ms": (t3 - t0) * 1e3, "loss": value,
                "phases_ms": {"forward_loss": (t1 - t0) * 1e3, "backward": (t2 - t1) * 1e3, "optimizer": (t3 - t2) * 1e3}}

    reply({"ready": True, "torch": torch.__version__, "threads": torch.get_num_threads(), "device": str(device),
           "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"})
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        command = words[0]
        if command == "quit":
            break
        if command == "infer" and words[3:] == ["graph"]:
            b, n = int(words[1]), int(words[2])
            g = graph(b)
            sync()
            t0 = time.perf_counter()
            for _ in range(n):
                g.replay()
            sync()
            reply({"ms": (time.perf_counter() - t0) * 1e3})
        elif command == "infer":
            b, n = int(words[1]), int(words[2])
            x = data["x"][:b].contiguous()
            model.eval()
            sync()
            t0 = time.perf_counter()
            with torch.no_grad():
                for _ in range(n):
                    ys = [torch.sigmoid(y) for y in forward(x)]
            sync()
            ms = (time.perf_counter() - t0) * 1e3
            del ys
            reply({"ms": ms})
        elif command == "dump":
            b, path = int(words[1]), words[2]
            model.eval()
            with torch.no_grad():
                ys = forward(data["x"][:b].contiguous())
            save_file({h: y.detach().cpu().contiguous() for h, y in zip(HEADS, ys)}, path)
            reply({"path": path})
        elif command == "train" and len(words) > 1:
            trace = line.strip()[len("train"):].strip()
            activities = [torch.profiler.ProfilerActivity.CPU]
            if device.type == "cuda":
                activities.append(torch.profiler.ProfilerActivity.CUDA)
            with torch.profiler.profile(activities=activities) as prof:
                result = train_step()
            prof.export_chrome_trace(trace)
            reply(result)
        elif command == "train":
            reply(train_step())
        else:
            reply({"error": f"unknown command {command!r}"})


if __name__ == "__main__":
    main()
