#!/bin/sh
# Live captions from the default microphone, printed as WebVTT cues the moment each update step
# commits its words (live mode: words are never revised once shown; silence is skipped by the
# voice gate). No parsing pipe: gst-launch writes the cues itself, so its errors (no model, no
# microphone) reach the terminal and its exit status is this script's.
#   usage: live-microphone.sh MODEL [LATENCY_MS] [LANGUAGE]
# LATENCY_MS is the update step (200-10000, default 1000); the LATENCY query then reports
# 3 steps + 1.65 s, the longest a word can take to come out (see the README).
set -eu
model=${1:?usage: live-microphone.sh MODEL [LATENCY_MS] [LANGUAGE]}; latency=${2:-1000}; lang=${3:-auto}
[ -r "$model" ] || { echo "live-microphone.sh: cannot read the model \"$model\"" >&2; exit 1; }
exec gst-launch-1.0 -q -e autoaudiosrc ! queue ! audioconvert ! audioresample ! \
  npuwhisper model="$model" mode=live latency="$latency" language-code="$lang" live-output=steps ! \
  webvttenc ! fdsink fd=1 sync=false
