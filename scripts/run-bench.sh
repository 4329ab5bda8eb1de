#!/bin/sh
# The performance figures of README.md: builds npuwhisper with buildtype=release in build-release/
# and runs npuwhisper-bench on random-weight models of tiny and base dimensions (generated in the
# run), f32 weights on the cpu backend and the same weights on cpu-int8, on the bundled clip, with
# --json. Usage: scripts/run-bench.sh [OUT_DIR] (default bench-results/). Extra flags for every run
# can be given in NPW_BENCH_FLAGS (e.g. "--threads 4 --repeat 9").
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${NPW_RELEASE_BUILD_DIR:-$here/build-release}
out=${1:-$PWD/bench-results}
[ -f "$build/build.ninja" ] || meson setup "$build" "$here" --buildtype=release
meson compile -C "$build" npuwhisper-bench
mkdir -p "$out"
for dims in tiny base; do
  for backend in cpu cpu-int8; do
    echo "== $dims, $backend"
    # shellcheck disable=SC2086
    "$build/tools/npuwhisper-bench" --dims "$dims" --type f32 --backend "$backend" \
      --audio "$here/tests/data/audio/jfk.wav" ${NPW_BENCH_FLAGS:-} | tee "$out/$dims-$backend.txt"
  done
done
echo "tables written to $out/"
