# SPDX-License-Identifier: MIT
"""End-to-end tests of the Parquet sink (issue 4): run the `pulse` binary, read every Parquet file
it wrote with DuckDB (an independent reader) and compare row by row with the JSON lines the same
pipeline writes with the file sink.

Usage: parquet_e2e.py --pulse BIN --source-dir DIR --work DIR CASE
Each CASE is one ctest test (label `parquet`); see CASES at the bottom.
"""

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import unquote

import duckdb

DAY1 = 1704067200000  # 2024-01-01T00:00:00Z
MINUTE = 60_000
HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"


class Env:
    def __init__(self, pulse, source_dir, work):
        self.pulse = pulse
        self.source_dir = Path(source_dir)
        self.work = Path(work)


def fail(message):
    raise AssertionError(message)


def check_eq(actual, expected, what):
    if actual != expected:
        fail(f"{what}:\n  got:      {actual!r}\n  expected: {expected!r}")


def run_pulse(env, cwd, config_text, name="pipeline.toml"):
    (cwd / name).write_text(config_text)
    proc = subprocess.run([env.pulse, "run", "--config", name], cwd=cwd,
                          capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        fail(f"pulse failed ({proc.returncode}) on {cwd / name}:\n{proc.stderr}")
    return proc


def config(source, window, ops, sink, time_table=""):
    return f"[source]\n{source}\n\n{time_table}[window]\n{window}\n\n[ops]\n{ops}\n\n[sink]\n{sink}\n"


def write_events(path, events):
    with open(path, "w") as f:
        for e in events:
            f.write(json.dumps(e, separators=(",", ":")) + "\n")


def generated_events(seed=4, n=3000, days=3, keys=None):
    """Events spread over `days` UTC days with a handful of keys (some awkward)."""
    rng = random.Random(seed)
    keys = keys or ["a", "b", "c", "d/e", "f g"]
    events = []
    for _ in range(n):
        t = DAY1 + rng.randrange(days * 86_400_000)
        events.append({"event_time": t, "k": rng.choice(keys), "x": rng.randrange(-50, 100)})
    events.sort(key=lambda e: e["event_time"])
    return events


def jsonl_results(env, cwd, source, window, ops, time_table=""):
    """The pipeline's results through the file sink, as (line, parsed) pairs in order."""
    run_pulse(env, cwd, config(source, window, ops, 'kind = "file"\npath = "expected.jsonl"',
                               time_table), "jsonl.toml")
    lines = (cwd / "expected.jsonl").read_text().splitlines()
    return [(line, json.loads(line)) for line in lines]


def list_files(root):
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob("*") if p.is_file())


def parquet_files(root):
    return [f for f in list_files(root) if f.endswith(".parquet")]


def check_inside(root, work):
    """Nothing below `work` but `root` got Parquet files, and every file resolves inside root."""
    root = Path(root).resolve()
    for p in Path(work).rglob("*.parquet"):
        if root not in p.resolve().parents:
            fail(f"{p} was written outside out_dir {root}")


def check_no_temp_files(root):
    left = [f for f in list_files(root) if ".inprogress" in f]
    check_eq(left, [], "temporary files left behind")


def read_payload_rows(con, path):
    return con.execute("SELECT epoch_ms(event_time), payload FROM read_parquet(?)",
                       [str(path)]).fetchall()


def codecs(con, path):
    rows = con.execute("SELECT DISTINCT compression FROM parquet_metadata(?)", [str(path)]).fetchall()
    return sorted(r[0] for r in rows)


def utc_date(ms):
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%d")


def check_subsequence(rows, order, what):
    """Rows of one file keep the order of the JSONL output."""
    positions = []
    for r in rows:
        if r not in order:
            fail(f"{what}: row {r!r} is not in the JSONL output")
        positions.append(order[r])
    if positions != sorted(positions):
        fail(f"{what}: rows are not in the JSONL output's order")


