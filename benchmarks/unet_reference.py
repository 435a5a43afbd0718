#!/usr/bin/env python3
"""PyTorch side of `contour bench engine`'s unet2d/unet3d rows (imported by bench_worker.py and by
scripts/fixtures/make_bench_unet_fixtures.py); runs on torch >= 2.11.

`UNet` is Contour's `unet2d`/`unet3d` (Sources/Models/UNet.swift, nnU-Net's PlainConvUNet form)
written as a PyTorch user would: stages of `convs` x (conv 3 - InstanceNorm(affine) - LeakyReLU
0.01, in place as nnU-Net), the first conv of a stage strided 2 (none in stage 0), bias-free
transposed-conv upsampling, skip concatenation, a 1x1 head per decoder stage (only the last is
used without deep supervision). Attribute names follow Contour's, so state_dict() keys and shapes
are Contour's and its safetensors load strictly. `dice_ce` is Contour's `cedice` objective with
its defaults (MONAI DiceCELoss: softmax, one-hot labels, background included, smooth 1e-5, mean
Dice over (batch, class) plus mean cross-entropy).
"""
import torch
from torch import nn


def widths(spatial, stages, base, max_width=None):
    cap = max_width or (512 if spatial == 2 else 320)
    return [min(base << i, cap) for i in range(stages)]


class ConvStage(nn.Module):
    def __init__(self, spatial, cin, cout, convs, stride, norm="instance"):
        super().__init__()
        conv = nn.Conv2d if spatial == 2 else nn.Conv3d
        layers = []
        for i in range(convs):
            layers += [conv(cin if i == 0 else cout, cout, 3, stride=stride if i == 0 else 1, padding=1),
                       make_norm(norm, spatial, cout), nn.LeakyReLU(0.01, inplace=True)]
        self.convs = nn.Sequential(*layers)

    def forward(self, x):
        return self.convs(x)


def make_norm(kind, spatial, channels):
    if kind == "instance":
        return (nn.InstanceNorm2d if spatial == 2 else nn.InstanceNorm3d)(channels, affine=True)
    if kind == "batch":
        return (nn.BatchNorm2d if spatial == 2 else nn.BatchNorm3d)(channels)
    raise ValueError(f"norm {kind!r}: the reference has instance and batch")


class UNet(nn.Module):
    def __init__(self, spatial, in_channels, classes, stages=5, base=32, max_width=None, convs=2, norm="instance"):
        super().__init__()
        w = widths(spatial, stages, base, max_width)
        up = nn.ConvTranspose2d if spatial == 2 else nn.ConvTranspose3d
        head = nn.Conv2d if spatial == 2 else nn.Conv3d
        self.encoder = nn.ModuleList([ConvStage(spatial, in_channels if i == 0 else w[i - 1], w[i], convs, 1 if i == 0 else 2, norm)
                                      for i in range(stages)])
        levels = list(reversed(range(1, stages)))
        self.ups = nn.ModuleList([up(w[i], w[i - 1], 2, stride=2, bias=False) for i in levels])
        self.decoder = nn.ModuleList([ConvStage(spatial, 2 * w[i - 1], w[i - 1], convs, 1, norm) for i in levels])
        self.heads = nn.ModuleList([head(w[i - 1], classes, 1) for i in levels])

    def forward(self, x):
        skips = []
        for stage in self.encoder:
            x = stage(x)
            skips.append(x)
        y = skips[-1]
        for i, (up, dec) in enumerate(zip(self.ups, self.decoder)):
            y = dec(torch.cat([up(y), skips[-2 - i]], 1))
        return self.heads[-1](y)


def from_options(spatial, in_channels, classes, options):
    """The UNet Contour's registry builds for `unet2d`/`unet3d` with these options (defaults as Contour's)."""
    o = dict(options)
    known = {"stages", "baseWidth", "maxWidth", "norm", "convsPerStage", "deepSupervision"}
    if set(o) - known:
        raise ValueError(f"the reference UNet has no option(s) {sorted(set(o) - known)}; it knows {sorted(known)}")
    return UNet(spatial, in_channels, classes, stages=int(o.get("stages", 5)), base=int(o.get("baseWidth", 32)),
                max_width=int(o["maxWidth"]) if "maxWidth" in o else None, convs=int(o.get("convsPerStage", 2)),
                norm=o.get("norm", "instance"))


def dice_ce(logits, labels):
    """logits (B, C, spatial...), labels (B, 1, spatial...) int64: Contour's `cedice` with its defaults."""
    p = torch.softmax(logits, 1)
    g = torch.zeros_like(p).scatter_(1, labels, 1.0)
    axes = list(range(2, logits.dim()))
    tp = (p * g).sum(axes)
    dice = 1.0 - (2.0 * tp + 1e-5) / (p.sum(axes) + g.sum(axes) + 1e-5)
    return dice.mean() + nn.functional.cross_entropy(logits, labels.squeeze(1))
