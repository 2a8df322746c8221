#!/usr/bin/env bash
# kill -9 a checkpointing run at pseudo-random points (KILLS times, resuming
# after each), check after every kill that each output present is whole, then
# let it finish and check its outputs are the uninterrupted run's bytes.
# Usage: sigkill_test.sh SFLSIM [KILLS]   (run from anywhere)
set -euo pipefail
sflsim=$1
kills=${2:-20}
here=$(cd "$(dirname "$0")" && pwd)
scenario=$here/scenario.json
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rows() { if [ -f "$work/run/metrics.csv" ]; then echo $(($(wc -l <"$work/run/metrics.csv") - 1)); else echo 0; fi; }
deterministic() { grep -v '"wall_time_s"' "$1/summary.json"; }

"$sflsim" --threads 2 run "$scenario" --out "$work/reference" >/dev/null 2>&1
RANDOM=16  # the same kill schedule every time
killed=0
while ((killed < kills)); do
  # Resume when there is a checkpoint; without one, --resume starts at round 1.
  "$sflsim" --threads 2 run "$scenario" --resume "$work/run" --checkpoint-every 1 >/dev/null 2>"$work/stderr" &
  pid=$!
  # Until the run has written 0, 1 or 2 more rounds, then 0-0.9 s more: kills
  # land in start-up, training, checkpoint writes and output writes alike, and
  # the run still gets on.
  target=$(($(rows) + RANDOM % 3))
  while kill -0 "$pid" 2>/dev/null && (($(rows) < target)); do sleep 0.05; done
  sleep "0.$((RANDOM % 10))"
  kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
  rc=0
  wait "$pid" 2>/dev/null || rc=$?
  if ((rc != 137 && rc != 0)); then
    echo "sigkill_test: a resumed run failed with exit $rc:" >&2
    cat "$work/stderr" >&2
    exit 1
  fi
  /usr/bin/python3 "$here/check_outputs.py" "$work/run" "$work/reference"
  if [ -f "$work/run/summary.json" ] && ((killed < kills)); then
    echo "sigkill_test: the run finished after $killed kills, before $kills; give it more rounds" >&2
    exit 1
  fi
  echo "kill $killed: $(rows) rounds written"
done
"$sflsim" --threads 2 run "$scenario" --resume "$work/run" --checkpoint-every 1 >/dev/null 2>&1
/usr/bin/python3 "$here/check_outputs.py" "$work/run" "$work/reference"
cmp "$work/run/metrics.csv" "$work/reference/metrics.csv"
cmp "$work/run/clients.csv" "$work/reference/clients.csv"
diff <(deterministic "$work/run") <(deterministic "$work/reference")
[ ! -e "$work/run/checkpoint.bin" ]
echo "sigkill_test: $killed kills; the resumed run's metrics.csv, clients.csv and summary.json equal the uninterrupted run's"
