# SPDX-License-Identifier: MIT
"""Randomized check of the plan form of [ops] against DuckDB (issue 17).

Many generated pipelines (where, computed fields, keys, named aggregates, having, tumbling
windows) run through the `pulse` binary over generated JSON lines; DuckDB runs the equivalent
GROUP BY over the same file. Exact aggregates must equal DuckDB's (integers as integers, doubles
within 1e-9 relative: the order of floating-point additions differs); sketch aggregates must be
within their documented bounds of the exact answers; the output's members must be in the order
of `key` and then of [ops.aggregates]; and the output must not depend on the worker count.

Usage: plan_duckdb.py --pulse BIN --work DIR CASE [--seed N] [--pipelines N]
CASE is `exact` (random pipelines with exact aggregates) or `sketches` (approx_distinct,
quantiles and top_k over large windows). One ctest test per case, label `duckdb`.
"""

import argparse
import json
import math
import random
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

T0 = 1714557600000  # 2024-05-01T10:00:00Z

# The columns DuckDB reads (missing members are NULL).
COLUMNS = ("{event_time: 'BIGINT', region: 'VARCHAR', host: 'VARCHAR', method: 'VARCHAR', "
           "status: 'BIGINT', latency_ms: 'BIGINT', score: 'DOUBLE', bytes: 'BIGINT', "
           "user: 'VARCHAR', path: 'VARCHAR', client: 'STRUCT(id BIGINT, os VARCHAR)'}")


def fail(message):
    raise AssertionError(message)


# ---- Data ----

def generate_events(rng, n, step_ms):
    """n records with unique event times (first/last are then well defined), shuffled a little
    (no watermark: every window is complete at the end), with nulls and missing members."""
    events = []
    t = T0
    for _ in range(n):
        t += rng.randrange(1, 2 * step_ms)
        e = {"event_time": t}
        r = rng.random()
        if r < 0.85:
            e["region"] = rng.choice(["eu", "us", "ap"])
        elif r < 0.93:
            e["region"] = None
        e["host"] = rng.choice(["Web-1", "web-1", "WEB-2", "web-3", "Api-1"])
        e["method"] = rng.choice(["GET", "GET", "GET", "POST", "PUT", "DELETE"])
        if rng.random() < 0.95:
            e["status"] = rng.choice([200, 200, 200, 201, 301, 404, 500, 502, 503])
        else:
            e["status"] = None
        if rng.random() < 0.9:
            e["latency_ms"] = int(rng.expovariate(1 / 300)) + 1
        if rng.random() < 0.8:
            e["score"] = round(rng.uniform(-50, 100), 3)
        e["bytes"] = rng.randrange(0, 2_000_000)
        e["user"] = f"u{int(rng.paretovariate(1.2)) % 400}"
        e["path"] = rng.choice(["/api/a", "/api/b", "/api/c", "/home"]) + rng.choice(
            ["", "", "?x=1", "?y=2&z=3"])
        if rng.random() < 0.9:
            e["client"] = {"id": rng.randrange(1, 50), "os": rng.choice(["ios", "android", "web"])}
        events.append(e)
    # Local disorder: swap neighbours.
    for i in range(0, n - 1, 7):
        events[i], events[i + 1] = events[i + 1], events[i]
    return events


def write_jsonl(path, events):
    with open(path, "w") as f:
        for e in events:
            f.write(json.dumps(e, separators=(",", ":")) + "\n")


# ---- Random pipelines: each part in Pulse's text and in DuckDB's SQL ----

# Computed fields: name -> (Pulse, DuckDB, kind) where kind says what the value is.
FIELDS = {
    "latency_s": ("latency_ms / 1000.0", "latency_ms / 1000.0", "double"),
    "route": ("split_part(path, '?', 1)", "split_part(path, '?', 1)", "string"),
    "status_class": ("status // 100", "status // 100", "int"),
    "h": ("lower(host)", "lower(host)", "string"),
    "speed": ("case when latency_ms > 1000 then 'slow' when latency_ms > 100 then 'ok' "
              "else 'fast' end",
              "case when latency_ms > 1000 then 'slow' when latency_ms > 100 then 'ok' "
              "else 'fast' end", "string"),
    "kb": ("bytes / 1024", "bytes / 1024", "double"),
    "weighted": ("coalesce(score, 0) * 2 + 1", "coalesce(score, 0) * 2 + 1", "double"),
}

