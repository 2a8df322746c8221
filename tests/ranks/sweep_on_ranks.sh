#!/usr/bin/env bash
# A 4-cell sweep in one process, with --ranks 2, and cell by cell (--cell K,
# as a Slurm job array runs it) followed by the whole sweep's command that
# collects them: the three sweep.csv files must be the same bytes.
# Usage: sweep_on_ranks.sh SFLSIM   (from the repository root)
set -euo pipefail
sflsim=$1
sweep=tests/ranks/smoke-sweep.json
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() {  # NAME ARGS...: a sweep command, its output kept for a failure
  local name=$1
  shift
  "$sflsim" --threads 2 sweep "$sweep" --no-progress "$@" > "$work/$name.log" 2>&1 ||
    { cat "$work/$name.log"; echo "FAIL: sweep $* failed"; exit 1; }
}
run one --out "$work/one"
run ranks --out "$work/ranks" --ranks 2
for cell in 0 1 2 3; do run "cell$cell" --out "$work/cells" --cell "$cell"; done
[ ! -e "$work/cells/sweep.csv" ] || { echo "FAIL: --cell wrote sweep.csv"; exit 1; }
run collect --out "$work/cells"
grep -q "4 cells: 0 run, 4 finished earlier" "$work/collect.log" ||
  { cat "$work/collect.log"; echo "FAIL: collecting ran cells again"; exit 1; }
for other in ranks cells; do
  cmp "$work/one/sweep.csv" "$work/$other/sweep.csv" ||
    { diff "$work/one/sweep.csv" "$work/$other/sweep.csv"; echo "FAIL: $other's sweep.csv differs"; exit 1; }
done
echo "ok: one process, --ranks 2 and --cell 0..3 + collect wrote the same sweep.csv ($(($(wc -l < "$work/one/sweep.csv") - 1)) cells)"
