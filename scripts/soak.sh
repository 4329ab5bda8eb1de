#!/bin/sh
# Soak and stress of the element (not CI): hours of audio at full speed and at real time with RSS and
# per-window time sampled into CSVs and plotted to PNGs, state cycles, flushing seeks while a window
# is decoded (their times), and 8 elements on 2 models started and stopped at random. Prints every
# figure and writes them to OUT/summary.txt, the numbers the README's reliability table quotes.
#
#   scripts/soak.sh [-a AUDIO_MINUTES] [-c CYCLES] [-s SEEKS] [-m MULTI_SECONDS] [-i SAMPLE_SECONDS]
#                   [-o OUT] [-q] [-S SECTION,...] [-n]
#
# Defaults are the full run: 120 minutes of audio (twice: full speed, then real time - about 2.5
# hours), 1000 state cycles, 200 flushing seeks, 10 minutes of 8 elements. -q is a few minutes'
# proof that everything works (3 minutes of audio, 20 cycles, 10 seeks, 60 s of 8 elements, samples
# every 10 s). -S runs only the sections named (fullspeed, realtime, cycles, seeks, multi; default: all),
# one at a time on a shared machine; the summary is appended to, not replaced, so that sections run
# apart end up in one file. -n uses build/ as it is (no compile step: a build may be running there).
# Decoding is OpenAI's default (beam 5, best-of 5, the temperature ladder) throughout.
# MODEL (default: the bundled test model) is the soak's model; the seeks and stops use a base-size
# random model (npuwhisper-mkmodel --dims base), generated once into OUT.
#
# The plots need gnuplot, which the build does not (so it is not in install-deps.sh):
#   sudo apt-get install gnuplot-nox
set -eu
cd "$(dirname "$0")/.."
root=$PWD
audio_min=120 cycles=1000 seeks=200 multi_s=600 sample_s=60 out=build/soak
sections=fullspeed,realtime,cycles,seeks,multi
build_first=yes
while getopts "a:c:s:m:i:o:qS:n" opt; do
  case $opt in
    a) audio_min=$OPTARG ;;
    c) cycles=$OPTARG ;;
    s) seeks=$OPTARG ;;
    m) multi_s=$OPTARG ;;
    i) sample_s=$OPTARG ;;
    o) out=$OPTARG ;;
    q) audio_min=3 cycles=20 seeks=10 multi_s=60 sample_s=10 ;;
    S) sections=$OPTARG ;;
    n) build_first=no ;;
    *) sed -n '2,20p' "$0"; exit 2 ;;
  esac
done
if [ "$build_first" = yes ]; then
  [ -f build/build.ninja ] || meson setup build >/dev/null
  meson compile -C build tools/npuwhisper-stress tools/npuwhisper-mkmodel gst/gstnpuwhisper >/dev/null
fi
mkdir -p "$out"
export GST_PLUGIN_PATH=$root/build/gst
stress=build/tools/npuwhisper-stress
model=${MODEL:-tests/data/ggml-test-f32.bin}
model2=tests/data/ggml-test-f16.bin
base=$out/ggml-random-base-f16.bin
[ -f "$base" ] || build/tools/npuwhisper-mkmodel --dims base --type f16 --seed 1 --out "$base" >/dev/null
speech=tests/data/audio/long45.wav
summary=$out/summary.txt
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
{
  echo "# $(date -u +%Y-%m-%dT%H:%MZ) $cpu, nproc $(nproc), load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# soak model $model, seeks and stops on $base, default decoding"
} >>"$summary"
# section NAME TITLE COMMAND...: runs COMMAND when NAME is among the chosen sections.
section() {
  case ",$sections," in *",$1,"*) ;; *) return 0 ;; esac
  shift
  echo "## $1" | tee -a "$summary"
  shift
  "$@" 2>"$out/last-stderr.txt" | tee -a "$summary"
}

section fullspeed "soak, $audio_min min of audio at full speed" \
  $stress soak --model "$model" --audio "$speech" --seconds $((audio_min * 60)) --sample-seconds "$sample_s" \
  --csv "$out/soak-fullspeed.csv"
section realtime "soak, $audio_min min of audio at real time (clocksync)" \
  $stress soak --clocksync --model "$model" --audio "$speech" --seconds $((audio_min * 60)) \
  --sample-seconds "$sample_s" --csv "$out/soak-realtime.csv"
section cycles "$cycles state cycles" $stress cycles --model "$base" --audio "$speech" --count "$cycles"
section seeks "$seeks flushing seeks and stops while a window is decoded" \
  $stress stop-seek --model "$base" --audio "$speech" --count "$seeks"
section multi "8 elements on 2 models, started and stopped at random for $multi_s s" \
  $stress multi --model "$model" --model "$model2" --audio "$speech" --elements 8 --seconds "$multi_s"

if command -v gnuplot >/dev/null; then
  for run in fullspeed realtime; do
    csv=$out/soak-$run.csv
    [ -f "$csv" ] || continue
    gnuplot <<GP
set terminal pngcairo size 900,500
set output "$out/soak-$run.png"
set datafile separator ","
set key autotitle columnhead left top
set xlabel "wall time (s)"
set ylabel "RSS (MiB)"
set y2label "window time (ms)"
set y2tics
set title "npuwhisper soak ($run): RSS and per-window time"
plot "$csv" using 1:4 with lines lw 2 title "RSS (MiB)", "$csv" using 1:(\$5 > 0 ? \$6 : 1/0) axes x1y2 with points title "median window (ms)"
GP
    echo "plot: $out/soak-$run.png"
  done
else
  echo "no gnuplot: CSVs only (sudo apt-get install gnuplot-nox for the PNGs)"
fi
echo "summary: $summary"
