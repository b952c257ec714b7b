#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Pulse benchmark harness: generate data sets, run every scenario several times, write
docs/PERFORMANCE.md with medians (records/s, MB/s, peak RSS) and the ratios the performance
issue sets as targets. All figures come from one run, so ratios hold on a noisy machine.

    python3 bench/run.py [--records N] [--runs R] [--quick] [--peers] [--out docs/PERFORMANCE.md]
                         [--micro-min-time S] [--no-micro]

It expects a Release build with benchmarks in build/bench (`make bench` does everything).
"""
import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build", "bench")
BIN = os.path.join(BUILD, "bin")
DATA = os.path.join(ROOT, "build", "bench-data")


def run_timed(cmd, cwd, stdout=subprocess.DEVNULL):
    """Run cmd; return (seconds, peak RSS in MiB, stderr text)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=stdout, stderr=subprocess.PIPE)
    stderr = proc.stderr.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed ({status}): {' '.join(cmd)}\n{stderr}")
    return seconds, usage.ru_maxrss / 1024.0, stderr


def generate(name, records, keys, extra=()):
    path = os.path.join(DATA, f"{name}.jsonl")
    stamp = path + ".args"
    args = [os.path.join(BIN, "pulse_bench_gen"), "--records", str(records), "--keys", str(keys),
            "--record-bytes", "100", "--seed", "7", *extra, "--out", path]
    if os.path.exists(path) and os.path.exists(stamp) and open(stamp).read() == " ".join(args):
        return path
    print(f"generating {path} ({records} records, {keys} keys)", flush=True)
    subprocess.run(args, check=True)
    with open(stamp, "w") as f:
        f.write(" ".join(args))
    return path


