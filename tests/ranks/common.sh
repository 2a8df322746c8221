# Shared by the --ranks shell tests (sourced; not run on its own).
#
# Sets: sflsim (the binary, $1 of the test), repo (the repository root),
# quickstart (its scenario), work (a temporary directory, removed at exit with
# everything the test started), test_name (for messages).
# Plain reference runs are cached under $SFLSIM_RANKS_CACHE (CTest sets it to a
# folder of the build tree) keyed by the sflsim binary's hash and the run's
# arguments, so the tests share them and a rerun with the same binary skips
# them; without the variable each test makes its own in $work.

set -euo pipefail
shopt -s inherit_errexit
if (($# < 1)); then
  echo "usage: $0 SFLSIM" >&2
  exit 2
fi
sflsim=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
test_name=$(basename "$0" .sh)
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
quickstart=$repo/scenarios/quickstart.json
# Every run uses 2 threads (rank 0's; workers get 2/N each, at least 1), so the
# tests cost the same on bigger machines.
threads=(--threads 2)
work=$(mktemp -d "${TMPDIR:-/tmp}/ranks-test.XXXXXX")

# The state letter of process PID (R, S, T, Z, ...; nothing when it is gone).
proc_state() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1 || true; }

# alive PID: the process exists and is not a zombie.
alive() {
  local state
  state=$(proc_state "$1")
  [ -n "$state" ] && [ "$state" != Z ]
}

# The value of option $2 on the command line of process $1.
option_of() { tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | awk -v o="$2" 'prev == o {print} {prev = $0}'; }

# Worker ranks (children) of the sflsim process PID: "PID RANK" lines.
workers_of() {
  local child
  for child in $(pgrep -P "$1"); do
    echo "$child $(option_of "$child" --rank)"
  done
}

# The folder of the ranks' store (/tmp/sflsim-ranks-XXXXXX) of the sflsim
# process PID, from its workers' command lines: rank 0 removes it at exit, but
# not when it is killed with -9.
store_dir_of() {
  local child store
  for child in $(pgrep -P "$1"); do
    store=$(option_of "$child" --store)
    store=${store#file:}
    if [[ $store == /tmp/sflsim-ranks-*/store ]]; then
      dirname "$store"
      return
    fi
  done
}

started_pids=()   # every sflsim started in the background, and its workers
extra_dirs=()     # store folders of a rank 0 killed with -9
cleanup() {
  local rc=$? pid
  for pid in "${started_pids[@]}"; do
    if alive "$pid"; then
      local dir
      dir=$(store_dir_of "$pid" || true)
      [ -z "$dir" ] || extra_dirs+=("$dir")
    fi
  done
  for pid in "${started_pids[@]}"; do
    # Only one of ours still there (not a reused pid); -9 works on a stopped one too.
    if alive "$pid" && [[ $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) == *sflsim* ]]; then
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
  wait 2>/dev/null || true
  rm -rf "${extra_dirs[@]}"
  if [ -n "${KEEP_WORK:-}" ]; then echo "$test_name: kept $work" >&2; else rm -rf "$work"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE

say() { echo "$test_name: $*"; }
fail() {
  echo "$test_name: FAIL: $*" >&2
  exit 1
}

# Lines of a file (0 when absent).
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

# The sflsim stderr of a run without its progress bar (carriage returns).
messages() { tr '\r' '\n' <"$1" | grep -v '^rounds \[' || true; }

# run_ok LABEL OUT ARGS...: sflsim ARGS with stdout/stderr in OUT.stdout and
# OUT.stderr; fails the test (showing stderr) unless it exits 0.
run_ok() {
  local label=$1 out=$2 rc=0
  shift 2
  "$sflsim" "${threads[@]}" "$@" >"$out.stdout" 2>"$out.stderr" || rc=$?
  if ((rc != 0)); then
    messages "$out.stderr" | tail -20 >&2
    fail "$label: sflsim ${*} exited $rc"
  fi
}

# plain_run NAME ARGS...: prints the folder of a plain run of quickstart with
# ARGS (e.g. --set training.rounds=3), cached (see the top).
plain_run() {
  local name=$1
  shift
  local root=${SFLSIM_RANKS_CACHE:-$work/plain}
  local binary_hash key dir
  binary_hash=$(sha256sum <"$sflsim" | cut -c1-16)
  key=$( { cat "$quickstart"; printf '%s\n' "${threads[@]}" "$@"; } | sha256sum | cut -c1-16)
  dir=$root/$binary_hash/$name-$key
  mkdir -p "$root/$binary_hash"
  # Reference runs of an older binary are dropped (not while possibly in use).
  find "$root" -mindepth 1 -maxdepth 1 -type d ! -name "$binary_hash" -mmin +60 -exec rm -rf {} + 2>/dev/null || true
  (
    # One test makes a given reference; a parallel one waits for it.
    flock 9
    if [ ! -f "$dir/summary.json" ]; then
      rm -rf "$dir" "$dir.partial"
      say "plain reference run: quickstart $* (cached in $dir)" >&2
      run_ok "plain reference run" "$work/plain-$name" run "$quickstart" "$@" --out "$dir.partial"
      mv "$dir.partial" "$dir"
    fi
  ) 9>"$root/$binary_hash/$name-$key.lock" || exit 1
  echo "$dir"
}

# summary.json with the value of "wall_time_s" (the one field that may differ) blanked.
deterministic_summary() {
  grep -q '"wall_time_s"' "$1" || fail "$1 has no \"wall_time_s\" field"
  sed -E 's/("wall_time_s": *)[-+0-9.eE]+/\1<removed>/' "$1"
}

# same_outputs LABEL REFERENCE RUN: metrics.csv, clients.csv and summary.json
# (without wall_time_s) of RUN are REFERENCE's bytes; else fails showing the
# first difference.
same_outputs() {
  local label=$1 ref=$2 run=$3 f out
  for f in metrics.csv clients.csv summary.json; do
    [ -f "$run/$f" ] || fail "$label: $run/$f is missing"
  done
  for f in metrics.csv clients.csv; do
    if ! out=$(cmp "$ref/$f" "$run/$f" 2>&1); then
      {
        echo "$label: $f differs from the plain run's: $out"
        diff "$ref/$f" "$run/$f" | head -8 | cut -c1-400 || true
      } >&2
      fail "$label: $f is not the plain run's bytes"
    fi
  done
  if ! out=$(diff <(deterministic_summary "$ref/summary.json") <(deterministic_summary "$run/summary.json")); then
    echo "$out" | head -12 >&2
    fail "$label: summary.json (without wall_time_s) differs from the plain run's"
  fi
  say "$label: metrics.csv, clients.csv and summary.json (without wall_time_s) equal the plain run's"
}

# rank_columns LABEL RUN [FIRST_ROUND]: wall.csv of a --ranks run has the rank
# columns, one row per round, and jobs > 0 in every row from FIRST_ROUND on
# (the clients' rounds went to worker ranks, not silently to rank 0).
rank_columns() {
  local label=$1 run=$2 from=${3:-1} header column rounds problems
  [ -f "$run/wall.csv" ] || fail "$label: $run/wall.csv is missing"
  header=$(head -1 "$run/wall.csv")
  for column in rank_bytes worker_compute_s round_trip_s rank0_cpu_s jobs jobs_resent; do
    [[ ,$header, == *,$column,* ]] || fail "$label: wall.csv has no $column column (header: $header)"
  done
  rounds=$(($(lines "$run/metrics.csv") - 1))
  (($(lines "$run/wall.csv") - 1 == rounds)) ||
    fail "$label: wall.csv has $(($(lines "$run/wall.csv") - 1)) rows, metrics.csv $rounds rounds"
  problems=$(awk -F, -v from="$from" '
    NR == 1 { for (i = 1; i <= NF; i++) if ($i == "jobs") jobs = i; next }
    $1 >= from && !($jobs > 0) { printf "round %s: jobs \"%s\"; ", $1, $jobs }' "$run/wall.csv")
  [ -z "$problems" ] || fail "$label: wall.csv says no client round went to a worker rank in $problems"
}

# wait_rows LABEL PID FILE N: waits until FILE (metrics.csv of the run in DIR,
# stderr in DIR.stderr) has N lines while PID runs; fails when the run ends
# first (the kill would come too late).
wait_rows() {
  local label=$1 pid=$2 file=$3 n=$4
  while (($(lines "$file") < n)); do
    if ! alive "$pid"; then
      messages "$(dirname "$file").stderr" | tail -5 >&2
      fail "$label: the run ended before metrics.csv had $n lines: the kill came too late"
    fi
    sleep 0.05
  done
  if ! alive "$pid" || [ -e "$(dirname "$file")/summary.json" ]; then
    fail "$label: the kill came too late: the run had already finished"
  fi
}

# start_ranked_run LABEL OUT N ARGS...: starts `sflsim run quickstart ARGS
# --out OUT` in the background (stdout and stderr in OUT.stdout, OUT.stderr)
# and waits until OUT/metrics.csv has N lines (wait_rows). Sets pid (rank 0),
# workers ("PID RANK" lines of its worker ranks, as many as ARGS' --ranks) and
# worker_pids; they all go into started_pids.
start_ranked_run() {
  local label=$1 out=$2 n=$3 ranks=0 previous="" arg w
  shift 3
  for arg in "$@"; do
    [ "$previous" != --ranks ] || ranks=$arg
    previous=$arg
  done
  "$sflsim" "${threads[@]}" run "$quickstart" "$@" --out "$out" >"$out.stdout" 2>"$out.stderr" &
  pid=$!
  started_pids+=("$pid")
  wait_rows "$label" "$pid" "$out/metrics.csv" "$n"
  mapfile -t workers < <(workers_of "$pid")
  ((${#workers[@]} == ranks)) ||
    fail "$label: sflsim (pid $pid) has ${#workers[@]} worker ranks, not $ranks: ${workers[*]:-none}"
  worker_pids=()
  for w in "${workers[@]}"; do
    worker_pids+=("${w%% *}")
    started_pids+=("${w%% *}")
  done
}
