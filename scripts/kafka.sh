#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A throw-away Apache Kafka broker (KRaft, one combined broker + controller on 127.0.0.1) for
# Pulse's Kafka tests and `make kafka-demo`. Kafka's jars come from Maven Central (mvn) into
# .tools/kafka-<version>/ once; each broker lives in a work directory of its own.
#
# Usage: scripts/kafka.sh fetch               resolve the jars (idempotent; start does it too)
#        scripts/kafka.sh start <workdir>     format storage, start, wait, print host:port
#        scripts/kafka.sh stop <workdir>      stop the broker and delete <workdir>/data
#        scripts/kafka.sh restart <workdir>   stop and start again on the same port and data
#        scripts/kafka.sh demo <bin dir>      `make kafka-demo`: a broker, a generator and a
#                                             pipeline with its status page, until Ctrl-C
#        scripts/kafka.sh bench <bin dir>     throughput and latency figures (docs/kafka.md)
# Files in <workdir>: bootstrap (host:port), broker.pid, broker.log, server.properties, data/.
# Environment: PULSE_KAFKA_VERSION (default 4.1.2), PULSE_KAFKA_HEAP (default 512m).
set -euo pipefail

readonly ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
readonly VERSION="${PULSE_KAFKA_VERSION:-4.1.2}"
readonly HOME_DIR="$ROOT/.tools/kafka-$VERSION"
readonly LIBS="$HOME_DIR/libs"
readonly START_TIMEOUT_S=90

die() { printf 'kafka.sh: error: %s\n' "$*" >&2; exit 1; }
note() { printf 'kafka.sh: %s\n' "$*" >&2; }

