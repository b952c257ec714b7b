#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The Flink peer of the benchmark harness (bench/peers/flink/README.md).
#   run.sh setup                                            build the job (idempotent)
#   run.sh run QUERY INPUT.jsonl OUTPUT_DIR WORKERS [OUT_OF_ORDERNESS_MS]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
build="$root/build/peers/flink"
classes="$build/target/classes"
classpath_file="$build/classpath.txt"

setup() {
  command -v mvn >/dev/null || { echo "flink peer: Maven (mvn) is not installed" >&2; exit 1; }
  command -v java >/dev/null || { echo "flink peer: java is not installed" >&2; exit 1; }
  mkdir -p "$build"
  local stamp="$build/source.sha"
  local sum
  sum="$(cat "$here/pom.xml" "$here"/src/main/java/pulse/peer/*.java | sha256sum | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$sum" && -f "$classpath_file" ]]; then
    echo "$classes"
    return
  fi
  (cd "$here" && mvn -q -B compile dependency:build-classpath -Dmdep.outputFile="$classpath_file" \
     -Dmdep.includeScope=runtime) >&2
  echo "$sum" > "$stamp"
  echo "$classes"
}

run() {
  [[ $# -ge 4 ]] || { echo "usage: run.sh run QUERY INPUT OUTPUT_DIR WORKERS [OUT_OF_ORDERNESS_MS]" >&2; exit 2; }
  [[ -f "$classpath_file" ]] || setup >/dev/null
  mkdir -p "$3"
  # Java 17 needs these opens for Flink's serializers (as Flink's own launch scripts pass).
  local opens=(--add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.util=ALL-UNNAMED
    --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
    --add-opens=java.base/java.nio=ALL-UNNAMED --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
    --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.time=ALL-UNNAMED
    --add-opens=java.base/java.util.concurrent=ALL-UNNAMED --add-opens=java.base/java.text=ALL-UNNAMED
    --add-opens=java.sql/java.sql=ALL-UNNAMED --add-exports=java.base/sun.net.util=ALL-UNNAMED)
  exec java -Xms1g -Xmx${FLINK_PEER_HEAP:-4g} "${opens[@]}" \
    -cp "$classes:$(cat "$classpath_file")" pulse.peer.PulsePeerJob "$@" 2> >(grep -v "SLF4J" >&2)
}

case "${1:-}" in
  setup) setup ;;
  run) shift; run "$@" ;;
  *) echo "usage: run.sh setup | run QUERY INPUT OUTPUT_DIR WORKERS [OUT_OF_ORDERNESS_MS]" >&2; exit 2 ;;
esac
