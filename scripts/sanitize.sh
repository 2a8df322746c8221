#!/usr/bin/env bash
# Builds sflsim and its test suite with AddressSanitizer + UndefinedBehaviorSanitizer
# and runs the suite under them. Exits non-zero if the build or any test fails; a
# sanitizer report fails its test (UBSan does not recover; ASan aborts).
#
#   bash scripts/sanitize.sh [BUILD_DIR]               build and run (default build-sanitize)
#   bash scripts/sanitize.sh --configure [BUILD_DIR]   only configure (scripts/fuzz.sh uses it)
#
# The build is RelWithDebInfo, -DSFLSIM_SANITIZE=address,undefined, no tcmalloc, and
# -DSFLSIM_FUZZ=ON: the AFL++ coverage callback is linked everywhere, so that
# scripts/fuzz.sh fuzzes with this same build instead of compiling everything again.
# LibTorch itself is not instrumented: only our code (and the headers it inlines).
# Needs the packages scripts/setup.sh installs (afl++ among them).
#
# LibTorch's freed CPU buffers are kept for reuse in this build
# (tests/sanitize/reusing_cpu_allocator.cpp): ASan maps each large block fresh
# and training ran 5 to 14 times slower than unsanitized; now about as fast.
#
# Left out of the sanitized pass (they run unsanitized in the README's test
# command), to keep CI inside its time budget: the tests labelled slow, and the
# test cases tagged [heavy] (the longest quick cases, whose code the other
# cases reach too). Among them the resume of all eight algorithms: the
# sanitized pass still resumes the fault scenario, through the same checkpoint
# code. And the --ranks runs of quickstart (label ranks: several minutes each
# unsanitized); the sanitized pass runs the ranks' communicator test, a small
# fault scenario on 2 ranks (ranks_smoke.sh) and the scripted rounds with
# faults through their bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
configure_only=false
if [ "${1:-}" = --configure ]; then configure_only=true; shift; fi
build_dir=${1:-build-sanitize}

# -O1 -g1: what ASan advises, line tables enough for symbolised reports, and a
# third less compile time than RelWithDebInfo's -O2 -g. A unity build, as
# scripts/setup.sh makes.
cmake_args=(-S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"
            -DSFLSIM_SANITIZE=address,undefined -DSFLSIM_FUZZ=ON -DSFLSIM_BUILD_TESTS=ON)
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake_args+=(-DCMAKE_CXX_COMPILER=g++ "-DCMAKE_UNITY_BUILD=${SFLSIM_UNITY_BUILD:-ON}")
  command -v ccache >/dev/null && cmake_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake "${cmake_args[@]}" >/dev/null
$configure_only && exit 0
cmake --build "$build_dir"

export ASAN_OPTIONS="abort_on_error=1:detect_leaks=1:strict_string_checks=1:check_initialization_order=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
echo "+ ctest --test-dir $build_dir --output-on-failure -j $(nproc) -LE 'slow|heavy|^ranks$'"
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" -LE 'slow|heavy|^ranks$'


