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
import shutil
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build", "bench")
BIN = os.path.join(BUILD, "bin")
DATA = os.path.join(ROOT, "build", "bench-data")


def sample_rss(pid, samples, stop):
    """Append (seconds since start, RSS MiB) of process `pid` every 0.25 s until `stop` is set."""
    start = time.perf_counter()
    while not stop.wait(0.25):
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        samples.append((time.perf_counter() - start, int(line.split()[1]) / 1024))
        except OSError:
            return


def run_timed(cmd, cwd, stdout=subprocess.DEVNULL, rss_samples=None):
    """Run cmd; return (seconds, peak RSS in MiB, stderr text). With a list `rss_samples`, also
    append (seconds, RSS MiB) to it four times a second while the command runs."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=stdout, stderr=subprocess.PIPE)
    stop = threading.Event()
    sampler = None
    if rss_samples is not None:
        sampler = threading.Thread(target=sample_rss, args=(proc.pid, rss_samples, stop))
        sampler.start()
    stderr = proc.stderr.read().decode(errors="replace")
    stop.set()
    if sampler is not None:
        sampler.join()
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"failed ({status}): {' '.join(cmd)}\n{stderr}")
    return seconds, usage.ru_maxrss / 1024.0, stderr


BUDGET_MB = 64  # state.memory_mb of the RocksDB run whose state exceeds its memory budget
DISORDER_MS = 1000  # records arrive up to 1 s out of order; the pipelines' watermark allows 1 s


def generate(name, records, keys, extra=()):
    path = os.path.join(DATA, f"{name}.jsonl")
    stamp = path + ".args"
    args = [os.path.join(BIN, "pulse_bench_gen"), "--records", str(records), "--keys", str(keys),
            "--record-bytes", "100", "--seed", "7", "--disorder-ms", str(DISORDER_MS), *extra,
            "--out", path]
    if os.path.exists(path) and os.path.exists(stamp) and open(stamp).read() == " ".join(args):
        return path
    print(f"generating {path} ({records} records, {keys} keys)", flush=True)
    subprocess.run(args, check=True)
    with open(stamp, "w") as f:
        f.write(" ".join(args))
    return path


def pipeline(path, window, agg, sink, watermark=True):
    """A pipeline config. With `watermark`, the watermark trails the largest event time by the
    data's disorder (windows close as the input goes by, as in a streaming job); without it there
    is no watermark until the input ends, so every window stays open until then."""
    time = ["[time]", f'max_out_of_orderness = "{DISORDER_MS}ms"'] if watermark else []
    lines = ["[source]", 'kind = "file"', f'path = "{path}"', *time, "[window]", *window, "[ops]",
             'count_by = "key"', *agg, "[sink]", *sink]
    return "\n".join(lines) + "\n"


def plan_pipeline(path, sink):
    """Issue 17's benchmark pipeline: a filter, two keys (a field and an expression) and four
    named aggregates, one of them a quantile and one an approximate distinct count."""
    lines = ["[source]", 'kind = "file"', f'path = "{path}"', "[time]",
             f'max_out_of_orderness = "{DISORDER_MS}ms"', "[window]", 'type = "tumbling"',
             'size = "60s"', "[ops]", 'where = "value >= 100"',
             'key = ["key", "value % 4 as bucket"]', "[ops.aggregates]", 'n = "count(*)"',
             'total = "sum(value)"', 'p99 = "quantile(value, 0.99)"',
             'values = "approx_distinct(value)"', "[sink]", *sink]
    return "\n".join(lines) + "\n"


def rss_profile(samples):
    """RSS (MiB) at 25%, 50%, 75% and 95% of a run's samples, or None for a short run."""
    if len(samples) < 8:
        return None
    return [samples[min(len(samples) - 1, int(len(samples) * q))][1]
            for q in (0.25, 0.5, 0.75, 0.95)]