def compare_payload(env, out, expected, codec="SNAPPY", partition_name="dt"):
    """Every Parquet row equals a JSONL result (event time = window_end - 1) and vice versa."""
    con = duckdb.connect()
    want = sorted((obj["window_end_ms"] - 1, line) for line, obj in expected)
    order = {(obj["window_end_ms"] - 1, line): i for i, (line, obj) in enumerate(expected)}
    got = []
    for f in parquet_files(out):
        rows = read_payload_rows(con, out / f)
        if not rows:
            fail(f"{f} is empty")
        check_subsequence(rows, order, f)
        check_eq(codecs(con, out / f), [codec], f"codec of {f}")
        folder = Path(f).parts[0]
        for t, payload in rows:
            if partition_name == "dt":
                check_eq(folder, "dt=" + utc_date(t), f"partition of {payload} in {f}")
        got.extend(rows)
    check_eq(sorted(got), want, "rows of all Parquet files vs the JSONL output")
    return con


def setup(env, name):
    cwd = env.work
    cwd.mkdir(parents=True, exist_ok=True)
    return cwd


TUMBLING_1M = 'type = "tumbling"\nsize = "60s"'
SOURCE = 'kind = "file"\npath = "input.jsonl"'


def case_fixture(env):
    """The original's golden: the 3-event fixture gives 2 rows in one dt=2024-01-01 partition."""
    cwd = setup(env, "fixture")
    (cwd / "input.jsonl").write_text(
        '{"event_time":"2024-01-01T00:00:00Z","word":"a"}\n'
        '{"event_time":"2024-01-01T00:00:20Z","word":"a"}\n'
        '{"event_time":"2024-01-01T00:00:40Z","word":"b"}\n')
    fixture = env.source_dir / "tests/pipelines/parquet_validate/pipeline.toml"
    run_pulse(env, cwd, fixture.read_text())
    out = cwd / "outputs"
    files = list_files(out)
    check_eq(len(files), 2, f"files under outputs/: {files}")
    check_eq(files[0], "dt=2024-01-01/_SUCCESS", "marker")
    if not (files[1].startswith("dt=2024-01-01/part-") and files[1].endswith(".parquet")):
        fail(f"unexpected file {files[1]}")
    con = duckdb.connect()
    rows = con.execute(
        "SELECT epoch_ms(event_time), payload, dt FROM read_parquet('outputs/**/*.parquet', "
        "hive_partitioning = true)".replace("outputs", str(out))).fetchall()
    check_eq([(r[0], r[1], str(r[2])) for r in rows], [
        (1704067259999,
         '{"window_start_ms":1704067200000,"window_end_ms":1704067260000,"key":"a","count":2}',
         "2024-01-01"),
        (1704067259999,
         '{"window_start_ms":1704067200000,"window_end_ms":1704067260000,"key":"b","count":1}',
         "2024-01-01")], "fixture rows")
    types = con.execute(f"SELECT typeof(event_time), typeof(payload) FROM read_parquet('{out}/**/*.parquet') LIMIT 1").fetchall()
    check_eq(types, [("TIMESTAMP WITH TIME ZONE", "VARCHAR")], "payload schema types")


def payload_case(codec):
    def run(env):
        cwd = setup(env, "payload_" + codec)
        write_events(cwd / "input.jsonl", generated_events())
        ops = 'count_by = "k"\nagg = "sum"\nagg_field = "x"'
        expected = jsonl_results(env, cwd, SOURCE, TUMBLING_1M, ops)
        run_pulse(env, cwd, config(SOURCE, TUMBLING_1M, ops,
                                   f'kind = "parquet"\nout_dir = "out"\ncompression = "{codec}"'))
        out = cwd / "out"
        compare_payload(env, out, expected, codec={"none": "UNCOMPRESSED"}.get(codec, codec.upper()))
        # Three days, each complete at the end of input: one file and one marker per day.
        check_eq(list_files(out)[0::2], ["dt=2024-01-01/_SUCCESS", "dt=2024-01-02/_SUCCESS",
                                         "dt=2024-01-03/_SUCCESS"], "markers")
        check_eq(len(parquet_files(out)), 3, "files")
        check_no_temp_files(out)
    return run


