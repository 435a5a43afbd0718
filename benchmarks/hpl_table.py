#!/usr/bin/env python3
"""Markdown table of benchmarks/hpl.sh runs: per arm, mean over seeds of the test-set means —
Dice and HD95 per organ, landmark MRE (mm) and SDR — and the training wall time.
Usage: python3 benchmarks/hpl_table.py runs/hpl-exp"""
import csv, json, math, os, re, sys
from collections import defaultdict

ORDER = ["seg-only", "landmark-only", "sum", "dwa", "bab", "bab-cosine", "bab-pseudo"]

def mean(xs):
    xs = [x for x in xs if not math.isnan(x)]
    return sum(xs) / len(xs) if xs else float("nan")

def num(v):
    try: return float(v)
    except (TypeError, ValueError): return float("nan")

def fmt(x, d):
    return "–" if math.isnan(x) else ("∞" if math.isinf(x) else f"{x:.{d}f}")

root = sys.argv[1]
runs = defaultdict(lambda: defaultdict(list))
labels, radii = set(), []
for name in sorted(os.listdir(root)):
    m = re.fullmatch(r"(.+)-s(\d+)", name)
    ev = os.path.join(root, name, "eval")
    if not m or not os.path.exists(os.path.join(ev, "summary.json")): continue
    arm = m.group(1)
    rows = list(csv.DictReader(open(os.path.join(ev, "metrics.csv"))))
    for lab in sorted({r["label"] for r in rows}):
        labels.add(lab)
        sel = [r for r in rows if r["label"] == lab]
        runs[arm][f"dice{lab}"].append(mean([num(r["dice"]) for r in sel]))
        runs[arm][f"hd95{lab}"].append(mean([num(r["hd95"]) for r in sel]))
    lj = os.path.join(ev, "landmarks.json")
    if os.path.exists(lj):
        s = json.load(open(lj))
        radii = s["radii"]
        runs[arm]["mre"].append(num(s["mre"]))
        for k, v in s["sdr"].items(): runs[arm][k].append(num(v))
    runs[arm]["seconds"].append(json.load(open(os.path.join(root, name, "time.json")))["seconds"])
labels = sorted(labels, key=int)
sdr = [f"sdr_{r:g}" for r in radii]
head = [f"Dice {l} ↑" for l in labels] + [f"HD95 {l} ↓" for l in labels] + ["MRE (mm) ↓"] + [f"SDR@{r:g} mm (%) ↑" for r in radii] + ["time (s)"]
print("| arm | seeds | " + " | ".join(head) + " |")
print("|---|---|" + "---|" * len(head))
for arm in [a for a in ORDER if a in runs] + sorted(a for a in runs if a not in ORDER):
    r = runs[arm]
    cells = [fmt(mean(r[f"dice{l}"]), 3) for l in labels] + [fmt(mean(r[f"hd95{l}"]), 2) for l in labels]
    cells += [fmt(mean(r["mre"]), 2)] + [fmt(mean(r[k]), 1) for k in sdr] + [fmt(mean(r["seconds"]), 0)]
    print(f"| {arm} | {len(r['seconds'])} | " + " | ".join(cells) + " |")
