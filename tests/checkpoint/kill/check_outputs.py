#!/usr/bin/python3
"""Checks a run directory after a kill -9: every output present parses, and
metrics.csv / wall.csv hold whole, consecutive rows that agree with the
reference run's. Usage: check_outputs.py RUN_DIR REFERENCE_DIR"""
import json
import sys
from pathlib import Path

run, reference = Path(sys.argv[1]), Path(sys.argv[2])


def fail(message):
    sys.exit(f"check_outputs: {message}")


def lines(path):
    text = path.read_text()
    if text and not text.endswith("\n"):
        fail(f"{path}: the last row is torn (no newline)")
    return text.splitlines()


if (run / "metrics.csv").exists():
    got, want = lines(run / "metrics.csv"), lines(reference / "metrics.csv")
    if not got or got[0] != want[0]:
        fail("metrics.csv: header missing or wrong")
    for i, row in enumerate(got[1:], start=1):
        if len(row.split(",")) != 13:
            fail(f"metrics.csv row {i}: {len(row.split(','))} fields, not 13")
        if int(row.split(",")[0]) != i:
            fail(f"metrics.csv row {i} is round {row.split(',')[0]} (rows duplicated or missing)")
        if row != want[i]:
            fail(f"metrics.csv row {i} differs from the uninterrupted run's")
if (run / "wall.csv").exists():
    for i, row in enumerate(lines(run / "wall.csv")[1:], start=1):
        fields = row.split(",")
        if len(fields) != 2 or int(fields[0]) != i:
            fail(f"wall.csv row {i} is torn or out of order: {row!r}")
        float(fields[1])
for name in ("summary.json", "scenario.resolved.json"):
    if (run / name).exists():
        try:
            json.loads((run / name).read_text())
        except ValueError as e:
            fail(f"{name} does not parse: {e}")
if (run / "summary.json").exists() and (run / "clients.csv").read_text() != (reference / "clients.csv").read_text():
    fail("clients.csv of a finished run differs from the uninterrupted run's")
if (run / "checkpoint.bin").exists() and not (run / "checkpoint.bin").read_bytes().startswith(b"SFLSIMCK"):
    fail("checkpoint.bin has no magic")