def case_columns(env):
    """schema = "columns": typed columns per aggregation, equal to the JSONL values."""
    cwd = setup(env, "columns")
    events = generated_events(seed=7, n=800, days=1)
    # Keys of several JSON types (numbers, null via a missing field) and a field with non-numbers.
    for i, e in enumerate(events):
        if i % 7 == 0:
            e["k"] = i % 3
        if i % 11 == 0:
            del e["k"]
        if i % 5 == 0:
            e["x"] = "n/a"
    write_events(cwd / "input.jsonl", events)
    want_types = {"count": "BIGINT", "distinct": "BIGINT", "sum": "DOUBLE", "avg": "DOUBLE",
                  "min": "DOUBLE", "max": "DOUBLE"}
    con = duckdb.connect()
    for agg, sql_type in want_types.items():
        sub = cwd / agg
        sub.mkdir()
        (sub / "input.jsonl").write_text((cwd / "input.jsonl").read_text())
        ops = f'count_by = "k"\nagg = "{agg}"' + ("" if agg == "count" else '\nagg_field = "x"')
        window = 'type = "sliding"\nsize = "10m"\nslide = "5m"' if agg == "avg" else TUMBLING_1M
        expected = jsonl_results(env, sub, SOURCE, window, ops)
        run_pulse(env, sub, config(SOURCE, window, ops,
                                   'kind = "parquet"\nout_dir = "out"\nschema = "columns"'))
        column = "distinct_count" if agg == "distinct" else agg
        glob = f"{sub}/out/**/*.parquet"
        types = con.execute(
            f"SELECT typeof(window_start_ms), typeof(window_end_ms), typeof(key), typeof({column}) "
            f"FROM read_parquet('{glob}') LIMIT 1").fetchall()
        check_eq(types, [("TIMESTAMP WITH TIME ZONE", "TIMESTAMP WITH TIME ZONE", "VARCHAR",
                          sql_type)], f"column types for {agg}")
        got = con.execute(
            f"SELECT epoch_ms(window_start_ms), epoch_ms(window_end_ms), key, {column} "
            f"FROM read_parquet('{glob}')").fetchall()

        def key_text(k):
            if k is None:
                return None
            return k if isinstance(k, str) else json.dumps(k, separators=(",", ":"))

        want = [(o["window_start_ms"], o["window_end_ms"], key_text(o["key"]), o[column])
                for _, o in expected]
        # Doubles are compared exactly: both outputs hold the same IEEE values.
        check_eq(sorted(got, key=repr), sorted(want, key=repr), f"{agg}: rows vs JSONL")
        if agg == "sum" and not any(w[3] is None for w in want):
            fail("the data should give some null sums")
    # The query the issue names works as written.
    total = con.execute(f"SELECT sum(count) FROM read_parquet('{cwd}/count/out/**/*.parquet')").fetchone()[0]
    check_eq(total, len(events), "SELECT key, count: every event counted once")


def case_partition_field(env):
    """partition_field: <field>=<value>/ folders, escaped so that values stay inside out_dir."""
    cwd = setup(env, "partition_field")
    keys = ["../../x", "a/b", ".", "..", "", "plain", "100%", "x=y", "tab\there"]
    events = generated_events(seed=11, n=400, days=2, keys=keys)
    events += [{"event_time": DAY1 + 5, "x": 1}, {"event_time": DAY1 + 6, "k": 7, "x": 1},
               {"event_time": DAY1 + 7, "k": None, "x": 1}]
    events.sort(key=lambda e: e["event_time"])
    write_events(cwd / "input.jsonl", events)
    ops = 'count_by = "k"'
    expected = jsonl_results(env, cwd, SOURCE, TUMBLING_1M, ops)
    run_pulse(env, cwd, config(SOURCE, TUMBLING_1M, ops,
                               'kind = "parquet"\nout_dir = "out"\npartition_field = "key"'))
    out = cwd / "out"
    check_inside(out, cwd)
    check_eq(sorted(p.name for p in cwd.iterdir()),
             ["expected.jsonl", "input.jsonl", "jsonl.toml", "out", "pipeline.toml"],
             "the working directory holds only the inputs and out/")
    if (cwd.parent / "x").exists() or (cwd / "x").exists() or (cwd / "a").exists():
        fail("a partition value escaped out_dir")
    folders = sorted({Path(f).parts[0] for f in parquet_files(out)})
    check_eq(folders, sorted({"key=" + v for v in [
        "..%2F..%2Fx", "a%2Fb", "%2E", "%2E%2E", HIVE_NULL, "plain", "100%25", "x%3Dy",
        "tab%09here", "7"]}), "partition folders")
    check_eq([f for f in list_files(out) if f.endswith("_SUCCESS")], [], "no markers by field")
    compare_payload(env, out, expected, partition_name="key")
    # Each folder holds exactly the rows of its key.
    con = duckdb.connect()
    for f in parquet_files(out):
        value = unquote(Path(f).parts[0][len("key="):])
        for _, payload in read_payload_rows(con, out / f):
            key = json.loads(payload)["key"]
            if key is None or key == "":
                want = HIVE_NULL
            elif isinstance(key, str):
                want = key
            else:
                want = json.dumps(key)
            check_eq(value, want, f"key of a row in {f}")
    # DuckDB's own Hive partitioning decodes the folders back to the values (NULL for the
    # default partition).
    for key, payload in con.execute(
            f"SELECT key, payload FROM read_parquet('{out}/**/*.parquet', hive_partitioning = true)"
    ).fetchall():
        k = json.loads(payload)["key"]
        want = None if k is None or k == "" else (k if isinstance(k, str) else json.dumps(k))
        check_eq(key, want, "hive partition value read by DuckDB")


