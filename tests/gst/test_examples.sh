#!/bin/sh
# Runs the examples a user copies from, as the examples README says to: file-to-srt.sh on a bundled
# clip (a SubRip file with numbered cues), and the C meta reader (every documented meta field
# printed). burn-in-captions.sh runs too where its encoders (x264enc, avenc_aac, mp4mux) are
# installed. The live examples: live-microphone.sh and live-to-vtt.sh must fail loudly without a model
# (they need a microphone to do more), simulated-live.sh prints WebVTT from the clip in real time.
#   usage: test_examples.sh EXAMPLES_DIR READ_METAS_EXE MODEL CLIP
set -eu
examples=$1; read_metas=$2; model=$3; clip=$4
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$examples/file-to-srt.sh" "$clip" "$model" "$tmp/out.srt" || fail "file-to-srt.sh exited $?"
[ -s "$tmp/out.srt" ] || fail "file-to-srt.sh wrote no captions"
head -n 1 "$tmp/out.srt" | grep -qx '1' || fail "first SubRip cue is not numbered 1: $(head -n 1 "$tmp/out.srt")"
grep -Eq '^[0-9]{2}:[0-9]{2}:[0-9]{2},[0-9]{3} --> [0-9]{2}:[0-9]{2}:[0-9]{2},[0-9]{3}$' "$tmp/out.srt" ||
  fail "no SubRip time line in: $(cat "$tmp/out.srt")"
echo "file-to-srt.sh: $(grep -c -- ' --> ' "$tmp/out.srt") cue(s)"

"$read_metas" "$clip" "$model" >"$tmp/metas.txt" || fail "read_metas exited $?"
for field in 'start .. end' tokens token-probs avg-logprob no-speech-prob compression-ratio temperature language; do
  grep -q -- "$field" "$tmp/metas.txt" || fail "read_metas does not print $field"
done
echo "read_metas: $(grep -c 'avg-logprob' "$tmp/metas.txt") caption(s) with every field"

for ex in live-microphone.sh live-to-vtt.sh; do
  if "$examples/$ex" "$tmp/missing.bin" "$tmp/out.vtt" 2>"$tmp/err.txt"; then fail "$ex exited 0 without a model"; fi
  grep -q 'missing.bin' "$tmp/err.txt" || fail "$ex did not name the missing model: $(cat "$tmp/err.txt")"
done
echo "live-microphone.sh, live-to-vtt.sh: a missing model is an error"
# (random weights fail every quality test: greedy, no fallback, or each step decodes many times)
"$examples/simulated-live.sh" "$clip" "$model" 2000 auto beam-size=0 temperature-fallback=0 >"$tmp/live.vtt" || fail "simulated-live.sh exited $?"
head -n 1 "$tmp/live.vtt" | grep -q '^WEBVTT' || fail "simulated-live.sh printed no WebVTT: $(cat "$tmp/live.vtt")"
echo "simulated-live.sh: WebVTT with $(grep -c -- ' --> ' "$tmp/live.vtt") cue(s)"

have() { gst-inspect-1.0 "$1" >/dev/null 2>&1; }
if have x264enc && have avenc_aac && have mp4mux; then
  gst-launch-1.0 -q -e videotestsrc num-buffers=60 ! video/x-raw,framerate=10/1 ! x264enc ! mux. \
    filesrc location="$clip" ! decodebin ! audioconvert ! avenc_aac ! mux. mp4mux name=mux ! \
    filesink location="$tmp/in.mp4" || fail "could not make the input video"
  "$examples/burn-in-captions.sh" "$tmp/in.mp4" "$model" "$tmp/out.mp4" || fail "burn-in-captions.sh exited $?"
  [ -s "$tmp/out.mp4" ] || fail "burn-in-captions.sh wrote nothing"
  echo "burn-in-captions.sh: $(wc -c <"$tmp/out.mp4") bytes"
else
  echo "burn-in-captions.sh not run: x264enc, avenc_aac or mp4mux missing"
fi
