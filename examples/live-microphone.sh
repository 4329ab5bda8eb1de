#!/bin/sh
# Live captions from the default microphone, printed as they are decided. latency=3000 transcribes
# the pending audio every 3 s of new speech (captions may be revised into the next window until a
# segment is complete); the pipeline's latency grows by as much, which the LATENCY query reports.
#   usage: live-microphone.sh MODEL [LATENCY_MS] [LANGUAGE]
set -eu
model=${1:?ggml model}; latency=${2:-3000}; lang=${3:-auto}
exec gst-launch-1.0 -m autoaudiosrc ! queue ! audioconvert ! audioresample ! \
  npuwhisper model="$model" latency="$latency" language-code="$lang" ! \
  fakesink sync=false 2>&1 | \
  sed -u -n 's/.*npuwhisper, .* text=(string)\(.*\), timestamp=(guint64)\([0-9]*\).*/\2 \1/p' | \
  sed -u 's/\\\(.\)/\1/g; s/"//g' | awk '{ t = $1 / 1e9; $1 = ""; printf "[%7.2f s]%s\n", t, $0; fflush() }'