def count_result_lines(path):
    """Lines in a file, or in every visible file under a directory."""
    files = [path] if os.path.isfile(path) else [
        os.path.join(d, f) for d, _, names in os.walk(path) for f in names
        if not f.startswith((".", "_"))]
    total = 0
    for name in files:
        with open(name, "rb") as f:
            total += sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 20), b""))
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=10_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="1M records, 1 run (smoke test)")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "PERFORMANCE.md"))
    ap.add_argument("--micro-min-time", type=float, default=0.5,
                    help="seconds per Google Benchmark micro-benchmark (--benchmark_min_time)")
    ap.add_argument("--no-micro", action="store_true", help="skip the micro-benchmarks")
    ap.add_argument("--peers", action="store_true",
                    help="also run the peers in bench/peers/ (Flink, Bytewax)")
    ap.add_argument("--peer-runs", type=int, default=1, help="runs per peer scenario")
    ap.add_argument("--flink-records", type=int, default=10_000_000,
                    help="records for Flink (at most --records)")
    ap.add_argument("--bytewax-records", type=int, default=1_000_000,
                    help="records for Bytewax (at most --records)")
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
        # The same 1M keys with no watermark until the end: every window stays open (about
        # 10M (window, key) pairs at the end), the memory-bound worst case.
        ("tumbling_1m_nowm_w1", "tumbling 60s count, 1M keys, no watermark until the end",
         t1m, size_1m, pipeline(t1m, tumbling, count, jsonl_sink, watermark=False), 1),
    ]
    # Issue 17: where + two keys + four named aggregates against the single count above.
    scenarios += [
        ("plan_1k_w1", "tumbling 60s, where + 2 keys + count, sum, quantile, approx_distinct, "
         "1K keys", t1k, size_1k, plan_pipeline(t1k, jsonl_sink), 1),
        ("plan_1k_w2", "tumbling 60s, where + 2 keys + count, sum, quantile, approx_distinct, "
         "1K keys", t1k, size_1k, plan_pipeline(t1k, jsonl_sink), 2),
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
        # State larger than a set memory budget: the no-watermark worst case above (every
        # window open until the end) with its windows in RocksDB, given 64 MiB.
        ("budget_1m_rocksdb_w1", "tumbling 60s count, 1M keys, no watermark until the end, "
         f"RocksDB with state.memory_mb = {BUDGET_MB}", t1m, size_1m,
         pipeline(t1m, tumbling, count, jsonl_sink, watermark=False) +
         f'[state]\nbackend = "rocksdb"\npath = "rocksdb-work"\nmemory_mb = {BUDGET_MB}\n', 1),
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
        # RocksDB-live windows run many times longer than the rest: one run is enough to compare.
        runs = 1 if config is not None and 'backend = "rocksdb"' in config else args.runs
        for _ in range(runs):
            if config is None:
                cmd = [os.path.join(BIN, "pulse_bench_floor"), data, "60000", "event_time", "key"]
            else:
                with open(os.path.join(work, "p.toml"), "w") as f:
                    f.write(config)
                cmd = [pulse, "run", "-c", "p.toml", "--workers", str(workers)]
                if "[checkpoint]" in config:
                    cmd.append("--fresh")  # each run starts over instead of resuming
            samples = []
            s, r, _ = run_timed(cmd, work, rss_samples=samples)
            times.append(s)
            rss.append(r)
        med = statistics.median(times)
        flat = rss_profile(samples)
        results[sid] = dict(desc=desc, workers=workers, seconds=med, rps=args.records / med,
                            mbps=size / med / 1e6, rss=max(rss), runs=times, data=data,
                            config=config, rss_profile=flat)
        if config is not None and 'kind = "file"\npath = "out.jsonl"' in config:
            results[sid]["results"] = count_result_lines(os.path.join(work, "out.jsonl"))
        print(f"{sid:18s} {med:7.2f} s {args.records / med / 1e6:6.2f} M rec/s "
              f"{size / med / 1e6:7.1f} MB/s {max(rss):7.0f} MiB", flush=True)

    peers = run_peers(args, results, work) if args.peers else []
    micro = [] if args.no_micro else run_micro(args.micro_min_time)
    write_report(args, results, has_parquet, micro, peers)


# Peer engines (bench/peers/<peer>/run.sh, see bench/peers/README.md): the Pulse scenarios they
# run, as (Pulse scenario id, peer query).
PEER_SCENARIOS = [("tumbling_1k_w1", "tumbling_count"), ("tumbling_1k_w2", "tumbling_count"),
                  ("tumbling_1m_w1", "tumbling_count"), ("sliding_1k_w1", "sliding_avg"),
                  ("session_1k_w1", "session_count")]


def run_peers(args, results, work):
    """Run each peer on the Pulse scenarios it can run. A peer slower than Pulse by far runs on
    the first `--<peer>-records` records of the same data set (generated with the same seed), and
    Pulse runs once more on that smaller set, so both rates come from the same input. Returns
    rows: dict(peer, sid, query, records, seconds, rps, rss, results, pulse_rps, pulse_results)."""
    rows = []
    for peer, limit in (("flink", args.flink_records), ("bytewax", args.bytewax_records)):
        exe = os.path.join(ROOT, "bench", "peers", peer, "run.sh")
        setup = subprocess.run(["bash", exe, "setup"], capture_output=True, text=True)
        if setup.returncode != 0:
            print(f"{peer}: setup failed, not measured\n{setup.stderr[-2000:]}", flush=True)
            rows.append(dict(peer=peer, error="setup failed: " + setup.stderr.strip()[-200:]))
            continue
        records = min(limit, args.records)
        for sid, query in PEER_SCENARIOS:
            if sid not in results:
                continue
            pulse = results[sid]
            data, pulse_rps, pulse_results = pulse["data"], pulse["rps"], pulse.get("results")
            if records < args.records:  # a smaller copy, and Pulse measured again on it
                keys = 1_000_000 if "_1m_" in sid else 1000
                data = generate(f"keys{keys // 1000}k_{records}", records, keys)
                with open(os.path.join(work, "p.toml"), "w") as f:
                    f.write(pulse["config"].replace(pulse["data"], data))
                s, _, _ = run_timed([os.path.join(BIN, "pulse"), "run", "-c", "p.toml",
                                     "--workers", str(pulse["workers"])], work)
                pulse_rps = records / s
                pulse_results = count_result_lines(os.path.join(work, "out.jsonl"))
            out = os.path.join(work, f"{peer}-out")
            times, rss = [], []
            for _ in range(args.peer_runs):
                shutil.rmtree(out, ignore_errors=True)
                os.makedirs(out)
                s, r, _ = run_timed(["bash", exe, "run", query, data, out, str(pulse["workers"]),
                                     str(DISORDER_MS)], work)
                times.append(s)
                rss.append(r)
            med = statistics.median(times)
            row = dict(peer=peer, sid=sid, query=query, records=records, seconds=med,
                       rps=records / med, rss=max(rss), results=count_result_lines(out),
                       pulse_rps=pulse_rps, pulse_results=pulse_results)
            rows.append(row)
            print(f"{peer:8s} {sid:18s} {med:7.2f} s {row['rps'] / 1e6:6.3f} M rec/s "
                  f"{row['rss']:7.0f} MiB results {row['results']} (Pulse {pulse_results}); "
                  f"Pulse/{peer} {pulse_rps / row['rps']:.1f}x", flush=True)
    return rows


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


NOTES = """## Reading the results

- The floor reads the whole file into memory first (hence its RSS) and writes nothing; Pulse
  streams the file, writes every result, and keeps its memory flat.
- With 2 workers on 2 cores, the decode threads, the workers and the sink thread share the two
  cores. Scenarios with many results (1M keys: 10M result lines; sliding: 6.7M) are bound by
  formatting and writing results on the sink thread, so a second worker does not help them.
- Peer times include start-up (Flink: a JVM and a local mini-cluster, about 2 s). Bytewax with
  2 workers spreads lines over both workers before keying, which reorders a key's records by
  more than the 1 s bound, so a few records are late there (its result count is lower).
- RocksDB-live windows (`state.backend = "rocksdb"`) keep their hot entries in a write-back
  cache and cost a Get and a Put per (window, key) and cache round (sessions: per record); they
  are for state larger than memory, not for speed (docs/checkpoints.md).
"""

# User counters of the micro-benchmarks shown in the report.
MICRO_COUNTERS = ("open_windows", "rss_bytes_per_open_window", "results_per_record")


def micro_rows(entries):
    """Markdown rows: benchmark, label, CPU time per iteration, items/s, MB/s (Google Benchmark
    computes the rates from CPU time, which a busy machine disturbs less than wall time)."""
    rows = []
    for e in entries:
        if e.get("error_occurred"):
            rows.append(f"| {e['name']} | error: {e.get('error_message', '')} | | | | |")
            continue
        items = e.get("items_per_second")
        mbps = e.get("bytes_per_second")
        counters = ", ".join(f"{c} {e[c]:,.1f}" for c in MICRO_COUNTERS if c in e)
        rows.append(f"| {e['name']} | {e.get('label', '')} | "
                    f"{e['cpu_time']:.1f} {e['time_unit']} | "
                    f"{'' if items is None else f'{items / 1e6:.2f} M'} | "
                    f"{'' if mbps is None else f'{mbps / 1e6:.0f}'} | {counters} |")
    return rows


def ratio(results, a, b, invert=False, key="seconds"):
    if a not in results or b not in results:
        return None
    x, y = results[a][key], results[b][key]
    return y / x if invert else x / y


def write_report(args, r, has_parquet, micro=(), peers=()):
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
    out.append(f"Data: `pulse_bench_gen` JSONL, one record per 10 ms of event time, up to "
               f"{DISORDER_MS} ms out of order, keys uniform over 1K or 1M. Pipelines set "
               f"`time.max_out_of_orderness = \"{DISORDER_MS}ms\"` (windows close as the input "
               "goes by) except the one marked *no watermark until the end*. `results` is the "
               "number of result lines written.\n")
    out.append("| scenario | workers | median s | records/s | MB/s | peak RSS MiB | results |")
    out.append("|---|---|---|---|---|---|---|")
    for sid, v in r.items():
        out.append(f"| {v['desc']} | {v['workers']} | {v['seconds']:.2f} | "
                   f"{v['rps'] / 1e6:.2f} M | {v['mbps']:.0f} | {v['rss']:.0f} | "
                   f"{v.get('results', '')} |")
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
    row("where + 2 keys + 4 aggregates (quantile, approx_distinct) at most 1.5 × the single "
        "count's time (1 worker)", ratio(r, "plan_1k_w1", "tumbling_1k_w1"), lambda x: x <= 1.5)
    row("Parquet out at most 20% slower than JSONL out (time ratio ≤ 1.2)",
        ratio(r, "parquet_1k_w1", "tumbling_1k_w1") if has_parquet else None,
        lambda x: x <= 1.2)
    memory = [e.get("rss_bytes_per_open_window") for e in micro
              if e.get("open_windows", 0) >= 10_000_000 and "rss_bytes_per_open_window" in e]
    row("memory backend: ≤ 64 B of RSS per open (window, key) count at 10M open windows "
        "(micro-benchmark, largest)", max(memory) if memory else None, lambda x: x <= 64,
        "{:.1f}")
    prof = r.get("tumbling_1k_w1", {}).get("rss_profile")
    row("RSS flat while open windows stay bounded (tumbling 1K, 1 worker: largest / smallest "
        "RSS between 25% and 95% of the run; ≤ 1.2)",
        max(prof) / min(prof) if prof else None, lambda x: x <= 1.2)
    budget = r.get("budget_1m_rocksdb_w1")
    row(f"RocksDB, state over a {BUDGET_MB} MiB budget (no watermark, 1M keys): peak RSS as a "
        "share of the same run's on the heap (< 1)",
        ratio(r, "budget_1m_rocksdb_w1", "tumbling_1m_nowm_w1", key="rss") if budget else None,
        lambda x: x < 1)
    flink = [p for p in peers if p.get("peer") == "flink" and "rps" in p]
    row("Pulse ≥ 20 × Flink's records/s on every scenario both run (smallest ratio)",
        min((p["pulse_rps"] / p["rps"] for p in flink), default=None), lambda x: x >= 20,
        "{:.1f}")
    out.append("\nRatios are of median wall times from this one run.\n")
    profiles = [(v, v["rss_profile"]) for v in r.values() if v.get("rss_profile")]
    if profiles:
        out.append("## Memory over a run\n")
        out.append("RSS (MiB) of the last run of each scenario, sampled four times a second, at "
                   "25%, 50%, 75% and 95% of its duration. With a watermark the open windows "
                   "stay bounded and so should RSS; without one they grow until the end.\n")
        out.append("| scenario | workers | 25% | 50% | 75% | 95% |")
        out.append("|---|---|---|---|---|---|")
        for v, p in profiles:
            out.append(f"| {v['desc']} | {v['workers']} | " + " | ".join(f"{x:.0f}" for x in p)
                       + " |")
        out.append("")
    if peers:
        out.append("## Peers\n")
        out.append("Same data and queries (bench/peers/: Flink DataStream job, Bytewax dataflow; "
                   "JSON parsing included, event time with the same bounded out-of-orderness, "
                   f"median of {args.peer_runs} run(s), wall time including start-up). A peer "
                   "that runs on fewer records than Pulse's data set reads the first records "
                   "of the same stream, and the Pulse rate in its row is measured again on "
                   "that smaller file. `results` counts result lines; equal counts with Pulse "
                   "mean the same windows were emitted.\n")
        out.append("| peer | scenario | records | peer s | peer records/s | peer peak RSS MiB "
                   "| Pulse records/s | Pulse / peer | results (peer / Pulse) |")
        out.append("|---|---|---|---|---|---|---|---|---|")
        for p in peers:
            if "error" in p:
                out.append(f"| {p['peer']} | not measured: {p['error']} | | | | | | | |")
                continue
            out.append(f"| {p['peer']} | {r[p['sid']]['desc']}, {r[p['sid']]['workers']} "
                       f"worker(s) | {p['records']:,} | {p['seconds']:.2f} | "
                       f"{p['rps'] / 1e6:.3f} M | {p['rss']:.0f} | {p['pulse_rps'] / 1e6:.2f} M | "
                       f"{p['pulse_rps'] / p['rps']:.1f}× | {p['results']} / "
                       f"{p['pulse_results']} |")
        out.append("")
    out.append(NOTES)
    if micro:
        out.append("## Micro-benchmarks\n")
        out.append("Google Benchmark (`bin/pulse_micro_benchmarks`, `bench/*_benchmark.cc`), "
                   f"{args.micro_min_time} s per benchmark, same build and run. Window "
                   "benchmarks feed one operator instance 4096-record batches of 1 ms-spaced "
                   "records (argument: keys) and advance the watermark after each batch; "
                   "items are records.\n")
        out.append("| benchmark | label | CPU time per iteration | items/s | MB/s | counters |")
        out.append("|---|---|---|---|---|---|")
        out.extend(micro_rows(micro))
        out.append("")
    with open(args.out, "w") as f:
        f.write("\n".join(out))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
