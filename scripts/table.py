#!/usr/bin/python3
"""A Markdown results table from an `sflsim sweep` directory's sweep.csv.

    scripts/table.py results/fmnist-100-table > table.md

One row per cell: its axis values, final and best test accuracy, rounds and
virtual time to the sweep's target accuracy ("not reached" when it was not),
the same to the sustained target (the first round from which accuracy never
falls below the target again; "not sustained" when it falls at the end),
total traffic (MB, 10^6 bytes, up + down) and the clients' energy (kJ), plus
each ratio to the first row (the reference, e.g. SuperSFL) where that helps.

    scripts/table.py --spread seed results/fmnist-hetero/seeds > spread.md

With --spread AXIS, cells that differ only in AXIS (e.g. the seed) make one
row: each figure as mean ± half the range (max − min) / 2 over them, and how
many of them reached the target (rounds and time to target are averaged over
those that did).
"""
import argparse
import csv
import os
import sys

FIXED = {"cell", "final_accuracy", "best_accuracy", "rounds", "virtual_time_s", "target_accuracy", "rounds_to_target",
         "virtual_time_to_target_s", "rounds_to_sustained_target", "virtual_time_to_sustained_target_s", "bytes_up", "bytes_down", "bytes_activations", "bytes_gradients",
         "bytes_weights", "energy_j"}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sweep_dir")
    parser.add_argument("--spread", metavar="AXIS", help="one row per group of cells that differ only in AXIS")
    args = parser.parse_args()
    path = os.path.join(args.sweep_dir, "sweep.csv")
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except OSError as e:
        sys.exit(f"table.py: {path}: {e.strerror}")
    if not rows:
        sys.exit(f"table.py: {path}: no finished cells yet")
    axes = [k for k in rows[0] if k not in FIXED]
    if args.spread:
        spread_table(rows, axes, args.spread, path)
        return
    target = rows[0]["target_accuracy"]
    reference = rows[0]
    ref_traffic = int(reference["bytes_up"]) + int(reference["bytes_down"])
    ref_energy = float(reference["energy_j"])
    header = axes + ["final acc", "best acc", f"rounds to {target}", f"time to {target} (min)",
                     f"rounds to {target} sustained", f"time to {target} sustained (min)",
                     "traffic (MB)", "traffic ÷ first", "energy (kJ)", "energy ÷ first"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for r in rows:
        traffic = int(r["bytes_up"]) + int(r["bytes_down"])
        energy = float(r["energy_j"])
        reached = r["rounds_to_target"] not in ("", None)
        cells = [r[a] for a in axes] + [
            f'{float(r["final_accuracy"]):.4f}', f'{float(r["best_accuracy"]):.4f}',
            r["rounds_to_target"] if reached else f'not reached in {r["rounds"]}',
            f'{float(r["virtual_time_to_target_s"]) / 60:.1f}' if reached else "—",
            r["rounds_to_sustained_target"] if sustained(r) else "not sustained",
            f'{float(r["virtual_time_to_sustained_target_s"]) / 60:.1f}' if sustained(r) else "—",
            f"{traffic / 1e6:,.1f}", f"{traffic / ref_traffic:.2f}",
            f"{energy / 1e3:,.2f}", f"{energy / ref_energy:.2f}"]
        print("| " + " | ".join(cells) + " |")


def sustained(row):
    """Whether the cell stayed at or above the target from some round to the end (older sweeps lack the column)."""
    return row.get("rounds_to_sustained_target") not in ("", None)


def mean_spread(values, digits):
    if not values:
        return "—"
    mean = sum(values) / len(values)
    return f"{mean:,.{digits}f} ± {(max(values) - min(values)) / 2:,.{digits}f}"


def spread_table(rows, axes, spread, path):
    if spread not in axes:
        sys.exit(f"table.py: {path}: no axis '{spread}' (axes: {', '.join(axes)})")
    keys = [a for a in axes if a != spread]
    groups = {}
    for r in rows:
        groups.setdefault(tuple(r[k] for k in keys), []).append(r)
    target = rows[0]["target_accuracy"]
    header = keys + [spread, "final acc", "best acc", f"reached {target}", f"rounds to {target}",
                     f"time to {target} (min)", f"sustained {target}", f"rounds to {target} sustained",
                     f"time to {target} sustained (min)", "traffic (MB)", "energy (kJ)"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for key, group in groups.items():
        reached = [r for r in group if r["rounds_to_target"] not in ("", None)]
        kept = [r for r in group if sustained(r)]
        cells = list(key) + [
            " ".join(r[spread] for r in group),
            mean_spread([float(r["final_accuracy"]) for r in group], 4),
            mean_spread([float(r["best_accuracy"]) for r in group], 4),
            f"{len(reached)} of {len(group)}",
            mean_spread([float(r["rounds_to_target"]) for r in reached], 1),
            mean_spread([float(r["virtual_time_to_target_s"]) / 60 for r in reached], 1),
            f"{len(kept)} of {len(group)}",
            mean_spread([float(r["rounds_to_sustained_target"]) for r in kept], 1),
            mean_spread([float(r["virtual_time_to_sustained_target_s"]) / 60 for r in kept], 1),
            mean_spread([(int(r["bytes_up"]) + int(r["bytes_down"])) / 1e6 for r in group], 1),
            mean_spread([float(r["energy_j"]) / 1e3 for r in group], 2)]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
