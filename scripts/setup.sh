#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install what Pulse needs to build and test on Debian 12 (idempotent: installed packages are
# skipped, so a second run is fast and offline), then configure and build the `release` preset.
#
# Usage: scripts/setup.sh [--deps-only]
#   --deps-only   install the packages, do not build
# Environment: PULSE_JOBS=N limits parallel compile jobs (default: Ninja's choice).
set -euo pipefail

readonly ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Everything the build and the tests use. rocksdb, rdkafka and cpp-httplib are for the state,
# Kafka and metrics parts; python3 for scripts/ and test helpers.
readonly PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libsimdjson-dev libtomlplusplus-dev libcli11-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libcpp-httplib-dev librocksdb-dev librdkafka-dev
  python3 python3-venv
)

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'setup.sh: error: %s\n' "$*" >&2; exit 1; }

deps_only=false
for arg in "$@"; do
  case "$arg" in
    --deps-only) deps_only=true ;;
    -h|--help) sed -n '3,8p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$arg' (try --help)" ;;
  esac
done

install_packages() {
  command -v dpkg-query >/dev/null 2>&1 ||
    die "dpkg-query not found: this script supports Debian 12 (or a close derivative)." \
        "Install these by hand: ${PACKAGES[*]}"

  local missing=() pkg
  for pkg in "${PACKAGES[@]}"; do
    if [[ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" != "installed" ]]; then
      missing+=("$pkg")
    fi
  done
  if ((${#missing[@]} == 0)); then
    step "Dependencies: all ${#PACKAGES[@]} packages are installed"
    return
  fi

  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null 2>&1 ||
      die "not root and sudo is missing; as root run: apt-get install ${missing[*]}"
    sudo=(sudo)
  fi
  step "Dependencies: installing ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -q --no-install-recommends "${missing[@]}"
}

build() {
  cd "$ROOT"
  step "Configure: cmake --preset release (build/release)"
  cmake --preset release --log-level=NOTICE
  step "Build: cmake --build --preset release"
  cmake --build --preset release ${PULSE_JOBS:+--parallel "$PULSE_JOBS"}
  step "Built: $ROOT/build/release/bin/pulse"
}

install_packages
if ! $deps_only; then
  build
fi