def pipeline(path, window, agg, sink):
    lines = ["[source]", 'kind = "file"', f'path = "{path}"', "[window]", *window, "[ops]",
             'count_by = "key"', *agg, "[sink]", *sink]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=10_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="1M records, 1 run (smoke test)")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "PERFORMANCE.md"))
    ap.add_argument("--micro-min-time", type=float, default=0.5,
                    help="seconds per Google Benchmark micro-benchmark (--benchmark_min_time)")
    ap.add_argument("--no-micro", action="store_true", help="skip the micro-benchmarks")
    args = ap.parse_args()
    if args.quick:
        args.records, args.runs = 1_000_000, 1
    os.makedirs(DATA, exist_ok=True)
    work = os.path.join(DATA, "work")
    os.makedirs(work, exist_ok=True)

    t1k = generate("keys1k", args.records, 1000)
    t1m = generate("keys1m", args.records, 1_000_000)
    size_1k = os.path.getsize(t1k)
    size_1m = os.path.getsize(t1m)
    pulse = os.path.join(BIN, "pulse")
    jsonl_sink = ['kind = "file"', 'path = "out.jsonl"']
    parquet_sink = ['kind = "parquet"', 'out_dir = "out-parquet"']
    tumbling = ['type = "tumbling"', 'size = "60s"']
    sliding = ['type = "sliding"', 'size = "60s"', 'slide = "15s"']
    session = ['type = "session"', 'gap = "5s"']
    count = []
    avg = ['agg = "avg"', 'agg_field = "value"']

    scenarios = [
        # (id, description, data, size, config or None for the floor, workers)
        ("floor", "floor: simdjson document stream + hash map, 1 thread", t1k, size_1k, None, 1),
        ("tumbling_1k_w1", "tumbling 60s count, 1K keys, JSONL out", t1k, size_1k,
         pipeline(t1k, tumbling, count, jsonl_sink), 1),
        ("tumbling_1k_w2", "tumbling 60s count, 1K keys, JSONL out", t1k, size_1k,
         pipeline(t1k, tumbling, count, jsonl_sink), 2),
        ("tumbling_1m_w1", "tumbling 60s count, 1M keys, JSONL out", t1m, size_1m,
         pipeline(t1m, tumbling, count, jsonl_sink), 1),
        ("tumbling_1m_w2", "tumbling 60s count, 1M keys, JSONL out", t1m, size_1m,
         pipeline(t1m, tumbling, count, jsonl_sink), 2),
        ("sliding_1k_w1", "sliding 60s/15s avg, 1K keys, JSONL out", t1k, size_1k,
         pipeline(t1k, sliding, avg, jsonl_sink), 1),
        ("sliding_1k_w2", "sliding 60s/15s avg, 1K keys, JSONL out", t1k, size_1k,
         pipeline(t1k, sliding, avg, jsonl_sink), 2),
        ("session_1k_w1", "session 5s count, 1K keys, JSONL out", t1k, size_1k,
         pipeline(t1k, session, count, jsonl_sink), 1),
        ("session_1k_w2", "session 5s count, 1K keys, JSONL out", t1k, size_1k,
         pipeline(t1k, session, count, jsonl_sink), 2),
    ]
    # Checkpoints every second (issue 5): the cost against the same scenario without them.
    def checkpointed(path, backend):
        return pipeline(path, tumbling, count, jsonl_sink) + (
            f'[checkpoint]\ndir = "ck"\ninterval = "1s"\n[state]\nbackend = "{backend}"\n')
    scenarios += [
        ("ckpt_1k_memory_w2", "tumbling 60s count, 1K keys, checkpoints every 1s (memory)",
         t1k, size_1k, checkpointed(t1k, "memory"), 2),
        ("ckpt_1m_memory_w2", "tumbling 60s count, 1M keys, checkpoints every 1s (memory)",
         t1m, size_1m, checkpointed(t1m, "memory"), 2),
        ("ckpt_1m_rocksdb_w2", "tumbling 60s count, 1M keys, checkpoints every 1s (rocksdb)",
         t1m, size_1m, checkpointed(t1m, "rocksdb"), 2),
    ]
    has_parquet = subprocess.run([pulse, "validate", "/dev/stdin"], input=pipeline(
        t1k, tumbling, count, parquet_sink).encode(), capture_output=True).returncode == 0
    if has_parquet:
        scenarios += [
            ("parquet_1k_w1", "tumbling 60s count, 1K keys, Parquet out", t1k, size_1k,
             pipeline(t1k, tumbling, count, parquet_sink), 1),
            ("parquet_1k_w2", "tumbling 60s count, 1K keys, Parquet out", t1k, size_1k,
             pipeline(t1k, tumbling, count, parquet_sink), 2),
        ]

    results = {}
    for sid, desc, data, size, config, workers in scenarios:
        times, rss = [], []
        for _ in range(args.runs):
            if config is None:
                cmd = [os.path.join(BIN, "pulse_bench_floor"), data, "60000", "event_time", "key"]
            else:
                with open(os.path.join(work, "p.toml"), "w") as f:
                    f.write(config)
                cmd = [pulse, "run", "-c", "p.toml", "--workers", str(workers)]
                if "[checkpoint]" in config:
                    cmd.append("--fresh")  # each run starts over instead of resuming
            s, r, _ = run_timed(cmd, work)
            times.append(s)
            rss.append(r)
        med = statistics.median(times)
        results[sid] = dict(desc=desc, workers=workers, seconds=med, rps=args.records / med,
                            mbps=size / med / 1e6, rss=max(rss), runs=times)
        print(f"{sid:18s} {med:7.2f} s {args.records / med / 1e6:6.2f} M rec/s "
              f"{size / med / 1e6:7.1f} MB/s {max(rss):7.0f} MiB", flush=True)

    micro = [] if args.no_micro else run_micro(args.micro_min_time)
    write_report(args, results, has_parquet, micro)


def run_micro(min_time):
    """Run bin/pulse_micro_benchmarks (Google Benchmark); return its JSON benchmark entries."""
    exe = os.path.join(BIN, "pulse_micro_benchmarks")
    if not os.path.exists(exe):
        print(f"no {exe}: micro-benchmarks skipped", flush=True)
        return []
    print("micro-benchmarks", flush=True)
    proc = subprocess.run([exe, "--benchmark_format=json",
                           f"--benchmark_min_time={min_time}"],
                          capture_output=True, text=True, check=True)
    entries = json.loads(proc.stdout)["benchmarks"]
    for e in entries:
        print(f"  {e['name']:45s} {e['cpu_time']:10.1f} {e['time_unit']} CPU", flush=True)
    return entries


