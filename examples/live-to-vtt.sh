#!/bin/sh
# Live captions from the default microphone into a WebVTT file that grows while you speak, one cue
# per committed word (tail -f it, or serve it to a player). Ctrl-C ends the file cleanly (-e: EOS,
# which also commits the words still pending).
#   usage: live-to-vtt.sh MODEL OUT.vtt [LATENCY_MS] [LANGUAGE]
set -eu
model=${1:?usage: live-to-vtt.sh MODEL OUT.vtt [LATENCY_MS] [LANGUAGE]}; out=${2:?output .vtt}
latency=${3:-1000}; lang=${4:-auto}
[ -r "$model" ] || { echo "live-to-vtt.sh: cannot read the model \"$model\"" >&2; exit 1; }
exec gst-launch-1.0 -q -e autoaudiosrc ! queue ! audioconvert ! audioresample ! \
  npuwhisper model="$model" mode=live latency="$latency" language-code="$lang" ! \
  webvttenc ! filesink location="$out" sync=false buffer-mode=unbuffered
