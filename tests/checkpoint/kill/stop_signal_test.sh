#!/usr/bin/env bash
# A real SIGINT (to the process group, as Ctrl-C sends it) and a real SIGTERM
# (to the process alone, as kill and schedulers send it) to `sflsim run` and
# to `sflsim sweep --ranks 2`, each mid-run: the command exits 130 / 143
# with a checkpoint in every cell that was running, and resuming gives the
# uninterrupted run's bytes.
# Usage: stop_signal_test.sh SFLSIM   (run from anywhere)
set -euo pipefail
sflsim=$1
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rounds() { if [ -f "$1/metrics.csv" ]; then echo $(($(wc -l <"$1/metrics.csv") - 1)); else echo 0; fi; }
deterministic() { grep -v '"wall_time_s"' "$1/summary.json"; }
same_run() {
  cmp "$1/metrics.csv" "$2/metrics.csv"
  cmp "$1/clients.csv" "$2/clients.csv"
  diff <(deterministic "$1") <(deterministic "$2")
  [ ! -e "$1/checkpoint.bin" ]
}
# stop NAME SIGNAL WHOM EXPECTED_EXIT DIRS... -- COMMAND...: start COMMAND in
# its own process group, wait until each of DIRS has 2 rounds, then send
# SIGNAL to the process (WHOM=process) or its group (WHOM=group).
stop() {
  local name=$1 signal=$2 whom=$3 expected=$4
  shift 4
  local dirs=()
  while [ "$1" != -- ]; do dirs+=("$1"); shift; done
  shift
  setsid "$@" >"$work/$name.out" 2>"$work/$name.err" &
  local pid=$! waited=0
  for d in "${dirs[@]}"; do
    while (($(rounds "$d") < 2)); do
      kill -0 "$pid" 2>/dev/null || { echo "stop_signal_test: $name ended before it was signalled" >&2; cat "$work/$name.err" >&2; exit 1; }
      sleep 0.05; waited=$((waited + 1))
      ((waited < 2400)) || { echo "stop_signal_test: $name: no second round in 120 s" >&2; exit 1; }
    done
  done
  if [ "$whom" = group ]; then kill "-$signal" -- "-$pid"; else kill "-$signal" "$pid"; fi
  local rc=0
  wait "$pid" || rc=$?
  if ((rc != expected)); then
    echo "stop_signal_test: $name exited $rc after SIG$signal, not $expected:" >&2
    cat "$work/$name.err" >&2
    exit 1
  fi
  if grep -q "lost" "$work/$name.err"; then
    echo "stop_signal_test: $name lost a rank on the way:" >&2
    cat "$work/$name.err" >&2
    exit 1
  fi
  for d in "${dirs[@]}"; do
    [ -f "$d/checkpoint.bin" ] || { echo "stop_signal_test: $name: no checkpoint in $d" >&2; exit 1; }
    [ ! -e "$d/summary.json" ] || { echo "stop_signal_test: $name: $d finished before the signal; give it more rounds" >&2; exit 1; }
  done
  echo "$name: exit $rc, stopped after round(s) $(for d in "${dirs[@]}"; do echo -n "$(rounds "$d") "; done)"
}

run_args=(--set training.rounds=16)
"$sflsim" --threads 2 run "$here/scenario.json" "${run_args[@]}" --out "$work/reference" >/dev/null 2>&1
for signal in INT TERM; do
  if [ $signal = INT ]; then whom=group expected=130; else whom=process expected=143; fi
  dir=$work/run-$signal
  stop "run-$signal" $signal $whom $expected "$dir" -- "$sflsim" --threads 2 run "$here/scenario.json" "${run_args[@]}" --out "$dir"
  "$sflsim" --threads 2 run "$here/scenario.json" "${run_args[@]}" --resume "$dir" >/dev/null 2>&1
  same_run "$dir" "$work/reference"
done

"$sflsim" --threads 2 sweep "$here/sweep.json" --no-progress --out "$work/sweep-reference" >/dev/null 2>&1
cells=(seed=3 seed=4)
for signal in INT TERM; do
  if [ $signal = INT ]; then whom=group expected=130; else whom=process expected=143; fi
  out=$work/sweep-$signal
  dirs=()
  for c in "${cells[@]}"; do dirs+=("$out/$(ls "$work/sweep-reference" | grep -F "$c")"); done
  stop "sweep-$signal" $signal $whom $expected "${dirs[@]}" -- \
    "$sflsim" --threads 2 sweep "$here/sweep.json" --no-progress --ranks 2 --out "$out"
  "$sflsim" --threads 2 sweep "$here/sweep.json" --no-progress --ranks 2 --out "$out" >/dev/null 2>&1
  for d in "${dirs[@]}"; do same_run "$d" "$work/sweep-reference/$(basename "$d")"; done
  cmp "$out/sweep.csv" "$work/sweep-reference/sweep.csv"
done
echo "stop_signal_test: SIGINT and SIGTERM to run and to sweep --ranks 2: exits 130/143, checkpoints written, resumed outputs equal the uninterrupted ones"
