# SPDX-License-Identifier: MIT
"""The Parquet sink's cost in a tumbling-count run (issue 4; a benchmark, not a test).

Generates a seeded JSONL file (default 1,000,000 events, 200,000 keys over 10 minutes, so most
(window, key) pairs give a result), runs the same tumbling 1-minute count with the file sink
(JSON lines) and with the Parquet sink (payload and columns schemas), and prints a Markdown table
of the best of --repeat runs: wall and CPU time (user + system of the pulse process; steadier
than wall time on a busy machine), input records/s and result rows/s, and the CPU time each
sink adds over the file sink.

Usage: python3 bench/parquet_sink.py --pulse build/release/bin/pulse [--events N] [--repeat 3]
"""

import argparse
import json
import random
import resource
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

START_MS = 1704067200000  # 2024-01-01T00:00:00Z


def generate(path, events, keys, seed):
    rng = random.Random(seed)
    span_ms = 10 * 60_000
    times = sorted(START_MS + rng.randrange(span_ms) for _ in range(events))
    with open(path, "w") as f:
        for t in times:
            f.write(f'{{"event_time":{t},"user":"u{rng.randrange(keys):06}","v":{rng.randrange(100)}}}\n')


def config(sink):
    return ("[source]\nkind = \"file\"\npath = \"input.jsonl\"\n\n"
            "[window]\ntype = \"tumbling\"\nsize = \"60s\"\n\n"
            "[ops]\ncount_by = \"user\"\n\n"
            f"[sink]\n{sink}\n")


SINKS = {
    "file (JSON lines)": 'kind = "file"\npath = "out.jsonl"',
    "parquet, payload, snappy": 'kind = "parquet"\nout_dir = "pq"',
    "parquet, columns, snappy": 'kind = "parquet"\nout_dir = "pq"\nschema = "columns"',
    "parquet, columns, zstd": 'kind = "parquet"\nout_dir = "pq"\nschema = "columns"\ncompression = "zstd"',
}


def run(pulse, work, sink, workers):
    (work / "pipeline.toml").write_text(config(sink))
    for leftover in ("out.jsonl", "pq"):
        p = work / leftover
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    proc = subprocess.run([pulse, "run", "--config", "pipeline.toml", "--workers", str(workers)],
                          cwd=work, capture_output=True, text=True)
    elapsed = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode != 0:
        raise SystemExit(f"pulse failed: {proc.stderr}")
    # "pulse: read N records (...) in S s; wrote M results; ..."
    summary = proc.stderr.strip().splitlines()[-1]
    results = int(summary.split("wrote ")[1].split(" ")[0])
    size = sum(p.stat().st_size for p in work.rglob("*") if p.is_file()
               and (p.suffix == ".parquet" or p.name == "out.jsonl"))
    return elapsed, cpu, results, size


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pulse", required=True)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--keys", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    pulse = str(Path(args.pulse).resolve())
    with tempfile.TemporaryDirectory(prefix="pulse-parquet-bench-") as tmp:
        work = Path(tmp)
        generate(work / "input.jsonl", args.events, args.keys, args.seed)
        print(f"{args.events} events, {args.keys} keys, tumbling 1 m count, "
              f"--workers {args.workers}, best of {args.repeat}\n")
        print("| sink | wall s | CPU s | input records/s | result rows/s | CPU s over file sink "
              "| output MB |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        base_cpu = None
        for name, sink in SINKS.items():
            runs = [run(pulse, work, sink, args.workers) for _ in range(args.repeat)]
            elapsed = min(r[0] for r in runs)
            cpu = min(r[1] for r in runs)
            _, _, results, size = runs[0]
            base_cpu = cpu if base_cpu is None else base_cpu
            print(f"| {name} | {elapsed:.2f} | {cpu:.2f} | {args.events / elapsed:,.0f} | "
                  f"{results / elapsed:,.0f} | {cpu - base_cpu:+.2f} | {size / 1e6:.1f} |")
        print(f"\n({results} result rows per run)")


if __name__ == "__main__":
    main()
