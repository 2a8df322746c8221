#!/usr/bin/env bash
# kill -9 of rank 0 of a checkpointing --ranks run, then --resume with another
# rank count: quickstart, 4 rounds, --ranks 2 --checkpoint-every 1; rank 0 (the
# sflsim process) is killed once round 2 is in metrics.csv; its workers must be
# gone within 5 s; `sflsim run --resume DIR --ranks 3` then finishes the run
# and its outputs are a plain 4-round run's bytes.
# Usage: resume_on_ranks.sh SFLSIM
source "$(dirname "$0")/common.sh"

args=(--set training.rounds=4)
ref=$(plain_run quickstart-4 "${args[@]}")
run=$work/run

label="kill -9 of rank 0"
say "$label: quickstart, 4 rounds, --ranks 2 --checkpoint-every 1"
start_ranked_run "$label" "$run" 3 "${args[@]}" --ranks 2 --checkpoint-every 1
# The killed rank 0 cannot remove its store folder: the test does.
store=$(store_dir_of "$pid")
[ -z "$store" ] || extra_dirs+=("$store")
kill -9 "$pid" || fail "$label: the kill came too late: sflsim had already exited"
rows_at_kill=$(($(lines "$run/metrics.csv") - 1))
say "$label: killed sflsim (pid $pid) after round $rows_at_kill; its workers are pids ${worker_pids[*]}"
wait "$pid" 2>/dev/null || true
if ((rows_at_kill >= 4)) || [ -e "$run/summary.json" ]; then
  fail "$label: the kill came too late: the run had already finished"
fi

# The workers die with rank 0.
deadline=$((SECONDS + 5))
for w in "${worker_pids[@]}"; do
  while alive "$w"; do
    if ((SECONDS >= deadline)); then
      state=$(proc_state "$w")
      kill -9 "$w" 2>/dev/null || true
      fail "$label: worker process $w (state $state) was still there 5 s after rank 0 was killed; killed it"
    fi
    sleep 0.05
  done
done
say "$label: both workers were gone within 5 s"
[ -f "$run/checkpoint.bin" ] || fail "$label: no checkpoint.bin in $run after $rows_at_kill rounds with --checkpoint-every 1"

label="--resume with --ranks 3"
say "$label: sflsim run --resume DIR --ranks 3"
run_ok "$label" "$work/resume" run --resume "$run" --ranks 3
resumed=$(grep -o 'resumed at round [0-9]*' "$work/resume.stdout" || true)
[ -n "$resumed" ] || fail "$label: the run did not resume from the checkpoint (no 'resumed at round N' on stdout): $(cat "$work/resume.stdout")"
say "$label: $resumed"
same_outputs "$label" "$ref" "$run"
[ ! -e "$run/checkpoint.bin" ] || fail "$label: checkpoint.bin is still there after the run finished"
# The rounds the resumed run ran went to its workers (wall.csv's rows from
# before the checkpoint keep only round and wall_s).
first=${resumed##* }
rank_columns "$label" "$run" "$first"
say "$label: wall.csv has jobs > 0 in every round from round $first on"
say "PASS"
