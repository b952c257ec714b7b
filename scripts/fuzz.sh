#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Build the libFuzzer programs of fuzz/ with clang (ASan + UBSan) into build/fuzz, then run each
# for a bounded time. Exits non-zero if any target finds a crash, a leak or a hang.
#
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
#   SECONDS_PER_TARGET  default 60 (CI runs 15); TARGETs default to all of fuzz/corpus/*/.
# New inputs that reach new code are kept in build/fuzz/corpus/<target>/ (never in the repo).
# A failure leaves build/fuzz/artifacts/<target>/crash-* (or leak-*, timeout-*) and its log in
# build/fuzz/logs/<target>.log; fix it, then copy the input into fuzz/corpus/<target>/ so that
# the fuzz_corpus.<target> ctest test replays it in every build (docs/hardening.md).
# Environment: PULSE_JOBS=N limits parallel compile jobs; CXX overrides the compiler
# (default clang++-19, else clang++).
set -euo pipefail

readonly ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly BUILD="$ROOT/build/fuzz"

seconds="${1:-60}"
shift || true
die() { printf 'fuzz.sh: %s\n' "$*" >&2; exit 2; }
[[ "$seconds" =~ ^[0-9]+$ ]] || die "SECONDS_PER_TARGET must be a number, got '$seconds'"
targets=("$@")
if ((${#targets[@]} == 0)); then
  for dir in "$ROOT"/fuzz/corpus/*/; do targets+=("$(basename "$dir")"); done
fi

# clang 16 or later (C++20 lambdas capture structured bindings); Debian 12 has clang-19.
cxx="${CXX:-}"
if [[ -z "$cxx" ]]; then
  for candidate in clang++-19 clang++; do
    if command -v "$candidate" >/dev/null 2>&1; then cxx="$candidate"; break; fi
  done
fi
[[ -n "$cxx" ]] && command -v "$cxx" >/dev/null 2>&1 ||
  die "clang++ not found (Debian: apt-get install clang-19 libclang-rt-19-dev; setup.sh does)"

printf '\n==> Fuzz: build the fuzzers with %s into build/fuzz\n' "$cxx"
# Debug at -O1: PULSE_DCHECKs stay on and the fuzzers still run fast.
cmake -S "$ROOT" -B "$BUILD" -G Ninja --log-level=WARNING \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-g -O1" \
  -DPULSE_BUILD_FUZZERS=ON -DPULSE_SANITIZE=address -DPULSE_BUILD_TESTS=OFF \
  -DPULSE_WITH_PARQUET=OFF >/dev/null
cmake --build "$BUILD" --target fuzzers ${PULSE_JOBS:+--parallel "$PULSE_JOBS"}

# A leak or a UBSan report is a failure like a crash.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

passed=0
failed=()
printf '\n==> Fuzz: %s s per target: %s\n' "$seconds" "${targets[*]}"
for target in "${targets[@]}"; do
  bin="$BUILD/bin/fuzz/fuzz_$target"
  [[ -x "$bin" ]] || die "no fuzzer '$target' (expected $bin)"
  mkdir -p "$BUILD/corpus/$target" "$BUILD/artifacts/$target" "$BUILD/logs"
  log="$BUILD/logs/$target.log"
  args=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
        -artifact_prefix="$BUILD/artifacts/$target/")
  # The first directory receives new inputs; the seed corpus is only read.
  if "$bin" "${args[@]}" "$BUILD/corpus/$target" "$ROOT/fuzz/corpus/$target" >"$log" 2>&1; then
    runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)"
    cov="$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)"
    printf 'fuzz: %-13s ok: %s inputs in %s s (%s)\n' \
      "$target" "${runs:-?}" "$seconds" "${cov:-cov: ?}"
    passed=$((passed + 1))
  else
    printf 'fuzz: %-13s FAILED; log: %s\n' "$target" "$log"
    grep -E 'ERROR|SUMMARY|check failed|Test unit written' "$log" | head -n 20 || true
    failed+=("$target")
  fi
done
printf 'fuzz: %d passed, %d failed\n' "$passed" "${#failed[@]}"
((${#failed[@]} == 0))
