#!/usr/bin/env bash
# `sflsim run --ranks N` gives the plain run's bytes: quickstart (SuperSFL) and
# quickstart with sfl-v1 (a server replica per client), 2 rounds each, at
# --ranks 1, 2 and 3 (sfl-v1: 2): metrics.csv, clients.csv and summary.json (without
# wall_time_s) equal a plain run's, and wall.csv has the rank columns with
# jobs > 0 in every round (the clients' rounds went to the workers). sfl-v2 (one
# shared server model) runs in rank 0 with a note and gives the plain bytes too.
# Usage: ranks_equal_plain.sh SFLSIM
source "$(dirname "$0")/common.sh"

# SFL-V1 at 2 ranks only, which splits its clients: 1 and 3 ran no other code for it.
for algorithm in supersfl sfl-v1; do
  args=(--set training.rounds=2 --set "algorithm.name=$algorithm")
  ref=$(plain_run "$algorithm-2" "${args[@]}")
  rank_counts=(1 2 3)
  [ "$algorithm" = supersfl ] || rank_counts=(2)
  for n in "${rank_counts[@]}"; do
    label="quickstart $algorithm, 2 rounds, --ranks $n"
    say "$label: comparing with the plain run"
    run_ok "$label" "$work/$algorithm-ranks$n" run "$quickstart" "${args[@]}" --ranks "$n" --out "$work/$algorithm-ranks$n"
    same_outputs "$label" "$ref" "$work/$algorithm-ranks$n"
    rank_columns "$label" "$work/$algorithm-ranks$n"
    say "$label: wall.csv has the rank columns and jobs > 0 in every round"
  done
done

args=(--set training.rounds=2 --set algorithm.name=sfl-v2)
label="quickstart sfl-v2 (shared server), 2 rounds, --ranks 2"
ref=$(plain_run sfl-v2-2 "${args[@]}")
say "$label: comparing with the plain run"
run_ok "$label" "$work/sfl-v2-ranks2" run "$quickstart" "${args[@]}" --ranks 2 --out "$work/sfl-v2-ranks2"
same_outputs "$label" "$ref" "$work/sfl-v2-ranks2"
[[ $(messages "$work/sfl-v2-ranks2.stderr") == *sfl-v2*"rank 0"* ]] ||
  fail "$label: no note on stderr that sfl-v2's rounds run on rank 0 (stderr: $(messages "$work/sfl-v2-ranks2.stderr"))"
say "$label: stderr notes that its rounds run on rank 0"
say "PASS"
