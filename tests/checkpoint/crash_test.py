# SPDX-License-Identifier: MIT
"""Crash tests of checkpoints (issue 5): run the `pulse` binary with checkpoints, kill -9 it at
random moments, restart it each time (with a random worker count), and check that the committed
output (results, late records, dead letters) equals an uninterrupted run's byte for byte; for
Parquet, row for row as DuckDB reads it. Also: a corrupt newest checkpoint, a changed pipeline,
--fresh, SIGTERM and rerunning a finished pipeline.

Usage: crash_test.py --pulse BIN --work DIR CASE   (one ctest test per CASE; see CASES)
"""

import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

MIN_KILLS = 20
MAX_ATTEMPTS = 400


def fail(message):
    raise AssertionError(message)


def write_input(path, n, seed, csv=False):
    """Out-of-order events (up to 3 s behind), some bad lines, a few hundred keys."""
    rng = random.Random(seed)
    t = 1_700_000_000_000
    with open(path, "w") as f:
        if csv:
            f.write("ts,user,v\n")
        for i in range(n):
            t += rng.randint(0, 20)
            ts = t - rng.randint(0, 3000)
            user = f"u{rng.randint(0, 400)}"
            v = round(rng.random() * 100, 3)
            if i % 4999 == 17:
                f.write("this is not a record\n" if not csv else "1,2\n")
            elif csv:
                f.write(f"{ts},{user},{v}\n")
            else:
                f.write(json.dumps({"ts": ts, "user": user, "v": v}) + "\n")


def config(work, window, agg="count", csv=False, backend="memory", sink="jsonl"):
    agg_lines = f'agg = "{agg}"\n' + ('agg_field = "v"\n' if agg != "count" else "")
    if sink == "jsonl":
        sink_table = f'kind = "file"\npath = "{work}/out/out.jsonl"\n'
    else:
        sink_table = (f'kind = "parquet"\nout_dir = "{work}/out/pq"\nschema = "columns"\n'
                      'max_rows = 5000\nmax_age = "1h"\n')
    return f"""[source]
kind = "file"
path = "{work}/in.{'csv' if csv else 'jsonl'}"
format = "{'csv' if csv else 'jsonl'}"
time_field = "ts"

[time]
max_out_of_orderness = "2s"
allowed_lateness = "500ms"

[window]
{window}

[ops]
count_by = "user"
{agg_lines}
[sink]
{sink_table}
[dead_letter]
path = "{work}/out/dead.jsonl"

[late_output]
path = "{work}/out/late.jsonl"

[state]
backend = "{backend}"
""" + (f'path = "{work}/state"\n' if backend == "rocksdb" else "")


