#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Bytewax peer of the benchmark harness (bench/peers/bytewax/README.md).
#   run.sh setup                                            virtualenv + pinned packages (idempotent)
#   run.sh run QUERY INPUT.jsonl OUTPUT_DIR WORKERS [OUT_OF_ORDERNESS_MS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
build="$root/build/peers/bytewax"
venv="$build/venv"

setup() {
  mkdir -p "$build"
  if [[ -x "$venv/bin/python" ]] && cmp -s "$here/requirements.txt" "$build/requirements.txt"; then
    return
  fi
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$here/requirements.txt" >&2
  cp "$here/requirements.txt" "$build/requirements.txt"
}

run() {
  [[ $# -ge 4 ]] || { echo "usage: run.sh run QUERY INPUT OUTPUT_DIR WORKERS [OUT_OF_ORDERNESS_MS]" >&2; exit 2; }
  setup
  mkdir -p "$3"
  PEER_QUERY="$1" PEER_INPUT="$(realpath "$2")" PEER_OUTPUT="$(realpath "$3")/results.jsonl" \
    PEER_BOUND_MS="${5:-1000}" PYTHONPATH="$here" \
    exec "$venv/bin/python" -m bytewax.run dataflow:flow -w "$4"
}

case "${1:-}" in
  setup) setup ;;
  run) shift; run "$@" ;;
  *) echo "usage: run.sh setup | run QUERY INPUT OUTPUT_DIR WORKERS [OUT_OF_ORDERNESS_MS]" >&2; exit 2 ;;
esac
