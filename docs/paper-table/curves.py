#!/usr/bin/env python3
"""Validation curves of a grid's runs, from their events.jsonl, as Markdown: one row per
(student, lambda), one column per epoch, the mean over seeds of validation accuracy (and of the
in-window attention mass where the student has one). The evidence behind docs/paper-table's
reading of where KD helps and where it does not.

    curves.py RUN_FOLDER [RUN_FOLDER ...] > curves.md
"""
import json
import re
import sys
from collections import defaultdict

STAGE = re.compile(r"student (\S+) lambda=(\S+) L=(\S+) seed=(\d+)")


def read(folders):
    # (student, lambda, L) -> seed -> epoch -> metrics
    curves = defaultdict(lambda: defaultdict(dict))
    for folder in folders:
        with open(f"{folder}/events.jsonl") as f:
            for line in f:
                e = json.loads(line)
                if e.get("type") != "epoch":
                    continue
                m = STAGE.match(e.get("stage", ""))
                if m:
                    key = (m[1], float(m[2]), float(m[3]))
                    curves[key][int(m[4])][e["epoch"]] = e.get("metrics", {})
    return curves


def mean(values):
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def table(curves, metric, title, scale=100.0, digits=1):
    epochs = max((max(s) for c in curves.values() for s in c.values()), default=0)
    print(f"\n### {title}\n")
    print("| student | lambda | L | seeds | " + " | ".join(str(e) for e in range(1, epochs + 1)) + " |")
    print("|---|---|---|---|" + "---|" * epochs)
    for (student, lam, L), seeds in sorted(curves.items()):
        cells = []
        for e in range(1, epochs + 1):
            v = mean([s[e].get(metric) for s in seeds.values() if e in s])
            cells.append("" if v is None else f"{scale * v:.{digits}f}")
        if any(cells):
            print(f"| {student} | {lam:g} | {L:g} s | {len(seeds)} | " + " | ".join(cells) + " |")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    curves = read(sys.argv[1:])
    table(curves, "val_accuracy", "Validation accuracy (%) by epoch, mean over seeds")
    table(curves, "val_localisation_branch",
          "Branch attention mass inside the keyword window by epoch (validation, mean over seeds)",
          scale=1.0, digits=3)
    table(curves, "val_localisation_native",
          "Native attention mass inside the keyword window by epoch (validation, mean over seeds)",
          scale=1.0, digits=3)


if __name__ == "__main__":
    main()
