#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install the built Pulse into a scratch prefix, then build and run examples/consumer against it
# with find_package(Pulse), as a user's own project would (`make consumer`).
set -euo pipefail

readonly ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly BUILD="$ROOT/build/release"
readonly WORK="$ROOT/build/consumer"

rm -rf "$WORK"
printf '\n==> Install: cmake --install build/release --prefix %s\n' "$WORK/prefix"
cmake --install "$BUILD" --prefix "$WORK/prefix" >/dev/null
printf '\n==> Configure and build examples/consumer with CMAKE_PREFIX_PATH=%s\n' "$WORK/prefix"
cmake -S "$ROOT/examples/consumer" -B "$WORK/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$WORK/prefix" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
cmake --build "$WORK/build"
printf '\n==> Run: pulse_consumer examples/data/sliding_avg.jsonl device (first 5 results)\n'
"$WORK/build/pulse_consumer" "$ROOT/examples/data/sliding_avg.jsonl" device >"$WORK/results.jsonl"
head -n 5 "$WORK/results.jsonl"
printf '(%s results in %s)\n' "$(wc -l <"$WORK/results.jsonl" | tr -d ' ')" "$WORK/results.jsonl"
