#!/usr/bin/env bash
# Installs the Debian 12 packages sflsim needs (only those missing; quiet when
# all are present), then configures and builds with Ninja in Release.
# Usage: bash scripts/setup.sh [BUILD_DIR]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${1:-build}

packages=(
  libtorch-dev libboost1.81-dev nlohmann-json3-dev libcli11-dev catch2 zlib1g-dev
  libopenblas0-openmp libtcmalloc-minimal4 cmake ninja-build g++ ccache dataset-fashion-mnist
  python3 python3-matplotlib  # scripts/plot.py, table.py, bench_scenario.py (run by /usr/bin/python3)
  afl++                       # scripts/fuzz.sh (CI fuzzes every reader briefly)
  libgloo-dev                 # c10d's ProcessGroupGloo headers (simulator/ranks: sflsim run --ranks)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=(); [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# g++, not clang++: clang 14 rejects LibTorch 1.13's headers in C++20 mode
# (incomplete c10::IValue inside constexpr std::vector). ccache makes rebuilds cheap.
# A new build folder is a unity build (about 7 minutes cold on 2 cores instead
# of 23; outputs byte-identical): SFLSIM_UNITY_BUILD=OFF gives one object per
# .cpp, which rebuilds faster after editing a single file.
cmake_args=(-S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release)
if [ ! -f "$build_dir/CMakeCache.txt" ]; then
  cmake_args+=(-DCMAKE_CXX_COMPILER=g++ "-DCMAKE_UNITY_BUILD=${SFLSIM_UNITY_BUILD:-ON}")
  command -v ccache >/dev/null && cmake_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
cmake "${cmake_args[@]}" >/dev/null
cmake --build "$build_dir"
