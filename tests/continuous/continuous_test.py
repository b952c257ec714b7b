# SPDX-License-Identifier: MIT
"""Running continuously (issue 22), through the `pulse` binary: a writer process (this one)
appends events to a followed file or to Pulse's standard input chunk by chunk, and each result
must be in the output file (its final path) before the next chunk is written; log rotation
(rename and create, copytruncate) while Pulse follows; kill -9 of a following run with
checkpoints, whose reruns must leave exactly an uninterrupted run's output; one Ctrl-D on a
terminal ends standard input.

Expected results come from a bounded run of the same events (follow off): a following run has
written exactly the results of the windows that its watermark (the largest event time so far
minus max_out_of_orderness) has closed, a prefix of the bounded run's output.

Usage: continuous_test.py --pulse BIN --work DIR CASE   (one ctest test per CASE; see CASES)
"""

import argparse
import json
import os
import pty
import random
import shutil
import signal
import socket
import subprocess
import sys
import termios
import threading
import time
import urllib.request
from pathlib import Path

START_MS = 1_700_000_000_000
RUNNING = []  # every pulse process started, so that none outlives a failed test
OUT_OF_ORDERNESS_MS = 1000
WAIT_S = 60  # the longest wait for a result before the test fails (not a speed check)


def fail(message):
    raise AssertionError(message)


