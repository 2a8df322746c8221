#!/usr/bin/python3
"""A Markdown results table from an `sflsim sweep` directory's sweep.csv.

    scripts/table.py results/fmnist-100-table > table.md

One row per cell: its axis values, final and best test accuracy, rounds and
virtual time to the sweep's target accuracy ("not reached" when it was not),
total traffic (MB, 10^6 bytes, up + down) and the clients' energy (kJ), plus
each ratio to the first row (the reference, e.g. SuperSFL) where that helps.
"""
import argparse
import csv
import os
import sys

FIXED = {"cell", "final_accuracy", "best_accuracy", "rounds", "virtual_time_s", "target_accuracy", "rounds_to_target",
         "virtual_time_to_target_s", "bytes_up", "bytes_down", "bytes_activations", "bytes_gradients",
         "bytes_weights", "energy_j"}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sweep_dir")
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
    target = rows[0]["target_accuracy"]
    reference = rows[0]
    ref_traffic = int(reference["bytes_up"]) + int(reference["bytes_down"])
    ref_energy = float(reference["energy_j"])
    header = axes + ["final acc", "best acc", f"rounds to {target}", f"time to {target} (min)",
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
            f"{traffic / 1e6:,.1f}", f"{traffic / ref_traffic:.2f}",
            f"{energy / 1e3:,.2f}", f"{energy / ref_energy:.2f}"]
        print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
