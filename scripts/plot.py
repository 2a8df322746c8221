#!/usr/bin/python3
"""PNG plots of an `sflsim run` or `sflsim sweep` output directory.

    scripts/plot.py results/quickstart        # a run: DIR/plots/*.png
    scripts/plot.py sweep-out [--x clients.count --series algorithm.name]

A run directory (metrics.csv) gives: accuracy vs round, accuracy vs virtual
time, cumulative traffic by kind, cumulative energy. A sweep directory
(sweep.csv) gives: time to the target accuracy and total traffic against the
--x axis, one line per --series value, one panel per value of the other axes,
and every cell's accuracy curve. Needs python3-matplotlib (Debian package).
"""
import argparse
import csv
import itertools
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TRAFFIC_KINDS = [("bytes_activations", "activations"), ("bytes_gradients", "gradients"), ("bytes_weights", "weights")]


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def number(text):
    return float(text) if text not in ("", None) else None


def cumulative(values):
    return list(itertools.accumulate(values))


def evaluated(rows, x_key):
    return [(float(r[x_key]), float(r["test_accuracy"])) for r in rows if r["test_accuracy"] != ""]


def save(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(path)


def plot_run(run_dir, out_dir, title):
    rows = read_csv(os.path.join(run_dir, "metrics.csv"))
    if not rows:
        sys.exit(f"{run_dir}/metrics.csv: no rounds yet")
    rounds = [int(r["round"]) for r in rows]
    hours = [float(r["virtual_time_s"]) / 3600 for r in rows]

    fig, ax = plt.subplots(figsize=(6, 4))
    points = evaluated(rows, "round")
    ax.plot([p[0] for p in points], [p[1] for p in points], marker=".")
    ax.set(xlabel="round", ylabel="test accuracy", title=f"{title}: accuracy by round", ylim=(0, 1))
    ax.grid(alpha=0.3)
    save(fig, os.path.join(out_dir, "accuracy_vs_round.png"))

    fig, ax = plt.subplots(figsize=(6, 4))
    points = evaluated(rows, "virtual_time_s")
    ax.plot([p[0] / 3600 for p in points], [p[1] for p in points], marker=".")
    ax.set(xlabel="virtual time (h)", ylabel="test accuracy", title=f"{title}: accuracy by virtual time", ylim=(0, 1))
    ax.grid(alpha=0.3)
    save(fig, os.path.join(out_dir, "accuracy_vs_time.png"))

    fig, ax = plt.subplots(figsize=(6, 4))
    stacks = [[v / 1e9 for v in cumulative(int(r[key]) for r in rows)] for key, _ in TRAFFIC_KINDS]
    ax.stackplot(rounds, *stacks, labels=[label for _, label in TRAFFIC_KINDS], alpha=0.8)
    ax.set(xlabel="round", ylabel="cumulative traffic (GB)", title=f"{title}: traffic by kind")
    ax.legend(loc="upper left")
    ax.grid(alpha=0.3)
    save(fig, os.path.join(out_dir, "traffic.png"))

    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(hours, [v / 1e3 for v in cumulative(float(r["energy_j"]) for r in rows)], marker=".")
    ax.set(xlabel="virtual time (h)", ylabel="cumulative client energy (kJ)", title=f"{title}: energy")
    ax.grid(alpha=0.3)
    save(fig, os.path.join(out_dir, "energy.png"))


def plot_sweep(sweep_dir, out_dir, x_axis, series_axis):
    rows = read_csv(os.path.join(sweep_dir, "sweep.csv"))
    if not rows:
        sys.exit(f"{sweep_dir}/sweep.csv: no finished cells yet")
    first_metric = list(rows[0].keys()).index("final_accuracy")
    axes = list(rows[0].keys())[1:first_metric]
    x_axis = x_axis or ("clients.count" if "clients.count" in axes else axes[0])
    if x_axis not in axes:
        sys.exit(f"--x {x_axis}: not an axis of this sweep ({', '.join(axes)})")
    if series_axis is None:
        series_axis = "algorithm.name" if "algorithm.name" in axes and x_axis != "algorithm.name" else None
    if series_axis is not None and series_axis not in axes:
        sys.exit(f"--series {series_axis}: not an axis of this sweep ({', '.join(axes)})")
    panel_axes = [a for a in axes if a not in (x_axis, series_axis)]
    panels = sorted({tuple(r[a] for a in panel_axes) for r in rows}, key=str)

    def by_x(value):
        try:
            return float(value)
        except ValueError:
            return value

    for metric, label, scale, name in [
        ("virtual_time_to_target_s", "virtual time to target accuracy (min)", 1 / 60, "time_to_target"),
        ("bytes_up", "total traffic, up + down (GB)", 1e-9, "traffic"),
        ("final_accuracy", "final test accuracy", 1, "final_accuracy"),
        ("energy_j", "total client energy (kJ)", 1e-3, "energy"),
    ]:
        fig, plots = plt.subplots(1, len(panels), figsize=(4.5 * len(panels), 3.8), squeeze=False)
        for ax, panel in zip(plots[0], panels):
            cells = [r for r in rows if tuple(r[a] for a in panel_axes) == panel]
            if series_axis is None and not all(isinstance(by_x(r[x_axis]), float) for r in cells):
                # Categories (e.g. algorithms): bars in the sweep's order; no bar = target not reached.
                values = [number(r[metric]) for r in cells]
                if metric == "bytes_up":
                    values = [v + number(r["bytes_down"]) for v, r in zip(values, cells)]
                names = [r[x_axis] for r in cells]
                ax.bar(names, [v * scale if v is not None else 0 for v in values], color="tab:blue")
                for i, v in enumerate(values):
                    if v is None:
                        ax.text(i, 0, "not\nreached", ha="center", va="bottom", fontsize=7)
                ax.set(xlabel=x_axis, ylabel=label,
                       title=", ".join(f"{a}={v}" for a, v in zip(panel_axes, panel)) or None)
                ax.tick_params(axis="x", labelrotation=45, labelsize=8)
                ax.grid(alpha=0.3, axis="y")
                continue
            groups = sorted({r[series_axis] for r in cells}) if series_axis else [None]
            for group in groups:
                line = sorted((r for r in cells if series_axis is None or r[series_axis] == group),
                              key=lambda r: by_x(r[x_axis]))
                values = []
                for r in line:
                    v = number(r[metric])
                    if metric == "bytes_up" and v is not None:
                        v += number(r["bytes_down"])
                    values.append(v * scale if v is not None else float("nan"))
                xs = [by_x(r[x_axis]) for r in line]
                ax.plot(xs if all(isinstance(x, float) for x in xs) else [str(x) for x in xs], values, marker="o",
                        label=group)
            ax.set(xlabel=x_axis, ylabel=label,
                   title=", ".join(f"{a}={v}" for a, v in zip(panel_axes, panel)) or None)
            if all(isinstance(by_x(r[x_axis]), float) for r in cells):
                ax.set_xticks(sorted({by_x(r[x_axis]) for r in cells}))
            ax.grid(alpha=0.3)
            if series_axis:
                ax.legend(title=series_axis, fontsize=8)
        if metric == "virtual_time_to_target_s" and rows[0].get("target_accuracy"):
            fig.suptitle(f"target accuracy {rows[0]['target_accuracy']} (no point: not reached)", fontsize=9)
        save(fig, os.path.join(out_dir, f"{name}_vs_{x_axis.split('.')[-1]}.png"))

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for r in rows:
        points = evaluated(read_csv(os.path.join(sweep_dir, r["cell"], "metrics.csv")), "virtual_time_s")
        ax.plot([p[0] / 3600 for p in points], [p[1] for p in points], label=" ".join(r[a] for a in axes))
    ax.set(xlabel="virtual time (h)", ylabel="test accuracy", title="every cell", ylim=(0, 1))
    ax.grid(alpha=0.3)
    if len(rows) <= 18:
        ax.legend(fontsize=6, ncol=2)
    save(fig, os.path.join(out_dir, "accuracy_all_cells.png"))

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for r in rows:
        points = evaluated(read_csv(os.path.join(sweep_dir, r["cell"], "metrics.csv")), "round")
        ax.plot([p[0] for p in points], [p[1] for p in points], label=" ".join(r[a] for a in axes))
    ax.set(xlabel="round", ylabel="test accuracy", title="every cell", ylim=(0, 1))
    ax.grid(alpha=0.3)
    if len(rows) <= 18:
        ax.legend(fontsize=6, ncol=2)
    save(fig, os.path.join(out_dir, "accuracy_by_round_all_cells.png"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", help="an `sflsim run --out` or `sflsim sweep --out` directory")
    parser.add_argument("--out", help="where the PNGs go (default: DIRECTORY/plots)")
    parser.add_argument("--x", help="sweep axis on the x axis (default: clients.count, else the first axis)")
    parser.add_argument("--series", help="sweep axis drawn as one line per value (default: algorithm.name if swept)")
    args = parser.parse_args()
    out_dir = args.out or os.path.join(args.directory, "plots")
    os.makedirs(out_dir, exist_ok=True)
    if os.path.exists(os.path.join(args.directory, "sweep.csv")):
        plot_sweep(args.directory, out_dir, args.x, args.series)
    elif os.path.exists(os.path.join(args.directory, "metrics.csv")):
        plot_run(args.directory, out_dir, os.path.basename(os.path.normpath(args.directory)))
    else:
        sys.exit(f"{args.directory}: neither sweep.csv nor metrics.csv found")


if __name__ == "__main__":
    main()