def row_lines(con, out):
    return [p for f in parquet_files(out) for _, p in read_payload_rows(con, out / f)]


def case_rotation_rows(env):
    cwd = setup(env, "rotation_rows")
    write_events(cwd / "input.jsonl", generated_events(seed=3, n=500, days=1, keys=["a", "b"]))
    ops = 'count_by = "k"'
    expected = jsonl_results(env, cwd, SOURCE, TUMBLING_1M, ops)
    run_pulse(env, cwd, config(SOURCE, TUMBLING_1M, ops,
                               'kind = "parquet"\nout_dir = "out"\nmax_rows = 7\nrow_group_rows = 3'))
    out = cwd / "out"
    files = parquet_files(out)
    n = len(expected)
    check_eq(len(files), -(-n // 7), f"files for {n} rows at 7 per file")
    con = duckdb.connect()
    sizes = [con.execute("SELECT count(*) FROM read_parquet(?)", [str(out / f)]).fetchone()[0]
             for f in files]
    check_eq(sizes, [7] * (n // 7) + ([n % 7] if n % 7 else []), "rows per file")
    groups = con.execute("SELECT DISTINCT row_group_id, row_group_num_rows FROM parquet_metadata(?)",
                         [str(out / files[0])]).fetchall()
    check_eq(sorted(groups), [(0, 3), (1, 3), (2, 1)], "row groups of a 7-row file")
    # Files are numbered in the order they were written: together they are the JSONL output.
    check_eq(row_lines(con, out), [line for line, _ in expected], "rows in file order")


def case_rotation_bytes(env):
    cwd = setup(env, "rotation_bytes")
    # 20 keys with one event each in one window: 20 results of the same length L.
    events = [{"event_time": DAY1 + i, "k": f"k{i:02}"} for i in range(20)]
    write_events(cwd / "input.jsonl", events)
    ops = 'count_by = "k"'
    expected = jsonl_results(env, cwd, SOURCE, TUMBLING_1M, ops)
    length = len(expected[0][0])
    check_eq({len(line) for line, _ in expected}, {length}, "equal result lengths")
    # A row counts 8 (event_time) + L (payload); a file closes once it reaches max_bytes, here
    # after 3 rows: 20 rows give 3+3+3+3+3+3+2 = 7 files.
    max_bytes = 3 * (8 + length) - 1
    run_pulse(env, cwd, config(SOURCE, TUMBLING_1M, ops,
                               f'kind = "parquet"\nout_dir = "out"\nmax_bytes = {max_bytes}'))
    out = cwd / "out"
    files = parquet_files(out)
    check_eq(len(files), 7, "files")
    con = duckdb.connect()
    sizes = [con.execute("SELECT count(*) FROM read_parquet(?)", [str(out / f)]).fetchone()[0]
             for f in files]
    check_eq(sizes, [3, 3, 3, 3, 3, 3, 2], "rows per file")
    check_eq(row_lines(con, out), [line for line, _ in expected], "rows in file order")


def wait_for(predicate, what, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    fail(f"timed out waiting for {what}")


def case_rotation_age(env):
    """Idle files are closed by the timer (max_age) while the run goes on; _SUCCESS appears as
    soon as the watermark passes a day; SIGTERM closes what is open."""
    cwd = setup(env, "rotation_age")
    out = cwd / "out"
    source = 'kind = "file"\npath = "input.jsonl"\nfollow = true'
    time_table = '[time]\nmax_out_of_orderness = "0s"\n\n'
    (cwd / "pipeline.toml").write_text(config(
        source, 'type = "tumbling"\nsize = "1s"', 'count_by = "k"',
        'kind = "parquet"\nout_dir = "out"\nmax_age = "1s"', time_table))
    day2 = DAY1 + 86_400_000
    feed = open(cwd / "input.jsonl", "w")

    def append(t, key):
        feed.write(json.dumps({"event_time": t, "k": key}) + "\n")
        feed.flush()

    append(day2 - 2000, "a")
    append(day2 - 500, "a")  # closes [-2s, -1s) of day 1: result 1
    start = time.monotonic()
    proc = subprocess.Popen([env.pulse, "run", "--config", "pipeline.toml"], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        con = duckdb.connect()
        wait_for(lambda: len(parquet_files(out)) == 1, "the first file to be rolled by age")
        first = parquet_files(out)[0]
        # Readable while the run goes on; no marker yet: the watermark is still in day 1.
        check_eq(len(read_payload_rows(con, out / first)), 1, "rows of the first file")
        check_eq([f for f in list_files(out) if "_SUCCESS" in f], [], "markers before midnight")
        append(day2 + 1000, "b")  # closes [-1s, 0) of day 1 (result 2); W passes midnight
        wait_for(lambda: (out / "dt=2024-01-01/_SUCCESS").exists(), "the day-1 marker")
        check_eq(len(parquet_files(out)), 2, "day 1 is closed with its marker")
        append(day2 + 3000, "c")  # closes [1s, 2s) of day 2: result 3
        wait_for(lambda: len(parquet_files(out)) == 3, "the day-2 file to be rolled by age")
        append(day2 + 4500, "d")  # closes [3s, 4s) of day 2: result 4, in a new open file
        wait_for(lambda: any(".inprogress" in f for f in list_files(out)), "a fourth file")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=30)
        feed.close()
    elapsed = time.monotonic() - start
    # A stopped run exits 128 + the signal (143), having closed its outputs cleanly: with an
    # unbounded input (follow) they are published.
    check_eq(proc.returncode, 143, f"exit code after SIGTERM (stderr: {stderr})")
    files = list_files(out)
    # SIGTERM closed the open fourth file; day 2 is not complete, so it has no marker.
    check_eq([f.split("/part-")[0] if "/part-" in f else f for f in files],
             ["dt=2024-01-01/_SUCCESS", "dt=2024-01-01", "dt=2024-01-01", "dt=2024-01-02",
              "dt=2024-01-02"], "files after SIGTERM")
    con = duckdb.connect()
    rows = [json.loads(p)["key"] for f in parquet_files(out) for _, p in read_payload_rows(con, out / f)]
    check_eq(rows, ["a", "a", "b", "c"], "keys of the four results, in file order")
    check_no_temp_files(out)
    if elapsed > 30:
        fail(f"the age test took {elapsed:.1f} s")


def case_examples(env):
    """The original's examples/pipeline.toml runs unchanged, and the CSV → Parquet example gives
    the same rows as the CSV → JSONL one."""
    cwd = setup(env, "examples")
    for name in ("examples", "pulse-examples"):
        link = cwd / name
        if not link.exists():
            link.symlink_to(env.source_dir / name)
    (cwd / "out").mkdir(exist_ok=True)
    for cfg in ("examples/pipeline.toml", "examples/pipelines/clicks_parquet.toml"):
        proc = subprocess.run([env.pulse, "run", "--config", cfg], cwd=cwd, capture_output=True,
                              text=True, timeout=120)
        if proc.returncode != 0:
            fail(f"{cfg} failed:\n{proc.stderr}")
    con = duckdb.connect()
    n = con.execute(f"SELECT count(*), count(DISTINCT payload) FROM read_parquet('{cwd}/outputs/**/*.parquet')").fetchone()
    if n[0] == 0 or n[0] != n[1]:
        fail(f"examples/pipeline.toml wrote {n} rows")
    check_eq(all(f.endswith("_SUCCESS") or f.endswith(".parquet") for f in list_files(cwd / "outputs")),
             True, "outputs/ holds Parquet files and markers only")
    expected = [json.loads(line) for line in
                (env.source_dir / "examples/expected/page_visitors.jsonl").read_text().splitlines()]
    glob = f"{cwd}/out/clicks_parquet/**/*.parquet"
    got = con.execute(f"SELECT epoch_ms(window_start_ms), epoch_ms(window_end_ms), key, distinct_count FROM read_parquet('{glob}')").fetchall()
    want = [(o["window_start_ms"], o["window_end_ms"], o["key"], o["distinct_count"]) for o in expected]
    check_eq(got, want, "clicks_parquet rows vs examples/expected/page_visitors.jsonl")
    check_eq(codecs(con, glob), ["ZSTD"], "clicks_parquet codec")
    # Every SQL query of the README's Parquet section runs on these files as written.
    readme = (env.source_dir / "README.md").read_text()
    section = readme.split("### Parquet output", 1)[1].split("\n### ", 1)[0]
    queries = [block.split("```", 1)[0] for block in section.split("```sql\n")[1:]]
    check_eq(len(queries) > 0, True, "the README's Parquet section has a SQL query")
    for query in queries:
        sql = "\n".join(line for line in query.splitlines() if not line.startswith("--"))
        rows = duckdb.connect().execute(sql.replace("'out/", f"'{cwd}/out/")).fetchall()
        check_eq(len(rows), len(want), f"rows of the README query {sql.strip()}")


def file_sizes(con, out):
    """(partition folder, rows) of every file, in name order (the names differ between runs)."""
    return [(f.split("/")[0], con.execute("SELECT count(*) FROM read_parquet(?)",
                                          [str(out / f)]).fetchone()[0])
            for f in parquet_files(out)]


# Watermarks follow the input, so results and files come all along the run (not at its end).
STREAMING = '[time]\nmax_out_of_orderness = "0s"\n\n'


def case_checkpoints(env):
    """With checkpoints after (nearly) every batch, the files are those of a run without: the
    same folders, rows per file and rows in order (files roll by max_rows, not by checkpoint);
    nothing in progress is left; rerunning the finished pipeline changes nothing."""
    cwd = setup(env, "checkpoints")
    write_events(cwd / "input.jsonl", generated_events(seed=5, n=10000, days=3, keys=["a", "b"]))
    ops = 'count_by = "k"'
    sink = 'kind = "parquet"\nout_dir = "{}"\nmax_rows = 40\nrow_group_rows = 16'
    run_pulse(env, cwd, config(SOURCE, TUMBLING_1M, ops, sink.format("plain"), STREAMING),
              "plain.toml")
    (cwd / "ck.toml").write_text(config(SOURCE, TUMBLING_1M, ops, sink.format("ck"), STREAMING))
    args = [env.pulse, "run", "--config", "ck.toml", "--checkpoint-dir", "state",
            "--checkpoint-interval", "1ms", "--batch-size", "64"]
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        fail(f"pulse with checkpoints failed ({proc.returncode}):\n{proc.stderr}")
    checkpoints = [d for d in (cwd / "state").iterdir() if d.name.startswith("chk-")]
    if not checkpoints:
        fail("no checkpoint was taken")
    con = duckdb.connect()
    plain, ck = cwd / "plain", cwd / "ck"
    check_eq(file_sizes(con, ck), file_sizes(con, plain), "files and rows per file")
    check_eq(row_lines(con, ck), row_lines(con, plain), "rows in file order")
    markers = [f for f in list_files(plain) if f.endswith("_SUCCESS")]
    check_eq([f for f in list_files(ck) if f.endswith("_SUCCESS")], markers, "markers")
    check_eq([f for f in list_files(ck) if "/." in f], [], "hidden files left behind")
    before = {f: (ck / f).read_bytes() for f in list_files(ck)}
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        fail(f"rerun failed ({proc.returncode}):\n{proc.stderr}")
    check_eq({f: (ck / f).read_bytes() for f in list_files(ck)} == before, True,
             "output unchanged by a rerun")


def case_checkpoint_fallback(env):
    """kill -9 after a few checkpoints, the newest one corrupted: the rerun resumes from the one
    before, removes the files only the lost one published, and ends with exactly the files of
    a run without checkpoints."""
    cwd = setup(env, "checkpoint_fallback")
    write_events(cwd / "input.jsonl", generated_events(seed=6, n=30000, days=3, keys=["a", "b"]))
    ops = 'count_by = "k"'
    sink = 'kind = "parquet"\nout_dir = "{}"\nmax_rows = 40\nrow_group_rows = 16'
    run_pulse(env, cwd, config(SOURCE, TUMBLING_1M, ops, sink.format("plain"), STREAMING),
              "plain.toml")
    (cwd / "ck.toml").write_text(config(SOURCE, TUMBLING_1M, ops, sink.format("ck"), STREAMING))
    args = [env.pulse, "run", "--config", "ck.toml", "--checkpoint-dir", "state",
            "--checkpoint-interval", "1ms", "--batch-size", "64"]
    state = cwd / "state"

    def ids():
        return sorted(int(d.name[4:]) for d in state.glob("chk-*")) if state.exists() else []

    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    # Kill once files have been published by a checkpoint and the one before it is kept.
    wait_for(lambda: proc.poll() is not None or (len(ids()) >= 2 and ids()[-1] >= 4 and
                                                 parquet_files(cwd / "ck")),
             "published files after a few checkpoints", timeout=60)
    proc.kill()
    proc.wait()
    if proc.returncode != -9:
        fail(f"the run ended (exit {proc.returncode}) before it could be killed")
    newest = ids()[-1]
    published = len(parquet_files(cwd / "ck"))
    manifest = state / f"chk-{newest}" / "MANIFEST.json"
    data = bytearray(manifest.read_bytes())
    data[len(data) // 3] ^= 0x01
    manifest.write_bytes(bytes(data))
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120)
    if proc.returncode != 0:
        fail(f"resume failed ({proc.returncode}):\n{proc.stderr}")
    if f"checkpoint {newest} (" not in proc.stderr or "resumed from checkpoint" not in proc.stderr:
        fail(f"expected a fallback from checkpoint {newest}:\n{proc.stderr}")
    con = duckdb.connect()
    plain, ck = cwd / "plain", cwd / "ck"
    check_eq(file_sizes(con, ck), file_sizes(con, plain), "files and rows per file")
    check_eq(row_lines(con, ck), row_lines(con, plain), "rows in file order")
    check_eq([f for f in list_files(ck) if "/." in f], [], "hidden files left behind")
    print(f"killed after checkpoint {newest} with {published} files published; resumed from "
          f"the one before")


CASES = {
    "fixture": case_fixture,
    "payload_snappy": payload_case("snappy"),
    "payload_zstd": payload_case("zstd"),
    "payload_none": payload_case("none"),
    "columns": case_columns,
    "partition_field": case_partition_field,
    "rotation_rows": case_rotation_rows,
    "rotation_bytes": case_rotation_bytes,
    "rotation_age": case_rotation_age,
    "examples": case_examples,
    "checkpoints": case_checkpoints,
    "checkpoint_fallback": case_checkpoint_fallback,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pulse", required=True)
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("case", choices=sorted(CASES) + ["list"])
    args = parser.parse_args()
    if args.case == "list":
        print("\n".join(sorted(CASES)))
        return 0
    work = Path(args.work)
    if work.exists():
        subprocess.run(["rm", "-rf", str(work)], check=True)
    work.mkdir(parents=True)
    env = Env(os.path.abspath(args.pulse), os.path.abspath(args.source_dir), work)
    try:
        CASES[args.case](env)
    except AssertionError as e:
        print(f"FAILED parquet.{args.case}: {e}", file=sys.stderr)
        return 1
    print(f"ok parquet.{args.case}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
