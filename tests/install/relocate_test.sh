#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ctest driver for the relocatable install (docs/install.md). One mode per test:
#   prefix   cmake --install into a scratch user prefix, move the prefix elsewhere, run it
#   archive  cpack -G TGZ, check the archive's file list, unpack, move, run
#   deb      cpack -G DEB, check dpkg-deb --info (Depends) and --contents, unpack with
#            dpkg-deb -x into a scratch directory and run the binary from there
# "Run" means: LD_LIBRARY_PATH unset, `pulse --version` prints exactly "pulse <version>", the
# binary's RUNPATH is exactly $ORIGIN/../lib/pulse, every bundled Arrow library resolves inside
# the moved tree, a small pipeline prints exactly expected_stdout, and (when the bundled Arrow is
# present) the Parquet sink writes files that DuckDB reads back as exactly 3 rows.
# Packages are built from the existing build tree: nothing is compiled.
#
# Usage: relocate_test.sh MODE BUILD_DIR WORK_DIR VERSION DATA_DIR PYTHON [ARROW_LIB...]
set -euo pipefail

mode=$1 build=$2 work=$3 version=$4 data=$5 python=$6
shift 6
arrow_libs=("$@")  # basenames, e.g. libarrow.so.2600 libparquet.so.2600

fail() { printf 'FAIL (%s): %s\n' "$mode" "$*" >&2; exit 1; }
unset LD_LIBRARY_PATH

rm -rf "$work"
mkdir -p "$work"