# Resolve kafka_2.13 (the broker; kafka.Kafka and kafka.tools.StorageTool) and a log4j2 backend
# with every transitive dependency into $LIBS. A marker file makes a second call a no-op.
fetch() {
  [[ -f "$LIBS/.complete" ]] && return 0
  command -v java >/dev/null 2>&1 || die "java not found (scripts/setup.sh installs default-jre-headless)"
  command -v mvn >/dev/null 2>&1 || die "mvn not found (scripts/setup.sh installs maven)"
  note "resolving Apache Kafka $VERSION from Maven Central into ${HOME_DIR#$ROOT/}"
  mkdir -p "$HOME_DIR"
  cat >"$HOME_DIR/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.pulse</groupId>
  <artifactId>kafka-broker</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_2.13</artifactId>
      <version>$VERSION</version>
    </dependency>
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-api</artifactId>
      <version>2.0.17</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j2-impl</artifactId>
      <version>2.24.3</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>2.24.3</version>
    </dependency>
  </dependencies>
</project>
EOF
  rm -rf "$LIBS.tmp"
  (cd "$HOME_DIR" && mvn -B -q -Dmaven.repo.local="$HOME_DIR/m2" \
      dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LIBS.tmp") \
    >"$HOME_DIR/mvn.log" 2>&1 || { tail -n 30 "$HOME_DIR/mvn.log" >&2; die "mvn failed (log: $HOME_DIR/mvn.log)"; }
  ls "$LIBS.tmp"/kafka_2.13-"$VERSION".jar >/dev/null 2>&1 || die "kafka_2.13-$VERSION.jar missing after mvn"
  touch "$LIBS.tmp/.complete"
  rm -rf "$LIBS" && mv "$LIBS.tmp" "$LIBS"
  # The local repository is only a download cache; the jars are now in libs/.
  rm -rf "$HOME_DIR/m2"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

java_cmd() {
  local dir="$1"
  shift
  java -Xms128m -Xmx"${PULSE_KAFKA_HEAP:-512m}" -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$dir/log4j2.properties" -cp "$LIBS/*" "$@"
}

write_config() {
  local dir="$1" port="$2" controller_port="$3"
  cat >"$dir/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$dir/data
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
log.segment.bytes=16777216
log.retention.check.interval.ms=600000
EOF
  cat >"$dir/log4j2.properties" <<EOF
status = error
appender.file.type = File
appender.file.name = file
appender.file.fileName = $dir/broker.log
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = WARN
EOF
}

# Start the JVM on the config in $dir and wait until the broker answers on its port.
launch() {
  local dir="$1"
  local port
  port="$(cut -d: -f2 "$dir/bootstrap")"
  : >"$dir/broker.log"
  nohup java -Xms128m -Xmx"${PULSE_KAFKA_HEAP:-512m}" -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$dir/log4j2.properties" -cp "$LIBS/*" \
    kafka.Kafka "$dir/server.properties" >"$dir/broker.out" 2>&1 </dev/null &
  echo $! >"$dir/broker.pid"
  local pid deadline=$((SECONDS + START_TIMEOUT_S))
  pid="$(cat "$dir/broker.pid")"
  while ((SECONDS < deadline)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 30 "$dir/broker.out" "$dir/broker.log" >&2 || true
      die "the broker exited during start-up (logs in $dir)"
    fi
    if grep -q "Kafka Server started" "$dir/broker.log" 2>/dev/null &&
       (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      cat "$dir/bootstrap"
      return 0
    fi
    sleep 0.2
  done
  kill -9 "$pid" 2>/dev/null || true
  die "the broker did not start within ${START_TIMEOUT_S}s (logs in $dir)"
}

start() {
  local dir="$1"
  fetch
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  if [[ -f "$dir/broker.pid" ]] && kill -0 "$(cat "$dir/broker.pid")" 2>/dev/null; then
    die "a broker is already running in $dir (pid $(cat "$dir/broker.pid"))"
  fi
  rm -rf "$dir/data"
  local port controller_port
  port="$(free_port)"
  controller_port="$(free_port)"
  while [[ "$controller_port" == "$port" ]]; do controller_port="$(free_port)"; done
  echo "127.0.0.1:$port" >"$dir/bootstrap"
  write_config "$dir" "$port" "$controller_port"
  # Base64url may start with '-': passed as --cluster-id=... so that it is not read as an option.
  local cluster_id
  cluster_id="$(python3 -c 'import base64,os; print(base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode())')"
  java_cmd "$dir" kafka.tools.StorageTool format --cluster-id="$cluster_id" \
    --config="$dir/server.properties" \
    >"$dir/format.log" 2>&1 || { cat "$dir/format.log" >&2; die "formatting the storage failed"; }
  launch "$dir"
}

# Stop the JVM of $dir: SIGTERM (a clean shutdown), then SIGKILL after 20 s.
halt() {
  local dir="$1"
  [[ -f "$dir/broker.pid" ]] || return 0
  local pid
  pid="$(cat "$dir/broker.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    local deadline=$((SECONDS + 20))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$dir/broker.pid"
}

stop() {
  local dir="$1"
  [[ -d "$dir" ]] || return 0
  halt "$dir"
  rm -rf "$dir/data"
}

restart() {
  local dir="$1"
  [[ -f "$dir/bootstrap" ]] || die "no broker was started in $dir"
  halt "$dir"
  launch "$dir"
}

# The demo: broker in out/kafka-demo/, topics events (3 partitions) and counts, a generator of
# 200 events/s, and `pulse run` with exactly-once delivery, checkpoints and the status page.
demo() {
  local bin="$1" dir="$ROOT/out/kafka-demo" port="${PULSE_DEMO_HTTP_PORT:-9898}"
  [[ -x "$bin/pulse" && -x "$bin/pulse-kafka" ]] || die "no pulse and pulse-kafka in $bin (make build)"
  mkdir -p "$dir"
  stop "$dir/broker"
  rm -rf "$dir/ck"
  local brokers
  brokers="$(start "$dir/broker")"
  DEMO_GENERATOR=""
  DEMO_DIR="$dir"
  trap 'demo_cleanup' EXIT
  "$bin/pulse-kafka" create-topic "$brokers" events 3
  "$bin/pulse-kafka" create-topic "$brokers" counts 1
  cat >"$dir/pipeline.toml" <<EOF
# Kafka demo (scripts/kafka.sh demo): 5-second counts per user, exactly once.
[source]
kind = "kafka"
bootstrap_servers = "$brokers"
topic = "events"
group_id = "pulse-demo"
auto_offset_reset = "earliest"
idle_timeout = "5s"

[time]
max_out_of_orderness = "1s"

[window]
type = "tumbling"
size = "5s"

[ops]
count_by = "user"

[sink]
kind = "kafka"
bootstrap_servers = "$brokers"
topic = "counts"
key_field = "key"
delivery = "exactly-once"

[checkpoint]
dir = "$dir/ck"
interval = "2s"
EOF
  "$bin/pulse-kafka" generate "$brokers" events 3 200 &
  DEMO_GENERATOR=$!
  note "broker $brokers; topics events -> counts; pipeline ${dir#$ROOT/}/pipeline.toml"
  note "status page: http://127.0.0.1:$port/"
  note "results: $bin/pulse-kafka read $brokers counts --committed"
  note "Ctrl-C stops the pipeline (after a final checkpoint), the generator and the broker"
  "$bin/pulse" run --config "$dir/pipeline.toml" --http-port "$port" || true
}

demo_cleanup() {
  [[ -n "${DEMO_GENERATOR:-}" ]] && kill "$DEMO_GENERATOR" 2>/dev/null
  stop "$DEMO_DIR/broker"
  note "stopped the generator and the broker"
}

# The benchmarks of docs/kafka.md (not tests): Kafka → tumbling count → Kafka records/s with 1
# and 2 workers on a pre-filled 3-partition topic, and the latency from a window's end to its
# result on the output topic with a live generator. Broker in out/kafka-bench/.
bench() {
  local bin="$1" dir="$ROOT/out/kafka-bench" n="${PULSE_BENCH_EVENTS:-300000}"
  [[ -x "$bin/pulse" && -x "$bin/pulse-kafka" ]] || die "no pulse and pulse-kafka in $bin"
  mkdir -p "$dir"
  stop "$dir/broker"
  local brokers
  brokers="$(start "$dir/broker")"
  DEMO_GENERATOR=""
  DEMO_DIR="$dir"
  trap 'demo_cleanup' EXIT
  "$bin/pulse-kafka" create-topic "$brokers" in 3
  python3 -c "
import sys
for i in range($n):
    sys.stdout.write('{\"event_time\":%d,\"user\":\"u%d\",\"v\":%d}\n' % (i * 10, i % 100, i % 7))
" >"$dir/events.jsonl"
  "$bin/pulse-kafka" produce "$brokers" in 3 <"$dir/events.jsonl"
  local workers
  for workers in 1 2; do
    "$bin/pulse-kafka" create-topic "$brokers" "out-$workers" 1
    bench_config "$brokers" in "out-$workers" "bench-$workers" 1000 10s >"$dir/throughput.toml"
    local port
    port="$(free_port)"
    local start_ns end_ns read=0
    start_ns="$(date +%s%N)"
    "$bin/pulse" run --config "$dir/throughput.toml" --workers "$workers" --http-port "$port" \
      2>"$dir/throughput-$workers.log" &
    local pid=$!
    while ((read < n)); do
      sleep 0.1
      read="$(curl -s "http://127.0.0.1:$port/metrics" |
        awk '/^pulse_source_records_read_total/ {print $2}' | cut -d. -f1)"
      read="${read:-0}"
      kill -0 "$pid" 2>/dev/null || die "pulse stopped early: $(tail -3 "$dir/throughput-$workers.log")"
    done
    end_ns="$(date +%s%N)"
    kill -TERM "$pid"
    wait "$pid" || true
    python3 -c "print('throughput, %d worker(s): %d records in %.2f s = %.0f records/s' % ($workers, $n, ($end_ns - $start_ns) / 1e9, $n / (($end_ns - $start_ns) / 1e9)))"
  done
  # Latency: events stamped with the wall clock, 1 s windows, no out-of-orderness allowance.
  "$bin/pulse-kafka" create-topic "$brokers" live 3
  "$bin/pulse-kafka" create-topic "$brokers" live-out 1
  bench_config "$brokers" live live-out bench-live 0 1s >"$dir/latency.toml"
  "$bin/pulse" run --config "$dir/latency.toml" --workers 2 2>"$dir/latency.log" &
  local pid=$!
  sleep 2
  "$bin/pulse-kafka" generate "$brokers" live 3 2000 20
  sleep 2
  kill -TERM "$pid"
  wait "$pid" || true
  "$bin/pulse-kafka" read "$brokers" live-out --timestamps | python3 -c "
import json, sys
lat = sorted(int(ts) - json.loads(v)['window_end_ms'] for ts, v in (l.rstrip('\n').split('\t', 1) for l in sys.stdin))
pick = lambda q: lat[min(len(lat) - 1, int(q * len(lat)))]
print('latency from window end to the result on the output topic: p50 %d ms, p99 %d ms (%d results; events are produced every 10 ms)' % (pick(0.5), pick(0.99), len(lat)))
"
}

# A Kafka → tumbling count by user → Kafka (at-least-once) pipeline config.
bench_config() {
  local brokers="$1" in="$2" out="$3" group="$4" bound_ms="$5" size="$6"
  cat <<EOF
[source]
kind = "kafka"
bootstrap_servers = "$brokers"
topic = "$in"
group_id = "$group"
auto_offset_reset = "earliest"

[time]
max_out_of_orderness = "${bound_ms}ms"

[window]
type = "tumbling"
size = "$size"

[ops]
count_by = "user"

[sink]
kind = "kafka"
bootstrap_servers = "$brokers"
topic = "$out"
EOF
}

case "${1:-}" in
  fetch) fetch ;;
  bench) [[ $# -eq 2 ]] || die "usage: kafka.sh bench <bin dir>"; bench "$2" ;;
  demo) [[ $# -eq 2 ]] || die "usage: kafka.sh demo <bin dir>"; demo "$2" ;;
  start) [[ $# -eq 2 ]] || die "usage: kafka.sh start <workdir>"; start "$2" ;;
  stop) [[ $# -eq 2 ]] || die "usage: kafka.sh stop <workdir>"; stop "$2" ;;
  restart) [[ $# -eq 2 ]] || die "usage: kafka.sh restart <workdir>"; restart "$2" ;;
  -h|--help|help) sed -n '3,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' ;;
  *) die "unknown command '${1:-}' (try --help)" ;;
esac
