#!/usr/bin/env python3
"""Partially labelled training must not turn unannotated organs into background.

Builds three variants of the organ-landmarks demo data with the same 40 training images:
  full        every training case has its label map;
  half        half the label maps are removed and dataset.json "tasks" says so (Contour skips them);
  background  the same half replaced by all-zero maps marked as annotated — what training did before
              Contour knew about availability (missing maps filled with background).
Trains the same configuration on each and scores the 10 test cases with `contour evaluate`.

Usage: python3 benchmarks/partial_labels.py [--contour .build/release/contour] [--work /tmp/partial] [--epochs 12]
"""
import argparse, json, os, shutil, struct, subprocess, zlib

def write_gray_png(path, width, height):
    """An all-zero 8-bit grayscale PNG (no third-party packages)."""
    raw = b"".join(b"\x00" + bytes(width) for _ in range(height))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--contour", default=".build/release/contour")
    ap.add_argument("--work", default="/tmp/contour-partial-labels")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    contour = os.path.abspath(a.contour)
    shutil.rmtree(a.work, ignore_errors=True)
    os.makedirs(a.work)
    source = f"{a.work}/source"
    subprocess.run([contour, "data", "demo", "--kind", "organ-landmarks", "--output", source, "--count", "90", "--test-count", "10"], check=True)
    meta = json.load(open(f"{source}/dataset.json"))
    labelled = sorted(f[:-4] for f in os.listdir(f"{source}/labelsTr"))[:40]
    dropped = set(labelled[1::2])
    results = {}
    for variant in ["full", "half", "background"]:
        root = f"{a.work}/{variant}"
        for sub in ["imagesTr", "labelsTr", "imagesTs", "labelsTs"]:
            os.makedirs(f"{root}/{sub}")
        for case in labelled:
            shutil.copy(f"{source}/imagesTr/{case}_0000.png", f"{root}/imagesTr/")
            if variant == "full" or case not in dropped:
                shutil.copy(f"{source}/labelsTr/{case}.png", f"{root}/labelsTr/")
            elif variant == "background":
                write_gray_png(f"{root}/labelsTr/{case}.png", 128, 128)
        for f in os.listdir(f"{source}/imagesTs"):
            shutil.copy(f"{source}/imagesTs/{f}", f"{root}/imagesTs/")
        for f in os.listdir(f"{source}/labelsTs"):
            shutil.copy(f"{source}/labelsTs/{f}", f"{root}/labelsTs/")
        d = {k: meta[k] for k in ["channel_names", "labels", "file_ending"]}
        d["numTraining"] = len(labelled)
        if variant == "half":
            d["tasks"] = {c: {"labels": [], "landmarks": []} for c in sorted(dropped)}
        json.dump(d, open(f"{root}/dataset.json", "w"), indent=1)
        run = f"{a.work}/run-{variant}"
        subprocess.run([contour, "train", "--dataset", root, "--model", "unet2d", "--loss", "cedice", "--epochs", str(a.epochs),
                        "--iterations", "25", "--batch-size", "4", "--patch-size", "128,128", "--lr", "0.003", "--seed", str(a.seed),
                        "--set", "optimizer.name=adamw", "--set", "model.options={stages: 4, baseWidth: 16}",
                        "--set", "run.validationInterval=100", "--output", run, "--quiet"], check=True)
        out = f"{a.work}/eval-{variant}"
        subprocess.run([contour, "evaluate", "--checkpoint", f"{run}/checkpoints/latest", "--dataset", root, "--split", "test",
                        "--output", out, "--no-topology"], check=True, stdout=subprocess.DEVNULL)
        cases = json.load(open(f"{out}/summary.json"))["cases"]
        dice = [c["dice"] for c in cases if c["dice"] is not None]
        mean = sum(dice) / len(dice)
        std = (sum((d - mean) ** 2 for d in dice) / (len(dice) - 1)) ** 0.5
        results[variant] = (mean, std, min(dice))
        print(f"{variant}: organ Dice {mean:.4f} ± {std:.4f} (min {min(dice):.4f})", flush=True)
    print("\nvariant      organ Dice on the 10 test cases: mean ± std (min)")
    for v, (mean, std, lo) in results.items():
        print(f"{v:12s} {mean:.4f} ± {std:.4f} ({lo:.4f})")

if __name__ == "__main__":
    main()
