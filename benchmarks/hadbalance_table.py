#!/usr/bin/env python3
"""Markdown table of benchmarks/hadbalance.sh runs: per arm, mean ± sd over seeds of the test-set
means (Dice, BFScore, HD95, β0 error, roundness error) and of the training wall time.
Usage: python3 benchmarks/hadbalance_table.py runs/hadbalance-exp"""
import csv, json, math, os, re, sys
from collections import defaultdict

COLS = [("dice", "Dice ↑"), ("bfscore", "BFScore ↑"), ("hd95", "HD95 ↓"), ("betti0_error", "β0 error ↓"),
        ("roundness_error", "roundness error ↓")]
ORDER = ["primary", "sum", "caob", "caob-anchor", "caob-area", "caob-perimeter", "caob-euler"]

def mean(xs):
    xs = [x for x in xs if not math.isnan(x)]
    return sum(xs) / len(xs) if xs else float("nan")

def sd(xs):
    xs = [x for x in xs if not math.isnan(x)]
    if len(xs) < 2: return float("nan")
    m = mean(xs)
    return math.sqrt(sum((x - m) ** 2 for x in xs) / (len(xs) - 1))

def cell(xs, digits):
    s = sd(xs)
    return f"{mean(xs):.{digits}f}" + ("" if math.isnan(s) else f" ± {s:.{digits}f}")

root = sys.argv[1]
runs = defaultdict(lambda: defaultdict(list))
for name in sorted(os.listdir(root)):
    m = re.fullmatch(r"(.+)-s(\d+)", name)
    path = os.path.join(root, name, "eval", "metrics.csv")
    if not m or not os.path.exists(path): continue
    arm = m.group(1)
    rows = [r for r in csv.DictReader(open(path)) if r["label"] == "1"]
    for col, _ in COLS:
        vals = [float(r[col]) if r.get(col) not in (None, "", "nan") else float("nan") for r in rows]
        runs[arm][col].append(mean(vals))
    runs[arm]["seconds"].append(json.load(open(os.path.join(root, name, "time.json")))["seconds"])
arms = [a for a in ORDER if a in runs] + sorted(a for a in runs if a not in ORDER)
base = mean(runs["primary"]["seconds"]) if "primary" in runs else float("nan")
print("| arm | seeds | " + " | ".join(h for _, h in COLS) + " | training time (s) | × primary |")
print("|---|---|" + "---|" * (len(COLS) + 2))
for a in arms:
    r = runs[a]
    print(f"| {a} | {len(r['seconds'])} | " + " | ".join(cell(r[c], 3 if c in ('dice', 'bfscore', 'roundness_error') else 2) for c, _ in COLS)
          + f" | {cell(r['seconds'], 0)} | {mean(r['seconds']) / base:.2f} |")