# Conditions for `where`: the same text in both, or (Pulse, DuckDB).
CONDITIONS = [
    "status >= 500",
    "status < 400",
    "status between 200 and 299",
    "status in (404, 503)",
    "status not in (200, 201)",
    "method in ('GET', 'POST')",
    "method = 'GET'",
    "method != 'DELETE'",
    "path like '/api/a%'",
    "path not like '%?%'",
    "region is null",
    "region is not null",
    "latency_ms > 250",
    "lower(host) like 'web%'",
    "score < 0",
    "bytes % 3 = 0",
    "client.os = 'ios'",
    "length(user) = 2",
    ("regexp_like(path, '^/api/[ab]')", "regexp_matches(path, '^/api/[ab]')"),
    ("regexp_extract(path, '[a-z]=([0-9])', 1) = '1'",
     "nullif(regexp_extract(path, '[a-z]=([0-9])', 1), '') = '1'"),
    ("starts_with(lower(host), 'web')", "starts_with(lower(host), 'web')"),
]
FIELD_CONDITIONS = {
    "latency_s": "latency_s >= 0.5",
    "route": "route <> '/home'",
    "status_class": "status_class = 2",
    "speed": "speed in ('ok', 'slow')",
}

# Key parts: (Pulse text, DuckDB expression, output name).
KEYS = [
    ("region", "region", "region"),
    ("method", "method", "method"),
    ("lower(host) as host", "lower(host)", "host"),
    ("client.os", "client.os", "client.os"),
    ("status // 100 as sc", "status // 100", "sc"),
    ("coalesce(region, 'none') as zone", "coalesce(region, 'none')", "zone"),
]
FIELD_KEYS = {"route", "status_class", "h", "speed"}

# Aggregates: (Pulse call, DuckDB SQL, how to compare).
AGGREGATES = [
    ("count(*)", "count(*)", "exact"),
    ("count(latency_ms)", "count(latency_ms)", "exact"),
    ("count(region)", "count(region)", "exact"),
    ("sum(bytes)", "sum(bytes)", "exact"),
    ("sum(latency_ms)", "sum(latency_ms)", "exact"),
    ("sum(score)", "sum(score)", "float"),
    ("avg(latency_ms)", "avg(latency_ms)", "float"),
    ("avg(score)", "avg(score)", "float"),
    ("min(latency_ms)", "min(latency_ms)", "exact"),
    ("max(latency_ms)", "max(latency_ms)", "exact"),
    ("min(score)", "min(score)", "exact"),
    ("max(bytes)", "max(bytes)", "exact"),
    ("count(distinct user)", "count(distinct user)", "exact"),
    ("count(distinct status)", "count(distinct status)", "exact"),
    ("stddev(latency_ms)", "stddev_samp(latency_ms)", "float"),
    ("variance(score)", "var_samp(score)", "float"),
    ("stddev_pop(score)", "stddev_pop(score)", "float"),
    ("var_pop(latency_ms)", "var_pop(latency_ms)", "float"),
    ("first(status)", "arg_min(status, event_time) filter (where status is not null)", "exact"),
    ("last(user)", "arg_max(user, event_time) filter (where user is not null)", "exact"),
    ("first(score)", "arg_min(score, event_time) filter (where score is not null)", "exact"),
    ("sum(latency_ms * 2)", "sum(latency_ms * 2)", "exact"),
    ("max(bytes % 1000)", "max(bytes % 1000)", "exact"),
    ("avg(coalesce(score, 0))", "avg(coalesce(score, 0))", "float"),
    ("quantile(latency_ms, 0.5)", "quantile_disc(latency_ms, 0.5)", "quantile:latency_ms:0.5"),
    ("quantile(latency_ms, 0.99)", "quantile_disc(latency_ms, 0.99)",
     "quantile:latency_ms:0.99"),
    ("median(score)", "quantile_disc(score, 0.5)", "quantile:score:0.5"),
    ("approx_distinct(user)", "count(distinct user)", "approx_distinct"),
    ("top_k(method, 2)", "histogram(method)", "top_k:2"),
]
FIELD_AGGREGATES = {
    "latency_s": [("avg(latency_s)", "avg(latency_s)", "float"),
                  ("max(latency_s)", "max(latency_s)", "exact")],
    "kb": [("sum(kb)", "sum(kb)", "float")],
    "status_class": [("sum(status_class)", "sum(status_class)", "exact")],
    "weighted": [("min(weighted)", "min(weighted)", "exact")],
}

