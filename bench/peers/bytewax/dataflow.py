# SPDX-License-Identifier: MIT
"""The Bytewax peer of Pulse's benchmark harness: the same three event-time queries as a Bytewax
dataflow (bench/peers/bytewax/README.md). Parameters come from the environment (run.sh sets
them): PEER_QUERY, PEER_INPUT, PEER_OUTPUT (a file), PEER_BOUND_MS."""
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import bytewax.operators as op
from bytewax.connectors.files import FileSink, FileSource
from bytewax.dataflow import Dataflow
from bytewax.operators.windowing import (EventClock, SessionWindower, SlidingWindower,
                                         TumblingWindower, fold_window)

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
QUERY = os.environ["PEER_QUERY"]
BOUND = timedelta(milliseconds=int(os.environ.get("PEER_BOUND_MS", "1000")))
# A constant "now": the watermark is then exactly the largest event time minus the bound, as in
# Pulse, instead of also creeping forward with the wall clock.
NOW = datetime(2000, 1, 1, tzinfo=timezone.utc)


def parse(line):
    """(key, (event time, value)) or None for a line that is not a usable JSON object."""
    try:
        r = json.loads(line)
        ts = EPOCH + timedelta(milliseconds=int(r["event_time"]))
        return str(r["key"]), (ts, int(r.get("value", 0)))
    except (ValueError, KeyError, TypeError):
        return None


def ms(t):
    return (t - EPOCH) // timedelta(milliseconds=1)


flow = Dataflow(f"pulse_peer_{QUERY}")
lines = op.input("read", flow, FileSource(Path(os.environ["PEER_INPUT"])))
events = op.filter_map("parse", op.redistribute("spread", lines), parse)
clock = EventClock(ts_getter=lambda e: e[0], wait_for_system_duration=BOUND,
                   now_getter=lambda: NOW, to_system_utc=lambda t: None)

if QUERY == "tumbling_count":
    windower, field = TumblingWindower(length=timedelta(seconds=60), align_to=EPOCH), "count"
elif QUERY == "sliding_avg":
    windower, field = SlidingWindower(length=timedelta(seconds=60), offset=timedelta(seconds=15),
                                      align_to=EPOCH), "avg"
elif QUERY == "session_count":
    windower, field = SessionWindower(gap=timedelta(seconds=5)), "count"
else:
    raise SystemExit(f"unknown query {QUERY} (tumbling_count, sliding_avg, session_count)")

# Accumulator [count, sum]: no per-item buffering (ordered=False: the order of items within a
# window does not change a count or a sum).
out = fold_window("window", events, clock, windower, lambda: [0, 0],
                  lambda acc, e: [acc[0] + 1, acc[1] + e[1]],
                  lambda a, b: [a[0] + b[0], a[1] + b[1]], ordered=False)


def result(key, start, end, acc):
    value = acc[0] if field == "count" else acc[1] / acc[0]
    return json.dumps({"window_start_ms": start, "window_end_ms": end, "key": key,
                       field: value}, separators=(",", ":"))


if QUERY == "session_count":
    # A session's bounds are in the metadata stream: join it with the values by (key, window).
    # Pulse's session end is the last event time + gap; Bytewax's close_time is the last event.
    gap_ms = 5000
    values = op.map("value_key", out.down, lambda kv: (f"{kv[0]}\x00{kv[1][0]}", kv[1][1]))
    metas = op.map("meta_key", out.meta, lambda kv: (f"{kv[0]}\x00{kv[1][0]}", kv[1][1]))
    joined = op.join("join", values, metas)
    lines_out = op.map("format", joined, lambda kv: (
        kv[0], result(kv[0].split("\x00")[0], ms(kv[1][1].open_time),
                      ms(kv[1][1].close_time) + gap_ms, kv[1][0])))
else:
    # Tumbling and sliding window ids count offsets from the epoch.
    offset_ms = 60000 if QUERY == "tumbling_count" else 15000
    lines_out = op.map("format", out.down, lambda kv: (
        kv[0], result(kv[0], kv[1][0] * offset_ms, kv[1][0] * offset_ms + 60000, kv[1][1])))

# FileSink is a partitioned sink: it takes (key, line) pairs and writes the lines.
op.output("write", lines_out, FileSink(Path(os.environ["PEER_OUTPUT"])))
