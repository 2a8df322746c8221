#!/usr/bin/env bash
# Regenerates the Fashion-MNIST paper-regime results (scenarios/paper/fmnist-hetero*.json):
# the 8-algorithm table, SFL at the weakest device's cut, the TPGF lambda ablation and the
# 3-seed spread, then their Markdown tables and plots. Each sweep resumes where it stopped.
# Usage: scripts/paper_hetero.sh [OUT_DIR]   (default: results/fmnist-hetero; about 1 h on 2 cores)
# SFLSIM=path/to/sflsim overrides ./build/sflsim.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-results/fmnist-hetero}
sflsim=${SFLSIM:-./build/sflsim}
mkdir -p "$out"
start=$(date +%s)
for part in table weakest tpgf seeds; do
  t0=$(date +%s)
  "$sflsim" sweep "scenarios/paper/fmnist-hetero-$part.json" --out "$out/$part"
  echo "$part: $(( $(date +%s) - t0 )) s wall" | tee -a "$out/wall.txt"
  scripts/table.py "$out/$part" > "$out/$part/table.md"
  scripts/plot.py "$out/$part" > /dev/null
done
scripts/table.py --spread seed "$out/seeds" > "$out/seeds/spread.md"
echo "all: $(( $(date +%s) - start )) s wall" | tee -a "$out/wall.txt"
