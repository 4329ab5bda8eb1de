#!/bin/sh
# A file played at real time (clocksync) through live mode, its words printed as WebVTT cues as they
# are committed: how live captions behave on a known recording, without a microphone.
#   usage: simulated-live.sh IN MODEL [LATENCY_MS] [LANGUAGE]
set -eu
in=${1:?usage: simulated-live.sh IN MODEL [LATENCY_MS] [LANGUAGE]}; model=${2:?ggml model}
latency=${3:-1000}; lang=${4:-auto}
[ -r "$in" ] || { echo "simulated-live.sh: cannot read \"$in\"" >&2; exit 1; }
[ -r "$model" ] || { echo "simulated-live.sh: cannot read the model \"$model\"" >&2; exit 1; }
exec gst-launch-1.0 -q filesrc location="$in" ! decodebin ! audioconvert ! audioresample ! clocksync ! \
  npuwhisper model="$model" mode=live latency="$latency" language-code="$lang" live-output=steps ! \
  webvttenc ! fdsink fd=1 sync=false
