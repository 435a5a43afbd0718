#!/usr/bin/env python3
"""PyTorch reference for `contour bench engine`: the same TinyUNet training step.

Same network as Sources/ContourCLI/TinyUNet.swift (two 3x3 conv-BN-ReLU per level, max-pool down,
2x2 transposed-conv up, skip concatenation, 1x1 head), Adam, cross-entropy. Prints JSON.
"""
import argparse
import json
import statistics
import time

import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(),
                                  nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())

    def forward(self, x):
        return self.body(x)


class TinyUNet(nn.Module):
    def __init__(self, cin=1, classes=2, base=16, levels=3):
        super().__init__()
        w = [base << i for i in range(levels)]
        self.encoders = nn.ModuleList([Block(cin if i == 0 else w[i - 1], w[i]) for i in range(levels)])
        self.ups = nn.ModuleList([nn.ConvTranspose2d(w[i], w[i - 1], 2, stride=2) for i in reversed(range(1, levels))])
        self.decoders = nn.ModuleList([Block(2 * w[i - 1], w[i - 1]) for i in reversed(range(1, levels))])
        self.head = nn.Conv2d(w[0], classes, 1)

    def forward(self, x):
        skips = []
        for i, e in enumerate(self.encoders):
            if i > 0:
                x = nn.functional.max_pool2d(x, 2)
            x = e(x)
            skips.append(x)
        for i, (up, dec) in enumerate(zip(self.ups, self.decoders)):
            x = dec(torch.cat([up(x), skips[len(skips) - 2 - i]], 1))
        return self.head(x)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--threads", type=int, default=0)
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = TinyUNet()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(a.batch, 1, a.size, a.size)
    y = torch.randint(0, 2, (a.batch, a.size, a.size))
    times = []
    for i in range(a.steps + 3):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        loss.item()
        if i >= 3:
            times.append((time.perf_counter() - t0) * 1e3)
    print(json.dumps({"ms_per_step": statistics.median(times), "torch_version": torch.__version__,
                      "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