WINDOWS = [("1m", 60_000), ("5m", 300_000), ("15m", 900_000), ("1h", 3_600_000)]


class Pipeline:
    def __init__(self):
        self.where = None  # (pulse, sql)
        self.fields = []  # (name, pulse, sql)
        self.keys = []  # (pulse, sql, name)
        self.aggregates = []  # (name, pulse, sql, compare)
        self.having = None  # (pulse, sql, hidden aggregate or None)
        self.window = None  # (text, ms)

    def toml(self, data):
        lines = ["[source]", 'kind = "file"', f'path = "{data}"', "", "[window]",
                 'type = "tumbling"', f'size = "{self.window[0]}"', "", "[ops]"]
        if self.where:
            lines.append(f"where = {json.dumps(self.where[0])}")
        lines.append("key = [" + ", ".join(json.dumps(k[0]) for k in self.keys) + "]")
        if self.having:
            lines.append(f"having = {json.dumps(self.having[0])}")
        if self.fields:
            lines += ["", "[ops.fields]"]
            lines += [f"{name} = {json.dumps(p)}" for name, p, _ in self.fields]
        lines += ["", "[ops.aggregates]"]
        lines += [f"{name} = {json.dumps(p)}" for name, p, _, _ in self.aggregates]
        lines += ["", "[sink]", 'kind = "file"', 'path = "out.jsonl"', ""]
        return "\n".join(lines)

    def sql(self, data):
        size = self.window[1]
        fields = "".join(f", {sql} AS \"{name}\"" for name, _, sql in self.fields)
        where = f"WHERE {self.where[1]}" if self.where else ""
        keys = "".join(f", {sql} AS \"{name}\"" for _, sql, name in self.keys)
        aggs = "".join(f", {sql} AS \"{name}\"" for name, _, sql, _ in self.aggregates)
        hidden = ""
        if self.having and self.having[2]:
            hidden = f", {self.having[2]} AS __hidden"
        query = (f"WITH t AS (SELECT * FROM read_json('{data}', format='newline_delimited', "
                 f"columns={COLUMNS})), "
                 f"f AS (SELECT *{fields} FROM t), "
                 f"g AS (SELECT (event_time // {size}) * {size} AS window_start_ms, "
                 f"(event_time // {size}) * {size} + {size} AS window_end_ms{keys}{aggs}{hidden} "
                 f"FROM f {where} GROUP BY ALL) "
                 f"SELECT * FROM g")
        if self.having:
            query += f" WHERE {self.having[1]}"
        return query


def random_pipeline(rng):
    p = Pipeline()
    p.window = rng.choice(WINDOWS)
    for name in rng.sample(sorted(FIELDS), rng.choice([0, 0, 1, 2, 3])):
        pulse, sql, _ = FIELDS[name]
        p.fields.append((name, pulse, sql))
    field_names = [f[0] for f in p.fields]
    # where: one to three conditions, joined by and/or, sometimes negated.
    if rng.random() < 0.8:
        pool = CONDITIONS + [FIELD_CONDITIONS[f] for f in field_names if f in FIELD_CONDITIONS]
        parts = [c if isinstance(c, tuple) else (c, c)
                 for c in rng.sample(pool, rng.choice([1, 1, 2, 3]))]
        text, sql = parts[0]
        for part, part_sql in parts[1:]:
            op = rng.choice(["and", "and", "or"])
            if op == "or":
                text, sql = f"({text}) or ({part})", f"({sql}) or ({part_sql})"
            else:
                text, sql = f"{text} and {part}", f"{sql} and {part_sql}"
        if rng.random() < 0.15:
            text, sql = f"not ({text})", f"not ({sql})"
        p.where = (text, sql)
    # key: zero to three parts, unique names.
    pool = list(KEYS) + [(f, f, f) for f in field_names if f in FIELD_KEYS]
    p.keys = rng.sample(pool, rng.choice([0, 1, 1, 2, 2, 3]))
    # aggregates: one to six, unique names.
    pool = list(AGGREGATES)
    for f in field_names:
        pool += FIELD_AGGREGATES.get(f, [])
    chosen = rng.sample(pool, rng.choice([1, 2, 3, 4, 5, 6]))
    for i, (pulse, sql, compare) in enumerate(chosen):
        p.aggregates.append((f"a{i}_{pulse.split('(')[0]}", pulse, sql, compare))
    # having: on a visible aggregate, or on a call no aggregate names.
    r = rng.random()
    if r < 0.2:
        p.having = ("count(*) >= 3", "__hidden >= 3", "count(*)")
    elif r < 0.4:
        exact = [a for a in p.aggregates if a[3] == "exact" and a[1].startswith(("count", "sum"))]
        if exact:
            a = rng.choice(exact)
            p.having = (f"{a[0]} > 2", f"\"{a[0]}\" > 2", None)
    return p


