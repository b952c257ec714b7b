#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Install what Pulse needs to build and test on Debian 12 (idempotent: installed packages are
# skipped, so a second run is fast and offline), then configure and build the `release` preset.
# Python packages (pyarrow, whose Arrow/Parquet C++ libraries the Parquet sink links, and duckdb
# for the Parquet tests) go into the project-local virtualenv .venv/, pinned, also idempotently.
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
  libre2-dev  # the regular expressions of expressions (docs/expressions.md)
  libcpp-httplib-dev librocksdb-dev librdkafka-dev
  python3 python3-venv
  libxml2-utils  # xmllint: the tests validate `pulse test --junit` output against a schema
  wrk chromium   # the observability tests: a scrape load, the status page in headless Chromium
  clang-19 libclang-rt-19-dev  # libFuzzer for scripts/fuzz.sh (docs/hardening.md)
  default-jre-headless maven  # the Kafka broker of the tests and the demo (scripts/kafka.sh)
)

# Pinned Python packages for .venv/ (see docs/parquet.md). pyarrow ships Arrow C++ (headers and
# libarrow/libparquet) in its manylinux_2_28 wheel, built with the C++11 string ABI like Debian's.
readonly VENV="$ROOT/.venv"
readonly PY_PACKAGES=(pyarrow==26.0.1 duckdb==1.5.6)

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

# Create .venv (if missing or broken) and install PY_PACKAGES unless exactly those versions are
# already there.
install_python_packages() {
  local python=/usr/bin/python3
  [[ -x "$python" ]] || python="$(command -v python3)" || die "python3 not found"
  if ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
    step "Python: creating the virtualenv .venv"
    rm -rf "$VENV"
    "$python" -m venv "$VENV" || die "'$python -m venv' failed (Debian: apt-get install python3-venv)"
  fi
  if "$VENV/bin/python" - "${PY_PACKAGES[@]}" <<'PY' 2>/dev/null; then
import sys
from importlib.metadata import version
sys.exit(any(version(n) != v for n, v in (p.split("==") for p in sys.argv[1:])))
PY
    step "Python packages: ${PY_PACKAGES[*]} are installed in .venv"
    return
  fi
  step "Python packages: installing ${PY_PACKAGES[*]} into .venv"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PY_PACKAGES[@]}"
}

# promtool (the observability tests check the /metrics format with it) ships in Debian's
# prometheus package, whose installation would also start a Prometheus server; so only the
# promtool binary (static) is unpacked from the package into .tools/bin, once.
readonly TOOLS="$ROOT/.tools"
install_promtool() {
  if [[ -x "$TOOLS/bin/promtool" ]] || command -v promtool >/dev/null 2>&1; then
    step "promtool: present"
    return
  fi
  step "promtool: unpacking it from Debian's prometheus package into .tools/bin"
  local tmp
  tmp="$(mktemp -d)"
  if ! (cd "$tmp" && apt-get download -q prometheus >/dev/null 2>&1); then
    local sudo=()
    ((EUID == 0)) || sudo=(sudo)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    (cd "$tmp" && apt-get download -q prometheus) || die "apt-get download prometheus failed"
  fi
  dpkg-deb -x "$tmp"/prometheus_*.deb "$tmp/root"
  mkdir -p "$TOOLS/bin"
  install -m 755 "$tmp/root/usr/bin/promtool" "$TOOLS/bin/promtool"
  rm -rf "$tmp"
}

# Apache Kafka's jars (for the test broker, docs/kafka.md) from Maven Central into
# .tools/kafka-<version>/, once.
install_kafka() {
  bash "$ROOT/scripts/kafka.sh" fetch || die "fetching Apache Kafka's jars from Maven Central failed"
  step "Kafka broker: Apache Kafka's jars are in .tools/ (scripts/kafka.sh)"
}

build() {
  cd "$ROOT"
  step "Configure: cmake --preset release (build/release)"
  # PULSE_WERROR=ON (set by .ci/run) makes every warning in Pulse's code an error.
  cmake --preset release --log-level=NOTICE "-DPULSE_WERROR=${PULSE_WERROR:-OFF}"
  step "Build: cmake --build --preset release"
  cmake --build --preset release ${PULSE_JOBS:+--parallel "$PULSE_JOBS"}
  step "Built: $ROOT/build/release/bin/pulse"
}

install_packages
install_python_packages
install_promtool
install_kafka
if ! $deps_only; then
  build
fi
