# SPDX-License-Identifier: MIT
# A thin wrapper over scripts/setup.sh, the CMake presets and ctest. `make help` lists targets.

SHELL := /bin/bash
.DEFAULT_GOAL := help

BUILD_DIR := build/release
PULSE := $(BUILD_DIR)/bin/pulse
# The pipeline `make run` runs (paths in it are relative to the repository root).
PIPELINE ?= examples/pipelines/sliding_avg.toml
# Where `make install` puts Pulse.
PREFIX ?= /usr/local
# Extra ctest arguments, e.g. `make test CTEST_ARGS="-L examples"`.
CTEST_ARGS ?=
# `make test` also runs the ASan+UBSan and TSan builds and a short fuzzing pass
# (docs/hardening.md); SANITIZERS=0 skips the sanitizer builds, FUZZ_SECONDS=0 the fuzzing.
SANITIZERS ?= 1
FUZZ_SECONDS ?= 15
# bench/run.py arguments; the default runs the peers too (Flink via Maven, Bytewax via PyPI).
BENCH_ARGS ?= --peers
# Seconds per fuzz target for `make fuzz`.
FUZZ_LONG_SECONDS ?= 600

.PHONY: help deps build run test asan tsan fuzz install dist consumer examples format clean bench bench-micro \
        kafka-demo

help:
	@echo "Pulse: event-time stream processing. Targets:"
	@echo "  make run        install dependencies, build, run $(PIPELINE), show the results"
	@echo "  make test       install dependencies, build, run every test (what .ci/run does)"
	@echo "  make build      install dependencies and build (build/release)"
	@echo "  make asan       build every test with ASan+UBSan (build/asan) and run them"
	@echo "  make tsan       build the threaded tests with TSan (build/tsan) and run them"
	@echo "  make fuzz       build the fuzzers with clang, run each for $(FUZZ_LONG_SECONDS) s"
	@echo "  make deps       only install the Debian packages (apt-get, as root or via sudo)"
	@echo "  make install    install bin/pulse, headers, libraries, CMake package to PREFIX=$(PREFIX)"
	@echo "  make dist       .tar.gz and .deb of bin/pulse and its Arrow libraries (build/dist)"
	@echo "  make consumer   install to a scratch prefix, build and run examples/consumer"
	@echo "  make examples   run the C++ example programs on the bundled data"
	@echo "  make kafka-demo a Kafka broker, an event generator and a pipeline with its status page"
	@echo "  make bench      Release build with benchmarks, run bench/run.py with the peers (Flink,"
	@echo "                 Bytewax), write docs/PERFORMANCE.md (BENCH_ARGS=--quick: a 1M-record smoke run)"
	@echo "  make bench-micro  only the micro-benchmarks (Google Benchmark), printed"
	@echo "  make format     clang-format the C++ sources (needs clang-format)"
	@echo "  make clean      remove build/ and out/"

deps:
	bash scripts/setup.sh --deps-only

build:
	bash scripts/setup.sh

run: build
	bash scripts/run_example.sh $(PIPELINE) $(PULSE)

test: build
	@echo
	@echo "==> Test: ctest --preset release"
	ctest --preset release --no-tests=error $(CTEST_ARGS)
ifneq ($(SANITIZERS),0)
	@$(MAKE) --no-print-directory asan tsan
endif
ifneq ($(FUZZ_SECONDS),0)
	@echo
	@echo "==> Test: fuzz each target for $(FUZZ_SECONDS) s (scripts/fuzz.sh)"
	bash scripts/fuzz.sh $(FUZZ_SECONDS)
endif

# Sanitizer configurations (CMakePresets.json). The tsan preset builds and runs only the
# threaded tests (ops_test, io_test, golden, determinism, signals).
asan tsan: deps
	@echo
	@echo "==> Test: $@ (build/$@)"
	cmake --preset $@ --log-level=WARNING
	cmake --build --preset $@ $${PULSE_JOBS:+--parallel $$PULSE_JOBS}
	ctest --preset $@ --no-tests=error

fuzz: deps
	bash scripts/fuzz.sh $(FUZZ_LONG_SECONDS)

install: build
	cmake --install $(BUILD_DIR) --prefix $(PREFIX)

# The relocatable release archive and the .deb, packed by CPack from build/release (nothing is
# recompiled; docs/install.md).
dist: build
	cpack --config $(BUILD_DIR)/CPackConfig.cmake -B build/dist
	@ls -l build/dist/*.tar.gz build/dist/*.deb

consumer: build
	bash scripts/consumer.sh

examples: build
	@echo "==> pulse_wordcount examples/data/wordcount.jsonl (first 5 results)"
	@mkdir -p out
	@$(BUILD_DIR)/bin/pulse_wordcount examples/data/wordcount.jsonl > out/wordcount.jsonl
	@head -n 5 out/wordcount.jsonl
	@echo "==> pulse_sliding_avg examples/data/sliding_avg.jsonl (first 5 results)"
	@$(BUILD_DIR)/bin/pulse_sliding_avg examples/data/sliding_avg.jsonl > out/sliding_avg_program.jsonl
	@head -n 5 out/sliding_avg_program.jsonl
	@echo "(all results: out/wordcount.jsonl, out/sliding_avg_program.jsonl)"

# A local Kafka broker, a generator and an exactly-once pipeline; Ctrl-C stops it all
# (docs/kafka.md).
kafka-demo: build
	bash scripts/kafka.sh demo $(BUILD_DIR)/bin

format:
	@command -v clang-format >/dev/null || { echo "clang-format is not installed" >&2; exit 1; }
	find include src examples bench tests \( -name '*.h' -o -name '*.cc' \) -print0 | \
	  xargs -0 clang-format -i

clean:
	rm -rf build out outputs

# The benchmark harness: a Release build with the generator, the floor and micro-benchmarks.
bench: deps
	cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DPULSE_BUILD_TESTS=OFF \
	  -DPULSE_BUILD_BENCHMARKS=ON
	cmake --build build/bench -j$${PULSE_JOBS:-$$(nproc)}
	python3 bench/run.py $(BENCH_ARGS)

# Only the Google Benchmark micro-benchmarks, printed (e.g. MICRO_ARGS=--benchmark_filter=Window).
bench-micro: deps
	cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DPULSE_BUILD_TESTS=OFF \
	  -DPULSE_BUILD_BENCHMARKS=ON
	cmake --build build/bench --target pulse_micro_benchmarks -j$${PULSE_JOBS:-$$(nproc)}
	build/bench/bin/pulse_micro_benchmarks $(MICRO_ARGS)