def run(pulse, cfg, *args, workers=2, check=True, timeout=600):
    proc = subprocess.run([pulse, "run", "-c", str(cfg), "--workers", str(workers), *args],
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        fail(f"pulse exited {proc.returncode}:\n{proc.stderr}")
    return proc


def snapshot_output(out_dir, sink):
    """What a reader sees: the committed files (hidden in-progress files excluded)."""
    files = {}
    for p in sorted(Path(out_dir).rglob("*")):
        if p.is_file() and not p.name.startswith(".") and p.suffix != ".parquet":
            files[str(p.relative_to(out_dir))] = p.read_bytes()
    if sink == "parquet":
        import duckdb
        pattern = str(Path(out_dir) / "pq" / "**" / "*.parquet")
        rows = duckdb.sql(
            # As text, so that timestamp columns need no Python time zone module.
            f"SELECT COLUMNS(*)::VARCHAR FROM read_parquet('{pattern}', "
            "hive_partitioning=false) ORDER BY ALL").fetchall()
        files["<parquet rows>"] = repr(rows).encode()
        files["<parquet row count>"] = str(len(rows)).encode()
    return files


def compare(actual, expected):
    if actual.keys() != expected.keys():
        fail(f"different files: {sorted(actual)} vs {sorted(expected)}")
    for name in expected:
        if actual[name] != expected[name]:
            a, e = actual[name], expected[name]
            fail(f"{name} differs: {len(a)} bytes vs {len(e)} expected; first difference at "
                 f"byte {next((i for i in range(min(len(a), len(e))) if a[i] != e[i]), min(len(a), len(e)))}")


class Case:
    def __init__(self, pulse, work, window, agg="count", csv=False, backend="memory",
                 sink="jsonl", records=300_000):
        self.pulse, self.work, self.sink = pulse, Path(work), sink
        if self.work.exists():
            shutil.rmtree(self.work)
        (self.work / "out").mkdir(parents=True)
        if backend == "rocksdb":
            records //= 3  # every record costs RocksDB reads and writes: a smaller input suffices
        write_input(self.work / f"in.{'csv' if csv else 'jsonl'}", records, seed=7, csv=csv)
        self.cfg = self.work / "pipeline.toml"
        self.cfg.write_text(config(self.work, window, agg, csv, backend, sink))
        self.ckdir = self.work / "chk"

    def reference(self):
        """The uninterrupted run without checkpoints."""
        run(self.pulse, self.cfg)
        expected = snapshot_output(self.work / "out", self.sink)
        shutil.rmtree(self.work / "out")
        (self.work / "out").mkdir()
        return expected

    def start(self, *args, workers=None):
        w = workers if workers is not None else random.randint(1, 3)
        return subprocess.Popen([self.pulse, "run", "-c", str(self.cfg), "--workers", str(w),
                                 "--checkpoint-dir", str(self.ckdir), "--checkpoint-interval",
                                 "30ms", "--batch-size", "512", *args],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def checkpoint_ids(self):
        if not self.ckdir.exists():
            return []
        return sorted(int(p.name[4:]) for p in self.ckdir.iterdir() if p.name.startswith("chk-"))

    def wait_for_checkpoints(self, proc, n, timeout=120):
        """Wait until the run has committed n more checkpoints (or ended)."""
        target = (self.checkpoint_ids() or [0])[-1] + n
        deadline = time.monotonic() + timeout
        while proc.poll() is None and time.monotonic() < deadline:
            if (self.checkpoint_ids() or [0])[-1] >= target:
                return
            time.sleep(0.005)

    def kill_loop(self, min_kills=MIN_KILLS):
        """Kill -9 at random moments until min_kills kills happened, then let it finish.
        A quarter of the kills come at a random moment early in a run (maybe before its first
        checkpoint); the others at a random moment after one or two more checkpoints have
        been committed (maybe while the next is being written), so every run gets further
        whatever the speed of the build."""
        kills = during_checkpoint = 0
        for attempt in range(MAX_ATTEMPTS):
            proc = self.start()
            if kills < min_kills:
                if random.random() < 0.25:
                    time.sleep(random.uniform(0.005, 0.05))
                else:
                    self.wait_for_checkpoints(proc, 1)
                    time.sleep(random.uniform(0, 0.02))
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
                    proc.wait()
                    kills += 1
                    if any(p.name.startswith(".chk-") for p in self.ckdir.iterdir()):
                        during_checkpoint += 1
                    continue
            _, err = proc.communicate(timeout=600)
            if proc.returncode != 0:
                fail(f"restart {attempt} exited {proc.returncode}:\n{err}")
            if kills < min_kills:
                fail(f"the run finished after only {kills} kills; use a bigger input")
            print(f"{kills} kills ({during_checkpoint} while a checkpoint was being written), "
                  f"{attempt + 1} runs; last: {err.strip().splitlines()[-1]}")
            return err
        fail("the pipeline never finished")


def crash_case(pulse, work, **kw):
    c = Case(pulse, work, **kw)
    expected = c.reference()
    c.kill_loop()
    compare(snapshot_output(c.work / "out", c.sink), expected)
    # Rerunning the finished pipeline changes nothing.
    proc = c.start()
    _, err = proc.communicate(timeout=600)
    if proc.returncode != 0:
        fail(f"rerun exited {proc.returncode}: {err}")
    compare(snapshot_output(c.work / "out", c.sink), expected)


def corrupt_newest(pulse, work):
    c = Case(pulse, work, window='type = "tumbling"\nsize = "1s"')
    expected = c.reference()
    proc = c.start(workers=2)
    c.wait_for_checkpoints(proc, 3)  # leave a few checkpoints behind, mid-run
    if proc.poll() is not None:
        fail("the run ended before its third checkpoint")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    ids = c.checkpoint_ids()
    if len(ids) < 2:
        fail(f"expected at least two checkpoints, found {ids}")
    newest = c.ckdir / f"chk-{ids[-1]}"
    victim = sorted(p for p in newest.rglob("*") if p.is_file() and p.name != "MANIFEST.json")[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    proc = c.start(workers=2)
    _, err = proc.communicate(timeout=600)
    if proc.returncode != 0:
        fail(f"resume exited {proc.returncode}: {err}")
    want = f"checkpoint {ids[-1]} ("
    if want not in err or "checksum mismatch" not in err or f"using checkpoint {ids[-2]}" not in err:
        fail(f"expected a warning about checkpoint {ids[-1]}, got:\n{err}")
    if f"resumed from checkpoint {ids[-2]}" not in err:
        fail(f"expected a resume from checkpoint {ids[-2]}:\n{err}")
    compare(snapshot_output(c.work / "out", c.sink), expected)
    print(f"corrupted {victim.relative_to(c.ckdir)}; resumed from {ids[-2]}")


def changed_pipeline(pulse, work):
    c = Case(pulse, work, window='type = "tumbling"\nsize = "1s"')
    proc = c.start(workers=2)
    c.wait_for_checkpoints(proc, 1)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    text = c.cfg.read_text().replace('size = "1s"', 'size = "2s"')
    c.cfg.write_text(text)
    proc = run(pulse, c.cfg, "--checkpoint-dir", str(c.ckdir), check=False)
    if proc.returncode != 2:
        fail(f"expected exit 2 for a changed window, got {proc.returncode}: {proc.stderr}")
    if ('window changed from "tumbling 1s" to "tumbling 2s"' not in proc.stderr or
            "--fresh" not in proc.stderr):
        fail(f"unexpected message: {proc.stderr}")
    print(proc.stderr.strip())
    # --fresh starts over and gives the new pipeline's output.
    run(pulse, c.cfg, "--checkpoint-dir", str(c.ckdir), "--fresh")
    got = snapshot_output(c.work / "out", c.sink)
    shutil.rmtree(c.work / "out")
    (c.work / "out").mkdir()
    compare(got, c.reference())


def sigterm(pulse, work):
    """SIGTERM and SIGINT at random moments: each stop takes a final checkpoint that keeps the
    open windows, does not publish the unfinished output and exits 128 + the signal (143, 130);
    the run that reaches the end gives the exact output."""
    c = Case(pulse, work, window='type = "sliding"\nsize = "4s"\nslide = "1s"', agg="avg")
    expected = c.reference()
    stops = 0
    for attempt in range(60):
        proc = c.start()
        if stops < 6:
            c.wait_for_checkpoints(proc, random.choice([1, 2]))
            time.sleep(random.uniform(0, 0.02))
            if proc.poll() is None:
                sig = signal.SIGTERM if stops % 2 == 0 else signal.SIGINT
                proc.send_signal(sig)
                _, err = proc.communicate(timeout=120)
                if proc.returncode != 128 + sig.value or "the final checkpoint keeps" not in err:
                    fail(f"{sig.name}: expected exit {128 + sig.value} after a final checkpoint, "
                         f"got {proc.returncode}: {err}")
                if (c.work / "out" / "out.jsonl").exists():
                    fail("a stopped checkpointed run must not publish its unfinished output")
                stops += 1
                continue
        _, err = proc.communicate(timeout=600)
        if proc.returncode != 0 or "resumed from checkpoint" not in err:
            fail(f"final run: {proc.returncode}: {err}")
        if stops < 6:
            fail(f"the run finished after only {stops} stops")
        compare(snapshot_output(c.work / "out", c.sink), expected)
        print(f"{stops} stops (SIGTERM and SIGINT); {err.strip().splitlines()[-1]}")
        return
    fail("the pipeline never finished")


def disk_full(pulse, work, limit=2 << 20, expect="", max_rows=None, **kw):
    """A write error (here: a file-size limit, as a full disk would give) stops the run with a
    clear error; the last checkpoint and the committed output stay valid, and a rerun once
    space is back finishes with the exact output. `expect` is a text the error must contain
    besides "File too large" (which file failed). Checkpoints are taken back to back (1 ms
    interval), so that some precede the error however fast the machine writes."""
    import resource
    c = Case(pulse, work, **kw)
    if max_rows is not None:  # Parquet files (and their spools) of more rows
        c.cfg.write_text(c.cfg.read_text().replace("max_rows = 5000", f"max_rows = {max_rows}"))
    expected = c.reference()

    def cap():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.run([pulse, "run", "-c", str(c.cfg), "--workers", "2",
                           "--checkpoint-dir", str(c.ckdir), "--checkpoint-interval", "1ms",
                           "--batch-size", "512"],
                          capture_output=True, text=True, timeout=600, preexec_fn=cap)
    if proc.returncode != 1 or "File too large" not in proc.stderr or expect not in proc.stderr:
        fail(f"expected exit 1 naming the write error ({expect!r}), got {proc.returncode}: "
             f"{proc.stderr}")
    if not c.checkpoint_ids():
        fail("expected checkpoints before the write error")
    print(proc.stderr.strip().splitlines()[-1])
    proc = c.start()
    _, err = proc.communicate(timeout=600)
    if proc.returncode != 0 or "resumed from checkpoint" not in err:
        fail(f"rerun after the write error: {proc.returncode}: {err}")
    compare(snapshot_output(c.work / "out", c.sink), expected)


def permissions(pulse, work):
    """With umask 0, nothing Pulse creates (outputs, Parquet files, dead letters, late records,
    checkpoints, RocksDB state) is writable by group or others: files 0644, directories 0755."""
    for sink in ("jsonl", "parquet"):
        c = Case(pulse, Path(work) / sink, window='type = "session"\ngap = "300ms"',
                 backend="rocksdb", sink=sink, records=60_000)
        proc = subprocess.Popen([pulse, "run", "-c", str(c.cfg), "--workers", "2",
                                 "--checkpoint-dir", str(c.ckdir), "--checkpoint-interval",
                                 "30ms"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True, preexec_fn=lambda: os.umask(0))
        c.wait_for_checkpoints(proc, 2)
        # Mid-run (in-progress files, the live RocksDB directory), then after the end.
        for when in ("mid-run", "at the end"):
            if when == "at the end":
                _, err = proc.communicate(timeout=600)
                if proc.returncode != 0:
                    fail(f"exited {proc.returncode}: {err}")
            checked = 0
            for p in [c.work / "out", c.ckdir, c.work / "state"]:
                for path in [p, *p.rglob("*")]:
                    try:
                        st = path.lstat()
                    except FileNotFoundError:
                        continue  # removed meanwhile (pruned checkpoints, compactions)
                    if st.st_mode & 0o022:
                        fail(f"{path} ({when}) is group- or world-writable: "
                             f"{oct(st.st_mode & 0o7777)}")
                    checked += 1
            print(f"{sink}: {checked} files and directories checked {when}")


CASES = {
    # The JSONL output, the checkpoint (a distinct-count state past 256 KiB, while one open
    # window per key keeps the output empty) and a Parquet spool (one file for every row, so
    # that its spool passes 1 MiB after several checkpoints) in turn hit the file-size limit.
    "disk_full": lambda p, w: disk_full(p, w, window='type = "session"\ngap = "300ms"',
                                        expect="sink: cannot write"),
    "disk_full_checkpoint": lambda p, w: disk_full(
        p, w, limit=256 << 10, expect="checkpoint", window='type = "tumbling"\nsize = "1h"',
        agg="distinct"),
    "disk_full_parquet": lambda p, w: disk_full(
        p, w, limit=1 << 20, max_rows=10_000_000, window='type = "session"\ngap = "300ms"',
        agg="sum", sink="parquet"),
    "permissions": permissions,
    "jsonl_sliding_memory": lambda p, w: crash_case(
        p, w, window='type = "sliding"\nsize = "4s"\nslide = "1s"', agg="avg"),
    "jsonl_session_rocksdb": lambda p, w: crash_case(
        p, w, window='type = "session"\ngap = "300ms"', backend="rocksdb"),
    "csv_tumbling_rocksdb": lambda p, w: crash_case(
        p, w, window='type = "tumbling"\nsize = "1s"', agg="max", csv=True, backend="rocksdb"),
    "parquet_session_memory": lambda p, w: crash_case(
        p, w, window='type = "session"\ngap = "300ms"', agg="sum", sink="parquet"),
    "parquet_sliding_rocksdb": lambda p, w: crash_case(
        p, w, window='type = "sliding"\nsize = "2s"\nslide = "500ms"', backend="rocksdb",
        sink="parquet"),
    "corrupt_newest": corrupt_newest,
    "changed_pipeline": changed_pipeline,
    "sigterm": sigterm,
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pulse", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("case", choices=sorted(CASES))
    args = parser.parse_args()
    random.seed(os.environ.get("PULSE_CRASH_SEED", "1"))
    CASES[args.case](args.pulse, args.work)
    print(f"{args.case}: ok")


if __name__ == "__main__":
    sys.exit(main())
