#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Run an example pipeline with the built `pulse` and show where its results are (`make run`).
# Usage: scripts/run_example.sh PIPELINE.toml [PULSE_BINARY]
set -euo pipefail

readonly ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly PIPELINE="${1:?usage: run_example.sh PIPELINE.toml [PULSE_BINARY]}"
readonly PULSE="${2:-$ROOT/build/release/bin/pulse}"

# The sink's output file: `path` (or the original's `out_dir`) in the [sink] table.
output="$(awk '
  /^[[:space:]]*\[/ { section = $0; gsub(/[][[:space:]]/, "", section); next }
  section == "sink" && match($0, /^[[:space:]]*(path|out_dir)[[:space:]]*=[[:space:]]*"[^"]*"/) {
    line = substr($0, RSTART, RLENGTH); sub(/^[^"]*"/, "", line); sub(/"$/, "", line)
    print line; exit
  }' "$PIPELINE")"

cd "$ROOT"  # the example configs use paths relative to the repository root
if [[ -n "$output" ]]; then
  mkdir -p "$(dirname "$output")"
fi
printf '\n==> Run: pulse run --config %s\n' "$PIPELINE"
"$PULSE" run --config "$PIPELINE"

if [[ -z "$output" ]]; then
  exit 0  # results went to stdout
fi
printf '\n==> Results: %s (%s lines of JSON). The first 5:\n' \
  "$ROOT/$output" "$(wc -l <"$output" | tr -d ' ')"
head -n 5 "$output"