def micro_rows(entries):
    """Markdown rows: benchmark, label, CPU time per iteration, items/s, MB/s (Google Benchmark
    computes the rates from CPU time, which a busy machine disturbs less than wall time)."""
    rows = []
    for e in entries:
        if e.get("error_occurred"):
            rows.append(f"| {e['name']} | error: {e.get('error_message', '')} | | | |")
            continue
        items = e.get("items_per_second")
        mbps = e.get("bytes_per_second")
        rows.append(f"| {e['name']} | {e.get('label', '')} | "
                    f"{e['cpu_time']:.1f} {e['time_unit']} | "
                    f"{'' if items is None else f'{items / 1e6:.2f} M'} | "
                    f"{'' if mbps is None else f'{mbps / 1e6:.0f}'} |")
    return rows


def ratio(results, a, b, invert=False):
    if a not in results or b not in results:
        return None
    x, y = results[a]["seconds"], results[b]["seconds"]
    return y / x if invert else x / y


def write_report(args, r, has_parquet, micro=()):
    def fmt(v, spec="{:.2f}"):
        return "n/a" if v is None else spec.format(v)

    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    version = subprocess.run([os.path.join(BIN, "pulse"), "--version"], capture_output=True,
                             text=True).stdout.strip()
    out = []
    out.append("# Pulse performance\n")
    out.append(f"Generated by `make bench` (bench/run.py) on {datetime.date.today()}: "
               f"{version}, {platform.system()} {platform.release()}, {os.cpu_count()} cores "
               f"({cpu}), {args.records:,} records of about 100 bytes per data set, median of "
               f"{args.runs} run(s). Reproduce with `make bench`.\n")
    out.append("| scenario | workers | median s | records/s | MB/s | peak RSS MiB |")
    out.append("|---|---|---|---|---|---|")
    for sid, v in r.items():
        out.append(f"| {v['desc']} | {v['workers']} | {v['seconds']:.2f} | "
                   f"{v['rps'] / 1e6:.2f} M | {v['mbps']:.0f} | {v['rss']:.0f} |")
    out.append("\n## Targets\n")
    out.append("| target | measured | met |")
    out.append("|---|---|---|")

    def row(name, value, ok, spec="{:.2f}"):
        out.append(f"| {name} | {fmt(value, spec)} | "
                   f"{'n/a' if value is None else ('yes' if ok(value) else 'no')} |")

    row("tumbling 1K, 1 worker: time ≤ 1.5 × floor", ratio(r, "tumbling_1k_w1", "floor"),
        lambda x: x <= 1.5)
    row("tumbling 1K, 2 workers: faster than the floor (time ratio < 1)",
        ratio(r, "tumbling_1k_w2", "floor"), lambda x: x < 1)
    row("sliding (size/slide 4) ≥ 70% of tumbling throughput",
        ratio(r, "sliding_1k_w1", "tumbling_1k_w1", invert=True), lambda x: x >= 0.7)
    row("session ≥ 50% of tumbling throughput",
        ratio(r, "session_1k_w1", "tumbling_1k_w1", invert=True), lambda x: x >= 0.5)
    row("1M keys ≥ 50% of 1K-key throughput",
        ratio(r, "tumbling_1m_w1", "tumbling_1k_w1", invert=True), lambda x: x >= 0.5)
    row("Parquet out at most 20% slower than JSONL out (time ratio ≤ 1.2)",
        ratio(r, "parquet_1k_w1", "tumbling_1k_w1") if has_parquet else None,
        lambda x: x <= 1.2)
    out.append("\nRatios are of median wall times from this one run. Peers (Flink, Bytewax) "
               "are not measured yet.\n")
    if micro:
        out.append("## Micro-benchmarks\n")
        out.append("Google Benchmark (`bin/pulse_micro_benchmarks`, `bench/*_benchmark.cc`), "
                   f"{args.micro_min_time} s per benchmark, same build and run. Window "
                   "benchmarks feed one operator instance 4096-record batches of 1 ms-spaced "
                   "records (argument: keys) and advance the watermark after each batch; "
                   "items are records.\n")
        out.append("| benchmark | label | CPU time per iteration | items/s | MB/s |")
        out.append("|---|---|---|---|---|")
        out.extend(micro_rows(micro))
        out.append("")
    with open(args.out, "w") as f:
        f.write("\n".join(out))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