def make_events(n, seed, per_second=40):
    """Events in time order up to 800 ms out of order, a few bad lines, a few dozen keys."""
    rng = random.Random(seed)
    lines = []
    t = START_MS
    for i in range(n):
        t += rng.randint(0, 2000 // per_second)
        ts = max(START_MS, t - rng.randint(0, 800))
        if i % 997 == 13:
            lines.append("not a record\n")
        else:
            lines.append(json.dumps({"ts": ts, "user": f"u{rng.randint(0, 30)}"}) + "\n")
    return lines


def max_ts(lines):
    best = None
    for line in lines:
        try:
            ts = json.loads(line)["ts"]
        except ValueError:
            continue
        best = ts if best is None else max(best, ts)
    return best


def config(work, source_path, follow):
    return f"""[source]
kind = "file"
path = "{source_path}"
time_field = "ts"
follow = {"true" if follow else "false"}

[time]
max_out_of_orderness = "{OUT_OF_ORDERNESS_MS}ms"

[window]
type = "tumbling"
size = "1s"

[ops]
count_by = "user"

[sink]
kind = "file"
path = "{work}/out/out.jsonl"

[dead_letter]
path = "{work}/out/dead.jsonl"
"""


class Case:
    def __init__(self, pulse, work, lines, source_name="in.jsonl", glob=False):
        self.pulse, self.work = pulse, Path(work)
        if self.work.exists():
            shutil.rmtree(self.work)
        (self.work / "out").mkdir(parents=True)
        self.lines = lines
        self.input = self.work / source_name
        self.out = self.work / "out" / "out.jsonl"
        self.cfg = self.work / "pipeline.toml"
        stdin = source_name == "-"
        source = "-" if stdin else f"{self.input}*" if glob else self.input
        self.cfg.write_text(config(self.work, source, follow=not stdin))
        self.ckdir = self.work / "chk"
        self.reference = self.bounded_output()

    def bounded_output(self):
        """The results of a bounded run over every event, one per line."""
        ref = self.work / "ref"
        ref.mkdir()
        (ref / "in.jsonl").write_text("".join(self.lines))
        (ref / "out").mkdir()
        (ref / "pipeline.toml").write_text(config(ref, ref / "in.jsonl", follow=False))
        proc = subprocess.run([self.pulse, "run", "-c", str(ref / "pipeline.toml")],
                              capture_output=True, text=True, timeout=300)
        if proc.returncode != 0:
            fail(f"reference run exited {proc.returncode}: {proc.stderr}")
        return (ref / "out" / "out.jsonl").read_text().splitlines(keepends=True)

    def expected(self, written):
        """What a following run shows once it has read `written` lines: the windows its
        watermark closed."""
        top = max_ts(written)
        if top is None:
            return ""
        watermark = top - OUT_OF_ORDERNESS_MS
        return "".join(r for r in self.reference if json.loads(r)["window_end_ms"] <= watermark)

    def start(self, *args, workers=2, stdin=subprocess.DEVNULL):
        """Start `pulse run`; its standard error goes to a log file (proc.log). Runs still
        going when the test ends are killed (RUNNING)."""
        self.runs = getattr(self, "runs", 0) + 1
        log = self.work / f"pulse-{self.runs}.log"
        with open(log, "w") as err:
            proc = subprocess.Popen([self.pulse, "run", "-c", str(self.cfg), "--workers",
                                     str(workers), *args],
                                    stdin=stdin, stdout=subprocess.DEVNULL, stderr=err,
                                    text=True)
        proc.log = log
        RUNNING.append(proc)
        return proc

    def wait_until_open(self, proc, path):
        """Wait until `proc` holds `path` open: a followed name is followed from when Pulse
        opens it (as with tail -F), so a rotation before that is not Pulse's to see."""
        want = os.path.realpath(path)
        deadline = time.monotonic() + WAIT_S
        while True:
            try:
                fds = os.listdir(f"/proc/{proc.pid}/fd")
            except OSError:
                fds = []
            for fd in fds:
                try:
                    if os.readlink(f"/proc/{proc.pid}/fd/{fd}") == want:
                        return
                except OSError:
                    pass
            if proc.poll() is not None or time.monotonic() > deadline:
                fail(f"pulse did not open {path}: {proc.log.read_text()}")
            time.sleep(0.005)

    def start_checkpointed(self, workers):
        return self.start("--checkpoint-dir", str(self.ckdir), "--checkpoint-interval", "30ms",
                          "--batch-size", "256", workers=workers)

    def output(self):
        try:
            return self.out.read_text()
        except FileNotFoundError:
            return None

    def wait_for_output(self, want, proc=None, what="", start=None):
        """Wait until the output file holds exactly `want` (never more); returns the seconds
        since `start` (default: now)."""
        start = time.monotonic() if start is None else start
        while True:
            got = self.output()
            if got == want:
                return time.monotonic() - start
            if got is not None and not want.startswith(got):
                fail(f"{what}: the output is not a prefix of the expected results:\n"
                     f"got {len(got)} bytes, want {len(want)}; first difference at byte "
                     f"{next((i for i in range(min(len(got), len(want))) if got[i] != want[i]), min(len(got), len(want)))}")
            if proc is not None and proc.poll() is not None:
                fail(f"{what}: pulse exited {proc.returncode} early: {proc.log.read_text()}")
            if time.monotonic() - start > WAIT_S:
                fail(f"{what}: after {WAIT_S} s the output has {len(got or '')} of the "
                     f"{len(want)} bytes expected")
            time.sleep(0.002)


def chunks(lines, n):
    size = (len(lines) + n - 1) // n
    return [lines[i:i + size] for i in range(0, len(lines), size)]


def report(latencies, what):
    latencies = sorted(latencies)
    print(f"{what}: {len(latencies)} chunks; result visible after the chunk was written: "
          f"median {latencies[len(latencies) // 2] * 1000:.1f} ms, "
          f"max {latencies[-1] * 1000:.1f} ms")


def kill(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait()


def follow_visible(pulse, work):
    """A followed file: each chunk's closed windows are in out.jsonl before the next chunk is
    written (the run never ends by itself)."""
    c = Case(pulse, work, make_events(3000, seed=1))
    c.input.write_text("")
    proc = c.start()
    written, latencies = [], []
    with open(c.input, "a") as f:
        for chunk in chunks(c.lines, 30):
            written += chunk
            want = c.expected(written)
            f.write("".join(chunk))
            f.flush()
            latencies.append(c.wait_for_output(want, proc, "follow", time.monotonic()))
    if not c.expected(written):
        fail("the test wrote too little to close a window")
    kill(proc)
    if c.output() != c.expected(written):
        fail("the output changed when the run was killed")
    report(latencies, "follow")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def records_read(port):
    """pulse_source_records_read_total as /metrics shows it now (None if not reachable)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith('pulse_source_records_read_total{source="source"}'):
            return int(float(line.split()[-1]))
    return None


def wait_for_records_read(port, want, proc):
    deadline = time.monotonic() + WAIT_S
    while records_read(port) != want:
        if proc.poll() is not None or time.monotonic() > deadline:
            fail(f"records_read is {records_read(port)}, want {want}")
        time.sleep(0.005)


def stdin_visible(pulse, work):
    """A pipe on stdin, with one worker and with parallel decoding: each chunk's closed
    windows are in out.jsonl, and /metrics counts each chunk's records, before the next chunk
    is written; the end of the input closes the rest and publishes exactly the bounded run's
    output."""
    for workers in (1, 3):
        c = Case(pulse, Path(work) / f"workers{workers}", make_events(3000, seed=2),
                 source_name="-")
        port = free_port()
        proc = c.start("--http-port", str(port), workers=workers, stdin=subprocess.PIPE)
        written, latencies = [], []
        for chunk in chunks(c.lines, 30):
            written += chunk
            want = c.expected(written)
            proc.stdin.write("".join(chunk))
            proc.stdin.flush()
            latencies.append(c.wait_for_output(want, proc, "stdin", time.monotonic()))
            wait_for_records_read(port, sum(1 for l in written if l.startswith("{")), proc)
        proc.stdin.close()
        if proc.wait(timeout=120) != 0:
            fail(f"pulse exited {proc.returncode}: {proc.log.read_text()}")
        if c.output() != "".join(c.reference):
            fail("at the end of stdin the output differs from the bounded run's")
        report(latencies, f"stdin, {workers} worker(s)")


def terminal_ctrl_d(pulse, work):
    """Standard input on a terminal: one Ctrl-D at the start of a line ends it."""
    for workers in (1, 3):
        c = Case(pulse, Path(work) / f"workers{workers}", make_events(200, seed=3),
                 source_name="-")
        master, terminal = pty.openpty()
        mode = termios.tcgetattr(terminal)
        mode[3] &= ~termios.ECHO  # lflags: nothing comes back to read
        termios.tcsetattr(terminal, termios.TCSANOW, mode)
        proc = c.start(workers=workers, stdin=terminal)
        os.close(terminal)
        for line in c.lines:
            os.write(master, line.encode())
        os.write(master, mode[6][termios.VEOF])  # control characters: one Ctrl-D
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            kill(proc)
            fail("one Ctrl-D did not end standard input")
        finally:
            os.close(master)
        if proc.returncode != 0:
            fail(f"pulse exited {proc.returncode}: {proc.log.read_text()}")
        if c.output() != "".join(c.reference):
            fail("the output differs from the bounded run's")
        print(f"{workers} worker(s): ended by one Ctrl-D")


class Writer(threading.Thread):
    """Appends the lines chunk by chunk with short pauses, as a logging program would; with
    `rotate`, rotates the file every few chunks by rename and create or by copytruncate."""

    def __init__(self, path, lines, n_chunks, pause_s, rotate=False, allowed=None):
        super().__init__()
        self.path, self.lines, self.n_chunks, self.pause_s = path, lines, n_chunks, pause_s
        self.rotate = rotate
        self.allowed = allowed  # an Event: rotate only when set (then clear it); None: always
        self.rotating = threading.Lock()  # held while the writer decides on and does a rotation
        self.written = []
        self.rotations = []
        self.lock = threading.Lock()  # guards written

    def run(self):
        f = open(self.path, "a")
        for i, chunk in enumerate(chunks(self.lines, self.n_chunks)):
            with self.rotating:
                f = self.write_chunk(f, i, chunk)
            with self.lock:
                self.written += chunk
            time.sleep(self.pause_s)
        f.close()

    def write_chunk(self, f, i, chunk):
        """Write one chunk (rotating the file in its middle when it is time); returns the
        file to write to next."""
        half = len(chunk) // 2
        style = None
        if self.rotate and i % 4 == 3 and (self.allowed is None or self.allowed.is_set()):
            style = "rename" if len(self.rotations) % 2 == 0 else "copytruncate"
            self.rotations.append(style)
            if self.allowed is not None:
                self.allowed.clear()
        rotated = f"{self.path}.{len(self.rotations)}"
        if style == "rename":
            # logrotate's default: rename, create. The program writes once more to the old
            # file (the first half of the chunk) before it reopens its log.
            os.rename(self.path, rotated)
        f.write("".join(chunk[:half]))
        f.flush()
        if style is not None:
            # Apart by more than the file system's time stamp granularity, as logrotate and
            # the program are: a run that finds several new files reads the older first.
            time.sleep(0.01)
            f.close()
            if style == "copytruncate":  # copy, then empty in place
                shutil.copyfile(self.path, rotated)
                time.sleep(0.01)
                os.truncate(self.path, 0)
            f = open(self.path, "a")
            time.sleep(0.01)
        f.write("".join(chunk[half:]))
        f.flush()
        return f


def follow_rotation(pulse, work):
    """Rename-and-create and copytruncate while Pulse follows: no line lost or repeated."""
    c = Case(pulse, work, make_events(6000, seed=4))
    c.input.write_text("")
    proc = c.start()
    c.wait_until_open(proc, c.input)
    writer = Writer(c.input, c.lines, n_chunks=40, pause_s=0.05, rotate=True)
    writer.start()
    writer.join()
    c.wait_for_output(c.expected(c.lines), proc, "rotation")
    kill(proc)
    print(f"rotations: {', '.join(writer.rotations)}; output exact")


def fingerprint(data):
    """FNV-1a, 64 bits: what a file source position records of a file's first bytes."""
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def checkpoint_covers(ckdir, path):
    """Whether the newest checkpoint's position has the file now at `path` as it is now (the
    same inode and first bytes: no rotation since)."""
    try:
        ids = sorted(int(p.name[4:]) for p in ckdir.iterdir() if p.name.startswith("chk-"))
        manifest = json.loads((ckdir / f"chk-{ids[-1]}" / "MANIFEST.json").read_text())
        inode = os.stat(path).st_ino
        head = Path(path).read_bytes()[:1024]
    except (OSError, IndexError, ValueError):
        return False
    for f in manifest.get("sources", {}).get("source", {}).get("files", []):
        n = f["fingerprint_bytes"]
        if f["inode"] == inode and n > 0 and len(head) >= n and \
                fingerprint(head[:n]) == f["fingerprint"]:
            return True
    return False


def follow_kill9(pulse, work, kills=12, rotate=False, glob=False):
    """kill -9 at random moments of a following run with checkpoints while a writer appends
    (and, with `rotate`, rotates the file both ways); each rerun resumes; the output ends
    exactly as an uninterrupted run's.

    Following one name, a rerun finds the file it was in (renamed, or its copy) and the new
    one: one rotation between the checkpoint it resumes from and its start. So the writer
    rotates only once the newest checkpoint covers the current file as it is (its inode and
    first bytes). Following a glob that matches the rotated files, every generation is found,
    and rotations are not held back."""
    c = Case(pulse, work, make_events(20000, seed=5), glob=glob)
    # The uninterrupted run, on the complete file.
    c.input.write_text("".join(c.lines))
    proc = c.start()
    c.wait_for_output(c.expected(c.lines), proc, "uninterrupted")
    kill(proc)
    uninterrupted = c.output()
    shutil.rmtree(c.work / "out")
    (c.work / "out").mkdir()
    c.input.write_text("")
    allowed = threading.Event() if rotate and not glob else None
    writer = Writer(c.input, c.lines, n_chunks=200, pause_s=0.02, rotate=rotate, allowed=allowed)
    writer.start()
    done = 0
    while writer.is_alive() or done < kills:
        proc = c.start_checkpointed(workers=random.randint(1, 3))
        if allowed is not None:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and writer.is_alive():
                with writer.rotating:  # not in the middle of a rotation
                    if checkpoint_covers(c.ckdir, c.input):
                        allowed.set()
                        break
                time.sleep(0.005)
        time.sleep(random.uniform(0.05, 0.4))
        kill(proc)
        done += 1
        if done > 200:
            fail("the writer never finished")
    writer.join()
    proc = c.start_checkpointed(workers=2)
    c.wait_for_output(uninterrupted, proc, "after the kills")
    kill(proc)
    # Once more: the rerun cuts the file back to its checkpoint and writes the same bytes.
    proc = c.start_checkpointed(workers=3)
    c.wait_for_output(uninterrupted, proc, "rerun")
    time.sleep(0.5)
    kill(proc)
    if c.output() != uninterrupted:
        fail("a rerun changed the output")
    print(f"{done} kills while the writer appended ({', '.join(writer.rotations) or 'no'} "
          f"rotations); output equals the uninterrupted run's ({len(uninterrupted)} bytes)")


CASES = {
    "follow_visible": follow_visible,
    "stdin_visible": stdin_visible,
    "terminal_ctrl_d": terminal_ctrl_d,
    "follow_rotation": follow_rotation,
    "follow_kill9": follow_kill9,
    "follow_kill9_rotation": lambda p, w: follow_kill9(p, w, rotate=True),
    "follow_kill9_rotation_glob": lambda p, w: follow_kill9(p, w, rotate=True, glob=True),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pulse", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("case", choices=sorted(CASES))
    args = parser.parse_args()
    random.seed(os.environ.get("PULSE_CRASH_SEED", "1"))
    try:
        CASES[args.case](args.pulse, args.work)
    finally:
        for proc in RUNNING:
            kill(proc)
    print(f"{args.case}: ok")


if __name__ == "__main__":
    sys.exit(main())
