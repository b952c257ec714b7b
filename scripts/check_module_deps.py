#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check that Pulse's modules include only what the dependency table allows.

The table below is the machine form of the module table in docs/architecture.md (STYLE.md §1):
a module may include its own headers, the public headers (include/pulse/...) of the modules it
depends on (directly or through them), and nothing private of another module, except
  - an optional part (io/kafka, io/parquet, state/rocksdb) may use its parent's private headers;
  - the interface headers of the internal modules (not installed: testing, golden, cli) listed in
    INTERFACE, by the modules allowed to depend on them;
  - the deliberately shared internal headers listed in SHARED.
Tests (*_test.cc and their helpers) may also include any public header and src/testing, plus
TEST_EXTRA. Examples and benchmarks may include public headers only. fuzz/ and tests/ are not
checked (they test internals on purpose). The table must be acyclic.

Usage: check_module_deps.py [SOURCE_DIR]   (exit 1 and one line per violation if any)
"""

import os
import re
import sys

# module -> the modules it depends on directly ("A -> B: A links and includes B").
DEPS = {
    "metrics": [],
    "core": ["metrics"],
    "expr": ["core"],
    "state": ["core"],
    "state_rocksdb": ["state"],
    "ops": ["state"],
    "plan": ["expr", "ops"],
    "io": ["core"],
    "io_parquet": ["io"],
    "io_kafka": ["io"],
    "metrics_http": ["metrics", "core"],
    "golden": ["io"],
    "cli": ["golden", "plan", "io_parquet", "io_kafka", "state_rocksdb", "metrics_http"],
    "testing": ["core"],
    "umbrella": ["core", "io", "ops", "expr", "plan"],  # include/pulse/pulse.h
    "build_config": [],  # include/pulse/config.h, generated: build facts anyone may read
}

# Optional parts and their parent: they may use the parent's private headers.
PARENT = {"io_parquet": "io", "io_kafka": "io", "state_rocksdb": "state", "metrics_http": "metrics"}

# Internal modules (headers in src/, not installed): the headers other modules may include.
INTERFACE = {
    "testing": None,  # every header: the test-helper library
    "golden": {"golden/test_file.h", "golden/test_command.h"},
    "cli": {"cli/test_file.h"},
}

# Private headers shared on purpose, and the modules that may use them (documented in the owner's
# README).
SHARED = {
    "core/blocking_queue.h": {"io", "io_parquet", "io_kafka"},
    "core/json_dom.h": {"io", "io_parquet", "io_kafka"},
}

# Private headers still used outside their module while their public replacements are being
# written; reported
# as notes, not failures. Remove an entry once its last use is gone.
PENDING: dict = {}

# Test sources that may use another module's interface beyond `testing`.
TEST_EXTRA = {"golden": {"cli"}}  # golden's tests read test files with the CLI's TOML reader

# Source folders (src-relative), longest first, and the public headers of optional parts.
SRC_MODULES = [
    ("metrics/http", "metrics_http"),
    ("io/parquet", "io_parquet"),
    ("io/kafka", "io_kafka"),
    ("state/rocksdb", "state_rocksdb"),
    ("metrics", "metrics"),
    ("core", "core"),
    ("expr", "expr"),
    ("state", "state"),
    ("ops", "ops"),
    ("plan", "plan"),
    ("io", "io"),
    ("golden", "golden"),
    ("cli", "cli"),
    ("testing", "testing"),
]
PUBLIC_MODULES = [
    ("pulse/metrics/http/", "metrics_http"),
    ("pulse/io/parquet.h", "io_parquet"),
    ("pulse/io/kafka.h", "io_kafka"),
    ("pulse/state/rocksdb_backend.h", "state_rocksdb"),
    ("pulse/metrics/", "metrics"),
    ("pulse/core/", "core"),
    ("pulse/expr/", "expr"),
    ("pulse/state/", "state"),
    ("pulse/ops/", "ops"),
    ("pulse/plan/", "plan"),
    ("pulse/io/", "io"),
    ("pulse/pulse.h", "umbrella"),
    ("pulse/config.h", "build_config"),
]
# Public headers that are not installed (cmake/PulseInstall.cmake): examples may not use them.
NOT_INSTALLED = {"pulse/io/parquet.h"}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
TEST_FILE = re.compile(r"(_test\.cc|_test_util\.h|_testing\.(h|cc)|_tool_main\.cc)$")


def closure(module):
    seen, todo = set(), list(DEPS[module])
    while todo:
        m = todo.pop()
        if m not in seen:
            seen.add(m)
            todo.extend(DEPS[m])
    return seen


def check_acyclic():
    state = {}

    def visit(m, path):
        if state.get(m) == "done":
            return None
        if state.get(m) == "active":
            return path + [m]
        state[m] = "active"
        for d in DEPS[m]:
            cycle = visit(d, path + [m])
            if cycle:
                return cycle
        state[m] = "done"
        return None

    for m in DEPS:
        cycle = visit(m, [])
        if cycle:
            return cycle
    return None


def src_module(rel):  # "io/kafka/x.h" -> "io_kafka"
    for prefix, module in SRC_MODULES:
        if rel.startswith(prefix + "/"):
            return module
    return None


def public_module(rel):  # "pulse/io/kafka.h" -> "io_kafka"
    for prefix, module in PUBLIC_MODULES:
        if rel == prefix or (prefix.endswith("/") and rel.startswith(prefix)):
            return module
    return None


def check_include(where, module, is_test, inc, allowed):
    """Return a violation message, "pending: ..." or None."""
    if inc.startswith("pulse/"):
        target = public_module(inc)
        if target is None:
            return f"{inc} is not a public header of any module"
        if target == module or target in allowed or target == "build_config" or is_test:
            return None
        return f"{module} may not depend on {target} ({inc})"
    target = src_module(inc)
    if target is None:
        return None  # a generated header in the build tree (metrics/http/status_page.h) or fuzz/
    if target == module or (PARENT.get(module) == target):
        return None
    if inc in SHARED:
        return None if module in SHARED[inc] else f"{inc} is shared only with {sorted(SHARED[inc])}"
    if inc in PENDING:
        return "pending: " + PENDING[inc]
    if target in INTERFACE and (INTERFACE[target] is None or inc in INTERFACE[target]):
        if target in allowed:
            return None
        if is_test and (target == "testing" or target in TEST_EXTRA.get(module, set())):
            return None
        return f"{module} may not depend on {target} ({inc})"
    return f"{inc} is private to {target}"


def main():
    root = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(__file__), ".."))
    cycle = check_acyclic()
    if cycle:
        print("module table has a cycle: " + " -> ".join(cycle))
        return 1
    violations, notes = [], []
    files = []
    for base, kind in (("src", "src"), ("include", "public"), ("examples", "user"),
                       ("bench", "user")):
        for dirpath, _, names in os.walk(os.path.join(root, base)):
            for name in sorted(names):
                if name.endswith((".h", ".cc", ".h.in")):
                    files.append((os.path.join(dirpath, name), kind))
    for path, kind in sorted(files):
        rel = os.path.relpath(path, root)
        if kind == "src":
            module = src_module(os.path.relpath(path, os.path.join(root, "src")))
            if module is None:
                violations.append(f"{rel}: not in a module folder (scripts/check_module_deps.py)")
                continue
        elif kind == "public":
            module = public_module(os.path.relpath(path, os.path.join(root, "include")))
        else:
            module = None
        is_test = kind == "src" and bool(TEST_FILE.search(path))
        allowed = closure(module) if module else set()
        with open(path, encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                inc = m.group(1)
                where = f"{rel}:{number}"
                if kind == "user":
                    target = public_module(inc) if inc.startswith("pulse/") else None
                    if inc.startswith("pulse/") and target is not None and inc not in NOT_INSTALLED:
                        continue
                    if not inc.startswith("pulse/") and "/" not in inc:
                        continue  # the example's own header
                    violations.append(f"{where}: examples and benchmarks use installed public "
                                      f"headers only ({inc})")
                    continue
                if kind == "public" and not inc.startswith("pulse/"):
                    violations.append(f"{where}: a public header includes a private one ({inc})")
                    continue
                problem = check_include(where, module, is_test, inc, allowed)
                if problem is None:
                    continue
                if problem.startswith("pending: "):
                    notes.append(f"{where}: {inc} ({problem[len('pending: '):]})")
                else:
                    violations.append(f"{where}: {problem}")
    for note in notes:
        print("pending  " + note)
    for v in violations:
        print("VIOLATION " + v)
    print(f"check_module_deps: {len(files)} files, {len(violations)} violations, "
          f"{len(notes)} pending")
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