# ---- Running and comparing ----

def run_pulse(pulse, cwd, config, workers):
    (cwd / "pipeline.toml").write_text(config)
    proc = subprocess.run([pulse, "run", "--config", "pipeline.toml", "--workers", str(workers)],
                          cwd=cwd, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        fail(f"pulse failed ({proc.returncode}) on {cwd / 'pipeline.toml'}:\n{proc.stderr}")
    return (cwd / "out.jsonl").read_text()


def pairs_hook(pairs):
    return pairs  # keep the members' order


def same_number(actual, expected, compare):
    if expected is None:
        return actual is None
    if actual is None:
        return False
    if compare == "exact":
        # Integers must come out as integers, doubles as the same double.
        if isinstance(expected, bool) or isinstance(actual, bool):
            return actual == expected
        if isinstance(expected, int):
            return isinstance(actual, int) and actual == expected
        if isinstance(expected, float):
            return isinstance(actual, (int, float)) and actual == expected
        return actual == expected
    if compare == "float":
        if not isinstance(actual, (int, float)):
            return False
        return math.isclose(actual, float(expected), rel_tol=1e-9, abs_tol=1e-9)
    fail(f"unknown comparison {compare}")


def check_pipeline(pulse, work, data, p, index, group_values):
    cwd = work / f"p{index:03d}"
    cwd.mkdir(parents=True, exist_ok=True)
    shutil.copy(data, cwd / "data.jsonl")
    config = p.toml("data.jsonl")
    out1 = run_pulse(pulse, cwd, config, 1)
    out4 = run_pulse(pulse, cwd, config, 4)
    where = f"{cwd / 'pipeline.toml'}"
    if out1 != out4:
        fail(f"{where}: the output with 4 workers differs from the output with 1")
    names = ["window_start_ms", "window_end_ms"] + [k[2] for k in p.keys] + \
            [a[0] for a in p.aggregates]
    actual = {}
    for line in out1.splitlines():
        members = json.loads(line, object_pairs_hook=pairs_hook)
        got = [m[0] for m in members]
        if got != names:
            fail(f"{where}: members {got}, expected {names} (key order, then the file's order)")
        row = dict(members)
        key = tuple(json.dumps(row[n]) for n in names[:2 + len(p.keys)])
        if key in actual:
            fail(f"{where}: two results for {key}")
        actual[key] = row
    con = duckdb.connect()
    rel = con.sql(p.sql(str(cwd / "data.jsonl")))
    columns = rel.columns
    expected = {}
    for values in rel.fetchall():
        row = dict(zip(columns, values))
        key = tuple(json.dumps(row[n]) for n in names[:2 + len(p.keys)])
        expected[key] = row
    if set(actual) != set(expected):
        missing = sorted(set(expected) - set(actual))[:3]
        extra = sorted(set(actual) - set(expected))[:3]
        fail(f"{where}: groups differ: {len(actual)} from Pulse, {len(expected)} from DuckDB; "
             f"missing {missing}, extra {extra}\nSQL: {p.sql('data.jsonl')}")
    checked = 0
    for key, want in expected.items():
        got = actual[key]
        for name, pulse_call, sql, compare in p.aggregates:
            if compare.startswith("quantile:"):
                _, field, q = compare.split(":")
                ok = check_quantile(got[name], want[name], group_values(p, key, field), float(q))
            elif compare == "approx_distinct":
                ok = check_approx_distinct(got[name], want[name])
            elif compare.startswith("top_k:"):
                ok = check_top_k(got[name], want[name], int(compare.split(":")[1]))
            else:
                ok = same_number(got[name], want[name], compare)
            if not ok:
                fail(f"{where}: {name} = {pulse_call} for {key}: Pulse {got[name]!r}, "
                     f"DuckDB {want[name]!r} ({sql})\nSQL: {p.sql('data.jsonl')}")
            checked += 1
    return len(expected), checked


# Sketch bounds, as documented in docs/aggregates.md.
HLL_EXACT_UP_TO = 1024
HLL_RSE = 0.0081
KLL_EXACT_UP_TO = 1024
KLL_RANK_ERROR = 0.01


# The largest errors seen, for the summary line: (relative error, exact) of approx_distinct
# beyond its exact range, and the rank error (as a share of n) of sketched quantiles.
WORST = {"distinct": (0.0, 0), "rank": 0.0, "sketched_quantiles": 0}


def check_approx_distinct(actual, exact):
    if not isinstance(actual, int):
        return False
    if exact <= HLL_EXACT_UP_TO:
        return actual == exact
    error = abs(actual - exact) / exact
    if error >= WORST["distinct"][0]:
        WORST["distinct"] = (error, exact)
    return error <= 3 * HLL_RSE


def check_quantile(actual, exact, values, q):
    """Exact (DuckDB's quantile_disc) up to KLL_EXACT_UP_TO numbers; beyond, a value whose rank
    is within KLL_RANK_ERROR·n of the exact rank ⌈q·n⌉."""
    if exact is None:
        return actual is None
    if values is None or len(values) <= KLL_EXACT_UP_TO:
        return actual == exact and type(actual) is type(exact)
    n = len(values)
    below = sum(1 for v in values if v < actual)
    at_most = sum(1 for v in values if v <= actual)
    target = max(1, math.ceil(q * n))
    # Some rank r with below < r <= at_most must be within the error of the target.
    error = max(0, below + 1 - target, target - at_most) / n
    WORST["rank"] = max(WORST["rank"], error)
    WORST["sketched_quantiles"] += 1
    return error <= KLL_RANK_ERROR


def check_top_k(actual, histogram, k):
    """Counts are exact here (few distinct values): the k most frequent, by count descending,
    then by value."""
    if not histogram:
        return actual == [] or actual is None
    ranked = sorted(histogram.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
    expected = [[("value", v), ("count", c)] for v, c in ranked]
    return actual == expected


def values_lookup(data_path):
    """A function (pipeline, group key, field) → the field's numbers in that group, for the
    rank check of quantiles over large groups (None when the group is small)."""
    con = duckdb.connect()
    con.sql(f"CREATE TABLE t AS SELECT * FROM read_json('{data_path}', "
            f"format='newline_delimited', columns={COLUMNS})")

    def lookup(p, key, field):
        size = p.window[1]
        fields = "".join(f", {sql} AS \"{name}\"" for name, _, sql in p.fields)
        where = f"AND ({p.where[1]})" if p.where else ""
        conditions = [f"(event_time // {size}) * {size} = {json.loads(key[0])}"]
        for (_, sql, _), k in zip(p.keys, key[2:]):
            v = json.loads(k)
            conditions.append(f"({sql}) IS NULL" if v is None else f"({sql}) = {sql_literal(v)}")
        query = (f"WITH f AS (SELECT *{fields} FROM t) SELECT {field} FROM f WHERE "
                 f"{field} IS NOT NULL {where} AND " + " AND ".join(conditions))
        rows = con.sql(query).fetchall()
        return [r[0] for r in rows] if len(rows) > KLL_EXACT_UP_TO else None

    return lookup


def sql_literal(v):
    if isinstance(v, str):
        return "'" + v.replace("'", "''") + "'"
    return repr(v)


def case_exact(args):
    rng = random.Random(args.seed)
    work = Path(args.work)
    data = work / "data.jsonl"
    write_jsonl(data, generate_events(rng, 20_000, 500))
    lookup = values_lookup(str(data))
    groups = checks = 0
    for i in range(args.pipelines):
        p = random_pipeline(rng)
        g, c = check_pipeline(args.pulse, work, data, p, i, lookup)
        groups += g
        checks += c
    print(f"{args.pipelines} pipelines, {groups} groups, {checks} aggregate values equal to "
          f"DuckDB's ({WORST['sketched_quantiles']} sketched quantiles within "
          f"{WORST['rank']:.3%} of n in rank)")


def case_sketches(args):
    """Large windows: approx_distinct from tens to 10^5 distinct values, quantiles over
    hundreds of thousands of numbers, top_k with heavy hitters."""
    rng = random.Random(args.seed)
    work = Path(args.work)
    data = work / "data.jsonl"
    events = []
    t = T0
    n = 400_000
    for i in range(n):
        t += rng.randrange(1, 40)
        region = rng.choice(["eu", "us", "ap", "sa"])
        # Distinct users per (window, region): from tens (sa) to about 10^5 (eu).
        spread = {"eu": 400_000, "us": 20_000, "ap": 1_500, "sa": 40}[region]
        events.append({"event_time": t, "region": region, "user": f"u{rng.randrange(spread)}",
                       "latency_ms": int(rng.lognormvariate(5, 1.2)),
                       "path": f"/p{min(int(rng.paretovariate(1.1)), 500)}"})
    write_jsonl(data, events)
    p = Pipeline()
    p.window = ("1h", 3_600_000)
    p.keys = [("region", "region", "region")]
    p.aggregates = [
        ("users", "approx_distinct(user)", "count(distinct user)", "approx_distinct"),
        ("p50", "quantile(latency_ms, 0.5)", "quantile_disc(latency_ms, 0.5)",
         "quantile:latency_ms:0.5"),
        ("p99", "quantile(latency_ms, 0.99)", "quantile_disc(latency_ms, 0.99)",
         "quantile:latency_ms:0.99"),
        ("p999", "quantile(latency_ms, 0.999)", "quantile_disc(latency_ms, 0.999)",
         "quantile:latency_ms:0.999"),
        ("requests", "count(*)", "count(*)", "exact"),
    ]
    lookup = values_lookup(str(data))
    groups, checks = check_pipeline(args.pulse, work, data, p, 0, lookup)
    # top_k: the heavy hitters of a skewed distribution over ~500 distinct values, beyond the
    # summary's exact range: the same values in the same order as the exact top 5 (their
    # counts are far apart), each count low by at most n / (capacity + 1).
    q = Pipeline()
    q.window = ("1h", 3_600_000)
    q.keys = []
    q.aggregates = [("top", "top_k(path, 5)", "histogram(path)", "top_k_heavy:5")]
    cwd = work / "top_k"
    cwd.mkdir(parents=True, exist_ok=True)
    shutil.copy(data, cwd / "data.jsonl")
    out = run_pulse(args.pulse, cwd, q.toml("data.jsonl"), 2)
    con = duckdb.connect()
    rows = con.sql(q.sql(str(cwd / "data.jsonl"))).fetchall()
    expected = {r[0]: r[2] for r in rows}
    capacity = max(128, 4 * 5)
    summarized = 0
    for line in out.splitlines():
        row = json.loads(line)
        hist = expected[row["window_start_ms"]]
        n_values = sum(hist.values())
        ranked = sorted(hist.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
        got = [(e["value"], e["count"]) for e in row["top"]]
        # Exact counts while the window saw at most 2·capacity distinct values.
        bound = n_values / (capacity + 1) if len(hist) > 2 * capacity else 0
        summarized += len(hist) > 2 * capacity
        if [v for v, _ in got] != [v for v, _ in ranked]:
            fail(f"top_k(path, 5) of window {row['window_start_ms']}: {got}, expected the "
                 f"values of {ranked}")
        for (value, count), (_, exact) in zip(got, ranked):
            if not exact - bound <= count <= exact:
                fail(f"top_k(path, 5): count of {value} is {count}, exact {exact}, allowed "
                     f"{exact - bound:.0f} to {exact}")
        checks += 1
    if summarized == 0:
        fail("top_k: no window saw more distinct values than the summary keeps exactly")
    print(f"{groups} groups of up to {n} records: approx_distinct, quantiles and top_k within "
          f"their bounds ({checks} values); approx_distinct worst relative error "
          f"{WORST['distinct'][0]:.3%} (of {WORST['distinct'][1]} distinct), "
          f"{WORST['sketched_quantiles']} sketched quantiles, worst rank error "
          f"{WORST['rank']:.3%} of n; {summarized} top_k windows beyond the exact range")


CASES = {"exact": case_exact, "sketches": case_sketches}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pulse", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--seed", type=int, default=17)
    parser.add_argument("--pipelines", type=int, default=60)
    parser.add_argument("case", choices=sorted(CASES))
    args = parser.parse_args()
    work = Path(args.work)
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    CASES[args.case](args)


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print(f"FAIL: {e}", file=sys.stderr)
        sys.exit(1)
