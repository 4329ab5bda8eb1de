#!/bin/sh
# A file played at real time (clocksync) through live mode, its words printed as WebVTT cues as they
# are committed: how live captions behave on a known recording, without a microphone.
#   usage: simulated-live.sh IN MODEL [LATENCY_MS] [LANGUAGE] [ELEMENT_PROPERTIES...]
# e.g. simulated-live.sh talk.wav ggml-base.en.bin 500 en beam-size=0 (greedy: cheaper steps)
set -eu
in=${1:?usage: simulated-live.sh IN MODEL [LATENCY_MS] [LANGUAGE] [ELEMENT_PROPERTIES...]}; model=${2:?ggml model}
latency=${3:-1000}; lang=${4:-auto}
shift $(( $# < 4 ? $# : 4 ))
[ -r "$in" ] || { echo "simulated-live.sh: cannot read \"$in\"" >&2; exit 1; }
[ -r "$model" ] || { echo "simulated-live.sh: cannot read the model \"$model\"" >&2; exit 1; }
exec gst-launch-1.0 -q filesrc location="$in" ! decodebin ! audioconvert ! audioresample ! clocksync ! \
  npuwhisper model="$model" mode=live latency="$latency" language-code="$lang" live-output=steps "$@" ! \
  webvttenc ! fdsink fd=1 sync=false
