#!/bin/sh
# The decoding-and-memory matrix of README.md's "Where it stands": npuwhisper-bench on the four
# model files whisper.cpp users run most (tiny and base, f16 and q8_0, generated here by
# npuwhisper-mkmodel --seed 1, random weights at the real shapes) on both CPU backends, then the int8
# encoder against the f32 one on each file, then one table. If WHISPER_BENCH names whisper.cpp's
# whisper-bench (built outside this project), it runs on the same file just before ours, so each pair
# meets the same host, and the table gets the side-by-side window ratio.
# Usage: scripts/bench-matrix.sh [OUT_DIR] (default bench-matrix/); NPW_BENCH_FLAGS replaces the
# flags of every npuwhisper-bench run (default "--threads 2 --repeat 5"). Needs python3 for the table.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${NPW_RELEASE_BUILD_DIR:-$here/build-release}
out=${1:-$PWD/bench-matrix}
flags=${NPW_BENCH_FLAGS:---threads 2 --repeat 5}
threads=$(echo "$flags" | sed -n 's/.*--threads \([0-9][0-9]*\).*/\1/p')
[ -f "$build/build.ninja" ] || meson setup "$build" "$here" --buildtype=release
meson compile -C "$build" npuwhisper-bench npuwhisper-mkmodel npuwhisper-cli
mkdir -p "$out/models"
files="tiny-f16 tiny-q8_0 base-f16 base-q8_0"
for f in $files; do
  model="$out/models/$f.bin"
  [ -s "$model" ] || "$build/tools/npuwhisper-mkmodel" --dims "${f%-*}" --type "${f#*-}" --seed 1 --out "$model"
done
for f in $files; do
  model="$out/models/$f.bin"
  if [ -n "${WHISPER_BENCH:-}" ]; then
    echo "== $f: whisper.cpp"
    "$WHISPER_BENCH" -m "$model" -t "${threads:-2}" > "$out/whisper-cpp-$f.txt" 2>&1
  fi
  for backend in cpu cpu-int8; do
    echo "== $f: $backend"
    # shellcheck disable=SC2086
    "$build/tools/npuwhisper-bench" --model "$model" --backend "$backend" --e2e-repeat 0 --json $flags \
      > "$out/$f-$backend.json"
    "$build/tools/npuwhisper-cli" --model "$model" --backend "$backend" --threads "${threads:-2}" \
      --audio "$here/tests/data/audio/jfk.wav" --memory-report > /dev/null 2> "$out/cli-memory-$f-$backend.txt"
  done
done
for f in $files; do
  echo "== $f: int8 encoder over f32"
  # shellcheck disable=SC2086
  "$build/tools/npuwhisper-bench" --model "$out/models/$f.bin" --encoder-pair --threads "${threads:-2}" \
    --repeat 9 --json > "$out/encoder-pair-$f.json"
done
if ! command -v python3 > /dev/null; then
  echo "python3 is needed for the table (apt-get install python3); the runs are in $out/" >&2
  exit 1
fi
python3 "$here/scripts/bench_matrix_table.py" "$out" > "$out/table.md"
cat "$out/table.md"
