#!/bin/sh
# Builds every libFuzzer target (clang, ASan + UBSan on the runtime, the element and the harnesses)
# in build-fuzz/ and runs each for a given time or number of executions, then prints one line per
# target: executions, executions per second, coverage (libFuzzer's cov/ft), corpus size, time, and
# whether it found something. Long runs (10 million executions) are for a quiet machine, not CI.
#
#   scripts/run-fuzz.sh [-t SECONDS] [-r RUNS] [-n] [TARGET...]      (-n: use build-fuzz as it is)
#
# Defaults: 60 s per target, every target; with -t and -r, whichever comes first ends a target's run.
# Targets run one after the other; run one script per target to fuzz them side by side. Needs clang and libclang-rt-14-dev (Debian:
#   sudo apt-get install clang libclang-rt-14-dev
# ). Corpora grow in build-fuzz/corpus/TARGET, seeded from tests/fuzz/corpus/TARGET (small, kept in
# the tree) and generated seeds; findings land in build-fuzz/findings/TARGET (crash-*, timeout-*,
# leak-*): reproduce with `build-fuzz/tests/fuzz/TARGET FILE`, then add the bytes as a regression
# test (tests/runtime/model, tests/runtime/audio or tests/gst) before fixing.
set -eu
cd "$(dirname "$0")/.."
root=$PWD
limit=""
build=yes
while getopts "t:r:n" opt; do
  case $opt in
    t) limit="$limit -max_total_time=$OPTARG" ;;
    r) limit="$limit -runs=$OPTARG" ;;
    n) build=no ;;
    *) echo "usage: $0 [-t SECONDS] [-r RUNS] [-n] [TARGET...]" >&2; exit 2 ;;
  esac
done
limit=${limit:-"-max_total_time=60"}
shift $((OPTIND - 1))
targets=${*:-"fuzz_model_sections fuzz_model_loader fuzz_wav fuzz_text fuzz_element"}

if [ "$build" = yes ]; then
  if [ ! -f build-fuzz/build.ninja ]; then
    CC=clang CXX=clang++ meson setup build-fuzz -Dfuzz=true -Dtests=disabled -Db_lundef=false \
      -Dbuildtype=debugoptimized >/dev/null
  fi
  meson compile -C build-fuzz >/dev/null
fi

b=build-fuzz/tests/fuzz
mkdir -p build-fuzz/seeds
"$b/fuzz_make_seeds" build-fuzz/seeds/tiny-model.bin
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
echo "# $(date -u +%Y-%m-%dT%H:%MZ), $cpu, nproc $(nproc), limit $limit"
printf '%-20s %12s %9s %8s %8s %8s %7s %s\n' target executions exec/s cov ft corpus seconds result
for t in $targets; do
  [ -x "$b/$t" ] || { echo "$t: not built (the element target needs GStreamer's check library)"; continue; }
  corpus=build-fuzz/corpus/$t
  findings=build-fuzz/findings/$t
  mkdir -p "$corpus" "$findings"
  [ -d "tests/fuzz/corpus/$t" ] && cp -n tests/fuzz/corpus/$t/* "$corpus/" 2>/dev/null || true
  opts="-rss_limit_mb=2048 -timeout=30 -print_final_stats=1 -artifact_prefix=$findings/"
  case $t in
    fuzz_model_loader) cp -n build-fuzz/seeds/tiny-model.bin "$corpus/" ; opts="$opts -max_len=200000" ;;
    # Inputs are lists of 9-byte edits: full length at once (libFuzzer's slow length growth would
    # spend the first thousands of runs on inputs too short to hold one edit).
    fuzz_model_sections) opts="$opts -max_len=144 -len_control=0" ;;
    fuzz_wav) cp -n tests/data/audio/jfk.wav "$corpus/" 2>/dev/null || true; opts="$opts -max_len=400000" ;;
    # Prompts and token runs: a few KB is already longer than any prompt (224 tokens) or window.
    fuzz_text) opts="$opts -max_len=4096" ;;
    # One unit is whole windows of inference under ASan (seconds, and tens of seconds at nice 19 on
    # a busy machine): a unit is a hang past 300 s, not 30.
    # Full length at once here too (at a few units a second the default growth from 4 bytes never
    # reaches a buffer of audio), and 8 KB: scripts of a few dozen buffers and events, each unit
    # still decoding what it fed at EOS.
    # (The target sets its own ASan and LeakSanitizer defaults: the slow unwinder, GLib's quark table.)
    fuzz_element) opts="$opts -max_len=8192 -len_control=0 -timeout=300" ;;
  esac
  log=build-fuzz/$t.log
  start=$(date +%s)
  set +e
  # shellcheck disable=SC2086
  "$b/$t" $opts $limit "$corpus" >"$log" 2>&1
  rc=$?
  set -e
  secs=$(( $(date +%s) - start ))
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*')
  n=$(ls "$corpus" | wc -l)
  result=clean
  [ "$rc" -ne 0 ] && result="FINDING (see $log, $findings)"
  runs=${runs:-0}
  rate=$(awk "BEGIN { printf \"%.0f\", $runs / ($secs > 0 ? $secs : 1) }")
  printf '%-20s %12s %9s %8s %8s %8s %7s %s\n' "$t" "$runs" "$rate" "${cov:-?}" "${ft:-?}" "$n" "$secs" "$result"
done