# check_tree ROOT: run the checks on an installed tree (ROOT/bin/pulse).
check_tree() {
  local root=$1 bin=$1/bin/pulse
  [[ -x "$bin" ]] || fail "no executable $bin"

  local runpath
  runpath="$(readelf -d "$bin" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]$/\1/p')"
  if ((${#arrow_libs[@]})); then
    [[ "$runpath" == '$ORIGIN/../lib/pulse' ]] ||
      fail "RUNPATH of $bin is '$runpath', want '\$ORIGIN/../lib/pulse'"
    local lib resolved
    for lib in "${arrow_libs[@]}"; do
      [[ -f "$root/lib/pulse/$lib" ]] || fail "$root/lib/pulse/$lib is missing"
      resolved="$(ldd "$bin" | awk -v l="$lib" '$1 == l { print $3 }')"
      [[ -n "$resolved" && "$(realpath "$resolved")" == "$(realpath "$root/lib/pulse/$lib")" ]] ||
        fail "$lib resolves to '$resolved', not inside the moved tree $root"
    done
  fi
  if ldd "$bin" | grep -q 'not found'; then
    fail "unresolved libraries: $(ldd "$bin" | grep 'not found' | tr '\n' ' ')"
  fi

  local got
  got="$("$bin" --version)" || fail "pulse --version exited $?"
  [[ "$got" == "pulse $version" ]] || fail "pulse --version printed '$got', want 'pulse $version'"

  # A small pipeline, run in a scratch directory (paths in it are relative).
  local run=$work/run
  rm -rf "$run" && mkdir -p "$run"
  cp "$data/input.jsonl" "$data/pipeline.toml" "$data/pipeline_parquet.toml" "$run/"
  (cd "$run" && "$bin" run --config pipeline.toml >stdout 2>stderr) ||
    fail "pulse run exited $?: $(cat "$run/stderr")"
  if ! cmp -s "$run/stdout" "$data/expected_stdout"; then
    fail "pipeline output differs: $(diff "$data/expected_stdout" "$run/stdout")"
  fi

  if ((${#arrow_libs[@]})); then
    (cd "$run" && "$bin" run --config pipeline_parquet.toml >/dev/null 2>parquet_stderr) ||
      fail "pulse run (parquet) exited $?: $(cat "$run/parquet_stderr")"
    local files
    files="$(find "$run/parquet_out" -name '*.parquet' | wc -l)"
    ((files > 0)) || fail "the Parquet sink wrote no .parquet file"
    if "$python" -c 'import duckdb' 2>/dev/null; then
      local rows
      rows="$(cd "$run" && "$python" -c \
        "import duckdb; print(duckdb.sql(\"SELECT count(*) FROM 'parquet_out/**/*.parquet'\").fetchone()[0])")"
      [[ "$rows" == 3 ]] || fail "DuckDB reads $rows rows from the Parquet output, want 3"
    else
      echo "note: no duckdb in $python; checked only that .parquet files were written"
    fi
  fi

  # Nothing in the tree needs root: run it as an unprivileged user too, when we are root.
  if ((EUID == 0)) && command -v setpriv >/dev/null &&
     setpriv --reuid=65534 --regid=65534 --clear-groups test -r "$bin"; then
    got="$(setpriv --reuid=65534 --regid=65534 --clear-groups "$bin" --version)" ||
      fail "pulse --version as uid 65534 exited $?"
    [[ "$got" == "pulse $version" ]] || fail "as uid 65534: pulse --version printed '$got'"
  fi
}

# run_cpack GENERATOR: build the package from the existing build tree into $work/pkg; prints
# its path.
run_cpack() {
  cpack --config "$build/CPackConfig.cmake" -G "$1" -B "$work/pkg" >"$work/cpack.log" 2>&1 ||
    fail "cpack -G $1 failed: $(cat "$work/cpack.log")"
  local found=("$work/pkg"/*."$2")
  [[ ${#found[@]} == 1 && -f "${found[0]}" ]] || fail "cpack -G $1 made ${found[*]}"
  printf '%s\n' "${found[0]}"
}

arch="$(uname -m)"
case "$mode" in
  prefix)
    cmake --install "$build" --prefix "$work/prefix" >"$work/install.log" ||
      fail "cmake --install failed"
    mkdir -p "$work/elsewhere"
    mv "$work/prefix" "$work/elsewhere/pulse-moved"
    check_tree "$work/elsewhere/pulse-moved"
    ;;
  archive)
    tgz="$(run_cpack TGZ tar.gz)"
    top="pulse-$version-Linux-$arch"
    [[ "$(basename "$tgz")" == "$top.tar.gz" ]] || fail "archive named $(basename "$tgz")"
    want="$(printf '%s\n' "$top/bin/pulse" "${arrow_libs[@]/#/$top/lib/pulse/}" \
              "$top/share/doc/pulse/README.md" "$top/share/doc/pulse/install.md" | sort)"
    got="$(tar tzf "$tgz" | grep -v '/$' | sort)"
    [[ "$got" == "$want" ]] || fail "archive lists:
$got
want:
$want"
    mkdir -p "$work/unpacked"
    tar xzf "$tgz" -C "$work/unpacked"
    mkdir -p "$work/elsewhere"
    mv "$work/unpacked/$top" "$work/elsewhere/moved"
    check_tree "$work/elsewhere/moved"
    ;;
  deb)
    command -v dpkg-deb >/dev/null || { echo "no dpkg-deb: skipped"; exit 77; }
    deb="$(run_cpack DEB deb)"
    debarch="$(dpkg --print-architecture)"
    [[ "$(basename "$deb")" == "pulse_${version}-1_${debarch}.deb" ]] ||
      fail ".deb named $(basename "$deb")"
    info="$(dpkg-deb --info "$deb")"
    field() { sed -n "s/^ $1: //p" <<<"$info"; }
    [[ "$(field Package)" == pulse ]] || fail "Package: $(field Package)"
    [[ "$(field Version)" == "$version-1" ]] || fail "Version: $(field Version)"
    [[ "$(field Architecture)" == "$debarch" ]] || fail "Architecture: $(field Architecture)"
    depends="$(field Depends)"
    # The package names, without versions, sorted.
    names="$(tr ',' '\n' <<<"$depends" | sed 's/(.*)//; s/ //g' | sort | tr '\n' ' ')"
    if grep -qx 'VERSION_ID="12"' /etc/os-release && grep -qx 'ID=debian' /etc/os-release; then
      want_names="$(sort "$data/debian12_depends.txt" | tr '\n' ' ')"
      [[ "$names" == "$want_names" ]] || fail "Depends names '$names', want '$want_names'
(Depends: $depends)"
    else
      [[ "$names" == *librdkafka* && "$names" == *librocksdb* ]] ||
        fail "Depends lacks librdkafka or librocksdb: $depends"
    fi
    contents="$(dpkg-deb --contents "$deb" | awk '{ print $6 }' | grep -v '/$' | sort)"
    want="$(printf '%s\n' ./usr/bin/pulse "${arrow_libs[@]/#/./usr/lib/pulse/}" \
              ./usr/share/doc/pulse/README.md ./usr/share/doc/pulse/install.md | sort)"
    [[ "$contents" == "$want" ]] || fail ".deb contents:
$contents
want:
$want"
    dpkg-deb -x "$deb" "$work/extracted"
    check_tree "$work/extracted/usr"
    ;;
  *) fail "unknown mode (prefix|archive|deb)" ;;
esac
echo "ok: $mode"
