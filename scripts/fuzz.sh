#!/usr/bin/env bash
# Fuzzes one reader with AFL++ (Debian package afl++) under ASan + UBSan.
#
#   scripts/fuzz.sh --list            the targets (one per tests/fuzz/fuzz_<target>.cpp)
#   scripts/fuzz.sh --build [TARGET]  only (re)build the fuzz binaries
#   scripts/fuzz.sh TARGET SECONDS    build if needed, then afl-fuzz -V SECONDS
#
# Seeds: tests/fuzz/corpus/TARGET/ and tests/fuzz/regressions/TARGET/;
# dictionary: tests/fuzz/dict/TARGET.dict when present. Adding a target is
# adding tests/fuzz/fuzz_TARGET.cpp and its corpus folder (see tests/fuzz/README.md).
# Prints execs done, execs/s, corpus size, crashes and hangs; exits 1 if any
# crash or hang was found (their inputs stay in OUT/default/{crashes,hangs}/, and
# the first crash is replayed with a symbolised report).
#
# Environment: SFLSIM_FUZZ_BUILD (build dir, default build-sanitize, as scripts/sanitize.sh), SFLSIM_FUZZ_OUT
# (afl-fuzz output, default BUILD/afl/TARGET, emptied first), SFLSIM_FUZZ_JOBS
# (build jobs, default nproc), SFLSIM_FUZZ_TIMEOUT_MS (per input, default 1000).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
fuzz_dir=tests/fuzz
build=${SFLSIM_FUZZ_BUILD:-build-sanitize}  # shared with scripts/sanitize.sh
jobs=${SFLSIM_FUZZ_JOBS:-$(nproc)}

targets() {
  local f
  for f in "$fuzz_dir"/fuzz_*.cpp; do f=${f##*/fuzz_}; echo "${f%.cpp}"; done
}
usage() { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "fuzz.sh: $*" >&2; exit 2; }

build_targets() {  # build_targets TARGET...
  command -v afl-fuzz >/dev/null || die "afl-fuzz not found: apt-get install afl++"
  bash scripts/sanitize.sh --configure "$build"
  cmake --build "$build" -j "$jobs" --target "${@/#/fuzz_}"
}

case "${1:-}" in
  --list) targets; exit 0 ;;
  --build) shift; if (($#)); then build_targets "$@"; else mapfile -t all < <(targets); build_targets "${all[@]}"; fi; exit 0 ;;
  ""|-*) usage ;;
esac
(($# == 2)) || usage
target=$1 seconds=$2
[[ $seconds =~ ^[0-9]+$ ]] && ((seconds > 0)) || die "SECONDS must be a positive integer"
targets | grep -qx "$target" || die "unknown target '$target' (scripts/fuzz.sh --list)"
[ -d "$fuzz_dir/corpus/$target" ] || die "no seed corpus $fuzz_dir/corpus/$target"

build_targets "$target"
bin=$root/$build/fuzz/fuzz_$target
[ -x "$bin" ] || bin=$build/fuzz/fuzz_$target
out=${SFLSIM_FUZZ_OUT:-$build/afl/$target}
rm -rf "$out"
mkdir -p "$out/seeds"
cp "$fuzz_dir/corpus/$target"/* "$out/seeds/"
if [ -d "$fuzz_dir/regressions/$target" ]; then
  for f in "$fuzz_dir/regressions/$target"/*; do [ -f "$f" ] && cp "$f" "$out/seeds/regression-${f##*/}"; done
fi
dict=()
[ -f "$fuzz_dir/dict/$target.dict" ] && dict=(-x "$fuzz_dir/dict/$target.dict")

# Scratch files of the harness (fuzz_target.hpp), in memory when /dev/shm exists.
scratch_base=/dev/shm
[ -d "$scratch_base" ] && [ -w "$scratch_base" ] || scratch_base=$out
export SFLSIM_FUZZ_TMP=$scratch_base/sflsim-fuzz-$target-$$
mkdir -p "$SFLSIM_FUZZ_TMP"
trap 'rm -rf "$SFLSIM_FUZZ_TMP"' EXIT

# Non-interactive (CI=true, no terminal), no CPU pinning (shared machine), no
# core_pattern or CPU-governor requirements (no root needed), and a minute for
# LibTorch to load on a busy machine. An allocation over 2 GiB is reported by
# ASan: no input of at most 1 MB should need one.
export AFL_FORKSRV_INIT_TMOUT=60000 AFL_NO_UI=1 AFL_NO_AFFINITY=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1
export ASAN_OPTIONS=abort_on_error=1:symbolize=0:detect_leaks=0:allocator_may_return_null=0:max_allocation_size_mb=2048:handle_abort=1
export UBSAN_OPTIONS=abort_on_error=1:halt_on_error=1:print_stacktrace=1:symbolize=0
echo "fuzz.sh: fuzzing $target for ${seconds} s (log: $out/afl-fuzz.log)"
set +e
afl-fuzz -i "$out/seeds" -o "$out" "${dict[@]}" -t "${SFLSIM_FUZZ_TIMEOUT_MS:-1000}" -m none -V "$seconds" \
  -- "$bin" >"$out/afl-fuzz.log" 2>&1
rc=$?
set -e
stats=$out/default/fuzzer_stats
if [ ! -f "$stats" ]; then
  tail -n 30 "$out/afl-fuzz.log" >&2
  die "afl-fuzz failed (exit $rc) before writing $stats"
fi
field() { sed -n "s/^$1 *: *//p" "$stats"; }
crashes=$(field saved_crashes) hangs=$(field saved_hangs)
printf 'fuzz.sh: %s: %s s, execs %s, execs/s %s, corpus %s, coverage %s, crashes %s, hangs %s\n' \
  "$target" "$(field run_time)" "$(field execs_done)" "$(field execs_per_sec)" "$(field corpus_count)" \
  "$(field bitmap_cvg)" "$crashes" "$hangs"
if ((crashes + hangs > 0)); then
  echo "fuzz.sh: findings in $out/default/crashes/ and $out/default/hangs/" >&2
  first=$(find "$out/default/crashes" "$out/default/hangs" -type f -name 'id:*' 2>/dev/null | sort | head -n 1)
  if [ -n "$first" ]; then
    echo "fuzz.sh: replaying $first:" >&2
    ASAN_OPTIONS=abort_on_error=1:symbolize=1:detect_leaks=0:max_allocation_size_mb=2048 \
      UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 timeout 20 "$bin" "$first" 2>&1 | tail -n 40 >&2 || true
  fi
  exit 1
fi
((rc == 0)) || { tail -n 30 "$out/afl-fuzz.log" >&2; die "afl-fuzz exited with $rc"; }
