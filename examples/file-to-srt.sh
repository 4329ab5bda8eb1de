#!/bin/sh
# Captions for any audio or video file as SubRip (.srt): decode, convert to 16 kHz mono, transcribe.
#   usage: file-to-srt.sh INPUT MODEL [OUTPUT.srt] [LANGUAGE]
# With a video file only its audio is used (decodebin's video pad stays unlinked).
set -eu
in=${1:?input file}; model=${2:?ggml model}; out=${3:-${1%.*}.srt}; lang=${4:-auto}
exec gst-launch-1.0 -q filesrc location="$in" ! decodebin ! audioconvert ! audioresample ! \
  npuwhisper model="$model" language-code="$lang" ! srtenc ! filesink location="$out"
