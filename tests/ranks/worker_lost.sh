#!/usr/bin/env bash
# A worker rank lost mid-run: quickstart, 4 rounds, --ranks 2 --rank-timeout 5,
# once round 1 is in metrics.csv
#   kill:  one worker gets SIGKILL (noticed at once),
#   stop:  one worker gets SIGSTOP (lost after 5 s of silence),
#   both:  both workers get SIGKILL (rank 0 computes the rest itself).
# Each run must exit 0, print `sflsim: rank R lost (...); K of its requests go
# to other ranks` for each killed worker (and for no other; `..., and all later
# work, are computed by rank 0` for the last one), leave no process
# and no store folder behind, and give a plain 4-round run's bytes.
# Usage: worker_lost.sh SFLSIM
source "$(dirname "$0")/common.sh"

args=(--set training.rounds=4)
ref=$(plain_run quickstart-4 "${args[@]}")
lost_re='^sflsim: rank [0-9]+ lost \(.+\); [0-9]+ of its requests(, and all later work,)? (go to other ranks|are computed by rank 0)$'

for mode in kill stop both; do
  case $mode in
    kill) label="SIGKILL of one worker" ;;
    stop) label="SIGSTOP of one worker" ;;
    both) label="SIGKILL of both workers" ;;
  esac
  out=$work/$mode
  say "$label: quickstart, 4 rounds, --ranks 2 --rank-timeout 5"
  start_ranked_run "$label" "$out" 2 "${args[@]}" --ranks 2 --rank-timeout 5
  store=$(store_dir_of "$pid")
  [ -n "$store" ] || fail "$label: no /tmp/sflsim-ranks-*/store on the workers' command lines"
  extra_dirs+=("$store")
  case $mode in
    kill) victims=("${workers[0]}"); signal=KILL ;;
    stop) victims=("${workers[0]}"); signal=STOP ;;
    both) victims=("${workers[@]}"); signal=KILL ;;
  esac
  for v in "${victims[@]}"; do
    kill -s "$signal" "${v%% *}" || fail "$label: the kill came too late: worker ${v%% *} had already exited"
  done
  rows_at_kill=$(($(lines "$out/metrics.csv") - 1))
  say "$label: SIG$signal to rank(s) $(for v in "${victims[@]}"; do printf '%s ' "${v#* }"; done)after round $rows_at_kill"
  ((rows_at_kill < 4)) || fail "$label: the kill came too late: all 4 rounds were already written"
  rc=0
  wait "$pid" || rc=$?
  if ((rc != 0)); then
    messages "$out.stderr" | tail -20 >&2
    fail "$label: sflsim exited $rc"
  fi

  # The loss is reported, once per victim, naming its rank.
  lost=$(messages "$out.stderr" | grep -E "$lost_re" || true)
  [ -n "$lost" ] || fail "$label: no 'sflsim: rank R lost (...); K of its requests go to other ranks' line on stderr; stderr: $(messages "$out.stderr")"
  while IFS= read -r line; do say "$label: stderr: $line"; done <<<"$lost"
  for v in "${victims[@]}"; do
    [[ $'\n'$lost == *$'\n'"sflsim: rank ${v#* } lost "* ]] || fail "$label: rank ${v#* } was killed but no line says it was lost"
  done
  (($(echo "$lost" | wc -l) == ${#victims[@]})) || fail "$label: ${#victims[@]} rank(s) killed, but stderr reports: $lost"

  # No worker outlives the run (the stopped one included).
  sleep 0.5
  for w in "${worker_pids[@]}"; do
    if alive "$w"; then
      state=$(proc_state "$w")
      kill -9 "$w" 2>/dev/null || true
      fail "$label: worker process $w (state $state) was still there after sflsim exited; killed it"
    fi
  done

  [ ! -e "$store" ] || fail "$label: sflsim exited but left the ranks' store folder $store"
  same_outputs "$label" "$ref" "$out"
  if [ "$mode" != both ]; then
    rank_columns "$label" "$out"
    say "$label: wall.csv has jobs > 0 in every round (the other worker took over)"
  fi
done
say "PASS"
