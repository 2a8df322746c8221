#!/usr/bin/python3
"""Throughput of one `sflsim run`: wall seconds per round, samples trained per
wall second, and the ratio to the plain LibTorch loop (`sflsim bench train`)
on the same subnet shape, with the same thread count. Prints JSON.

    python3 scripts/bench_scenario.py scenarios/quickstart.json [--threads 2]
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time

IMAGE_SHAPES = {"fashion-mnist": (1, 28), "mnist": (1, 28), "cifar10": (3, 32), "cifar100": (3, 32),
                "cifar100-coarse": (3, 32), "synthetic": (3, 32)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("scenario")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--sflsim", default="./build/sflsim")
    parser.add_argument("--set", action="append", default=[], help="scenario override, as for sflsim run")
    parser.add_argument("--plain-seconds", type=float, default=10.0)
    args = parser.parse_args()

    overrides = [a for s in args.set for a in ("--set", s)]
    with tempfile.TemporaryDirectory() as out:
        started = time.monotonic()
        subprocess.run([args.sflsim, "--threads", str(args.threads), "run", args.scenario, "--out", out] + overrides,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        process_wall = time.monotonic() - started
        with open(os.path.join(out, "wall.csv")) as f:
            round_walls = [float(r["wall_s"]) for r in csv.DictReader(f)]
        with open(os.path.join(out, "clients.csv")) as f:
            samples = sum(int(r["samples"]) for r in csv.DictReader(f))
        with open(os.path.join(out, "scenario.resolved.json")) as f:
            scenario = json.load(f)

    channels, size = IMAGE_SHAPES[scenario["dataset"]["name"]]
    width = scenario["model"]["width_multiplier"]
    plain = json.loads(subprocess.run(
        [args.sflsim, "--threads", str(args.threads), "bench", "train", "--widths", str(width), "--channels",
         str(channels), "--image-size", str(size), "--batch-size", str(scenario["training"]["batch_size"]),
         "--seconds", str(args.plain_seconds)], check=True, capture_output=True, text=True).stdout)["results"][0]

    rounds_wall = sum(round_walls)
    samples_per_s = samples / rounds_wall
    json.dump({
        "scenario": scenario["name"],
        "clients": scenario["clients"]["count"],
        "threads": args.threads,
        "rounds": len(round_walls),
        "process_wall_s": round(process_wall, 2),
        "wall_s_per_round": round(rounds_wall / len(round_walls), 3),
        "client_samples": samples,
        "samples_per_s": round(samples_per_s, 1),
        "plain_loop_images_per_s": round(plain["plain_images_per_s"], 1),
        "ratio_to_plain_loop": round(samples_per_s / plain["plain_images_per_s"], 3),
    }, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    main()
