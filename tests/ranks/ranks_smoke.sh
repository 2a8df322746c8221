#!/usr/bin/env bash
# A small fault scenario on synthetic data (drops, a server outage, a crash and
# rejoin) run in one process and with --ranks 2: metrics.csv and clients.csv
# must be the same bytes, and the workers must have computed client rounds.
# Quick enough for the sanitized pass, where it is the --ranks path's test.
# Usage: ranks_smoke.sh SFLSIM   (from the repository root)
set -euo pipefail
sflsim=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$sflsim" --threads 2 run tests/ranks/smoke.json --out "$work/plain" > "$work/plain.log" 2>&1 ||
  { cat "$work/plain.log"; echo "FAIL: the plain run failed"; exit 1; }
"$sflsim" --threads 2 run tests/ranks/smoke.json --out "$work/ranks" --ranks 2 > "$work/ranks.log" 2>&1 ||
  { cat "$work/ranks.log"; echo "FAIL: the --ranks 2 run failed"; exit 1; }
for f in metrics.csv clients.csv; do
  cmp "$work/plain/$f" "$work/ranks/$f" || { diff "$work/plain/$f" "$work/ranks/$f" | head; echo "FAIL: $f differs"; exit 1; }
done
jobs=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; ++i) if ($i == "jobs") c = i; next } { s += $c } END { print s + 0 }' "$work/ranks/wall.csv")
[ "$jobs" -gt 0 ] || { echo "FAIL: no client round was computed on a worker (jobs = $jobs)"; exit 1; }
echo "ok: --ranks 2 wrote the one-process bytes; $jobs client rounds computed on the workers"
