#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Generate the bundled example data (examples/data, pulse-examples/examples) and the expected
# outputs of the example pipelines and programs (examples/expected), deterministically.
"""Regenerate Pulse's example data and expected results.

Usage: scripts/gen_examples.py [--check | --print EXPECTED_NAME]

The data is committed; run this only after changing it. `--check` regenerates into memory and
exits 1 if any committed file differs. `--print wordcount.jsonl` writes one expected output to
stdout (large ones are committed only as `<name>.sha256`: digest and line count).

The expected outputs are computed here with a small, independent reference implementation of
Pulse's window semantics (no lateness effects: every example runs to the end of a finite input in
event-time order), so the ctest cases that compare them with the engine's output are a real
cross-check.
"""

import datetime as dt
import hashlib
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent

# ---------------------------------------------------------------------------------------------
# Deterministic pseudo-random numbers (a 64-bit LCG, so that output never depends on the Python
# version's `random` module).


class Lcg:
    def __init__(self, seed):
        self.state = seed & 0xFFFFFFFFFFFFFFFF

    def next(self):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
        return self.state >> 33

    def below(self, n):
        return self.next() % n

    def between(self, lo, hi):  # inclusive
        return lo + self.below(hi - lo + 1)


def rfc3339_z(ms):
    t = dt.datetime.fromtimestamp(ms / 1000, tz=dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def compact(v):
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


# ---------------------------------------------------------------------------------------------
# Data sets.

SLIDING_BASE_MS = 1700000000000  # 2023-11-14T22:13:20Z


def sliding_avg_records():
    """The original's sample: 1000 records, 15 s apart, devices A/B alternating."""
    out = []
    for i in range(1000):
        ms = SLIDING_BASE_MS + 15000 * i
        device = "A" if i % 2 == 0 else "B"
        value = i % 100 if device == "A" else (i % 100) + 10
        out.append((ms, {"event_time": rfc3339_z(ms), "device": device, "value": value}))
    return out


WORDS = (
    "the stream window event time watermark late record key count flows through a pipeline "
    "of operators and every batch carries values from source to sink while state grows in "
    "key groups then results leave in order pulse reads files writes lines sliding session "
    "tumbling gap slide size data river signal clock tick moves forward never back"
).split()
WORDCOUNT_BASE_US = 1758013933038133  # 2025-09-16T09:12:13.038133Z, as in the original


def wordcount_records():
    """1000 lines of 3-9 words, 15 s apart; times with microseconds and a +00:00 offset."""
    rng = Lcg(20250916)
    out = []
    for i in range(1000):
        us = WORDCOUNT_BASE_US + 15_000_000 * i
        t = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(microseconds=us)
        stamp = t.strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
        n = rng.between(3, 9)
        # Skewed choice (min of two draws) so that a few words dominate, as in real text.
        words = [WORDS[min(rng.below(len(WORDS)), rng.below(len(WORDS)))] for _ in range(n)]
        if rng.below(4) == 0:
            words[0] = words[0].capitalize()  # the example lower-cases words
        out.append((us // 1000, {"event_time": stamp, "text": " ".join(words)}))
    return out


CLICKS_BASE_MS = 1709283600000  # 2024-03-01T09:00:00Z
PAGES = [
    ("/", "Home"),
    ("/search", "Search results"),
    ("/cart", "Your cart"),
    ("/checkout", "Checkout"),
    ("/products/1", "Shoes, running"),
    ("/products/2", "Shoes, trail"),
    ("/products/3", 'The "best" socks'),
    ("/products/4", "Jacket"),
    ("/products/5", "Water bottle, 1 l"),
    ("/products/6", "Headlamp"),
]


def clicks_rows():
    """About 600 page views by 12 users, in sessions separated by long pauses."""
    rng = Lcg(1709283600)
    events = []
    for u in range(1, 13):
        user = f"u{u:02d}"
        t = CLICKS_BASE_MS + rng.between(0, 20 * 60) * 1000
        for _ in range(rng.between(3, 5)):
            for _ in range(rng.between(4, 14)):
                page, title = PAGES[min(rng.below(len(PAGES)), rng.below(len(PAGES)))]
                duration = rng.between(200, 60000)
                events.append((t, user, page, title, duration))
                t += rng.between(5, 120) * 1000 + rng.below(1000)
            t += rng.between(10, 50) * 60 * 1000  # the pause that ends a session
    events.sort(key=lambda e: (e[0], e[1]))
    return events


def csv_cell(s):
    s = str(s)
    if any(c in s for c in ',"\r\n'):
        return '"' + s.replace('"', '""') + '"'
    return s


# ---------------------------------------------------------------------------------------------
# Reference window semantics (finite input, default watermark: every record counts).


def floor_div(a, b):
    return a // b  # Python's // is floor division, as Pulse's FloorDiv


def tumbling(ts, size):
    s = floor_div(ts, size) * size
    return [(s, s + size)]


def sliding(ts, size, slide):
    out = []
    k = floor_div(ts, slide)
    while k * slide + size > ts:
        out.append((k * slide, k * slide + size))
        k -= 1
    return out


def fmt_double(d):
    """Pulse's double format for the values these examples produce (moderate magnitudes)."""
    if d != d or d in (float("inf"), float("-inf")):
        return "null"
    if d == int(d) and abs(d) < 1e16:
        return f"{int(d)}.0"
    text = repr(d)
    assert "e" not in text, text
    return text


def agg_result(name, values):
    if name == "count":
        return str(len(values))
    if name == "distinct_count":
        return str(len({compact(v) for v in values if v is not None}))
    nums = []
    for v in values:
        if isinstance(v, bool) or v is None:
            continue
        if isinstance(v, (int, float)):
            nums.append(float(v))
        elif isinstance(v, str):
            try:
                nums.append(float(v))
            except ValueError:
                pass
    if not nums:
        return "null"
    if name == "sum":
        return fmt_double(sum(nums))
    if name == "avg":
        return fmt_double(sum(nums) / len(nums))
    if name == "min":
        return fmt_double(min(nums))
    if name == "max":
        return fmt_double(max(nums))
    raise ValueError(name)


def window_results(items, assign, agg_name):
    """items: (ts, key, agg_value). Returns result lines in Pulse's output order."""
    groups = {}
    for ts, key, v in items:
        for w in assign(ts):
            groups.setdefault((w, compact(key)), []).append(v)
    rows = sorted(groups.items(), key=lambda kv: (kv[0][0][1], kv[0][0][0], kv[0][1].encode()))
    return [
        f'{{"window_start_ms":{s},"window_end_ms":{e},"key":{k},"{agg_name}":'
        f"{agg_result(agg_name, vals)}}}"
        for ((s, e), k), vals in rows
    ]


def session_results(items, gap, agg_name):
    by_key = {}
    for ts, key, v in items:
        by_key.setdefault(compact(key), []).append((ts, v))
    rows = []
    for k, evs in by_key.items():
        evs.sort(key=lambda e: e[0])
        start, last, vals = None, None, []
        for ts, v in evs:
            if start is not None and ts <= last + gap:
                last = max(last, ts)
                vals.append(v)
                continue
            if start is not None:
                rows.append((start, last + gap, k, vals))
            start, last, vals = ts, ts, [v]
        if start is not None:
            rows.append((start, last + gap, k, vals))
    rows.sort(key=lambda r: (r[1], r[0], r[2].encode()))
    return [
        f'{{"window_start_ms":{s},"window_end_ms":{e},"key":{k},"{agg_name}":'
        f"{agg_result(agg_name, vals)}}}"
        for s, e, k, vals in rows
    ]


# ---------------------------------------------------------------------------------------------


def build_files():
    files = {}

    sliding_recs = sliding_avg_records()
    sliding_text = "".join(compact(v) + "\n" for _, v in sliding_recs)
    files["examples/data/sliding_avg.jsonl"] = sliding_text
    files["pulse-examples/examples/sliding_avg.jsonl"] = sliding_text

    word_recs = wordcount_records()
    word_text = "".join(compact(v) + "\n" for _, v in word_recs)
    files["examples/data/wordcount.jsonl"] = word_text
    files["pulse-examples/examples/wordcount.jsonl"] = word_text

    clicks = clicks_rows()
    lines = ["event_time,user,page,title,duration_ms"]
    for t, user, page, title, duration in clicks:
        lines.append(",".join(csv_cell(c) for c in (t, user, page, title, duration)))
    files["examples/data/clicks.csv"] = "\n".join(lines) + "\n"

    def out(name, rows):
        files[f"examples/expected/{name}"] = "".join(r + "\n" for r in rows)

    dev = [(ts, v["device"], v["value"]) for ts, v in sliding_recs]
    # pipelines/tumbling_count.toml: tumbling 60 s, count per device.
    out("tumbling.jsonl", window_results(dev, lambda ts: tumbling(ts, 60000), "count"))
    # pipelines/sliding_avg.toml and the sliding_avg program: 5 min every 1 min, avg of value.
    out("sliding_avg.jsonl",
        window_results(dev, lambda ts: sliding(ts, 300000, 60000), "avg"))
    # pipelines/sessions.toml: CSV, sessions with a 5 min gap, page views per user.
    by_user = [(t, user, None) for t, user, _, _, _ in clicks]
    out("sessions.jsonl", session_results(by_user, 300000, "count"))
    # pipelines/clicks_csv.toml: CSV, tumbling 15 min, distinct users per page.
    by_page = [(t, page, user) for t, user, page, _, _ in clicks]
    out("page_visitors.jsonl",
        window_results(by_page, lambda ts: tumbling(ts, 900000), "distinct_count"))
    # pipelines/slowest_page.toml: CSV, tumbling 1 h, max duration_ms (a numeric string) per page.
    by_page_dur = [(t, page, str(d)) for t, _, page, _, d in clicks]
    out("slowest_page.jsonl",
        window_results(by_page_dur, lambda ts: tumbling(ts, 3600000), "max"))
    # The wordcount program: lower-cased words, tumbling 60 s count per word.
    words = [(ts, w.lower(), None) for ts, v in word_recs for w in v["text"].split()]
    out("wordcount.jsonl", window_results(words, lambda ts: tumbling(ts, 60000), "count"))
    return files


# Expected outputs larger than this are committed as a digest only.
MAX_COMMITTED_EXPECTED_BYTES = 100_000


def committed_files(files):
    """Replace large expected outputs by `<name>.sha256` files ("<hex digest> <lines>")."""
    out = {}
    for rel, text in files.items():
        if rel.startswith("examples/expected/") and len(text) > MAX_COMMITTED_EXPECTED_BYTES:
            digest = hashlib.sha256(text.encode()).hexdigest()
            out[rel + ".sha256"] = f"{digest} {text.count(chr(10))}\n"
        else:
            out[rel] = text
    return out


def main(argv):
    files = build_files()
    if len(argv) == 3 and argv[1] == "--print":
        sys.stdout.write(files["examples/expected/" + argv[2]])
        return 0
    check = "--check" in argv[1:]
    stale = []
    for rel, text in committed_files(files).items():
        path = ROOT / rel
        if check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(rel)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {rel} ({text.count(chr(10))} lines)")
    if stale:
        print("out of date (run scripts/gen_examples.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
