#!/usr/bin/env python3
"""PyTorch model of `contour bench engine` (imported by bench_worker.py): the same TinyUNet.

Same network as Sources/ContourCLI/TinyUNet.swift (two 3x3 conv-BN-ReLU per level, max-pool down,
2x2 transposed-conv up, skip concatenation, 1x1 head); the worker trains it with Adam and cross-entropy.
"""
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
