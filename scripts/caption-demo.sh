#!/bin/sh
# The main job: build npuwhisper, then caption a bundled clip to SubRip with a gst-launch pipeline
# (examples/file-to-srt.sh). Usage: scripts/caption-demo.sh [AUDIO] [MODEL] [OUT.srt]
# The bundled model has random weights: the captions are well-formed but the words are nonsense.
# Real captions need a real model, e.g. ggml-base.en.bin from whisper.cpp's model repository.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
audio=${1:-$here/tests/data/audio/jfk.wav}
model=${2:-$here/tests/data/ggml-test-f32.bin}
out=${3:-$PWD/$(basename "${audio%.*}").srt}
build=${NPW_BUILD_DIR:-$here/build}
[ -f "$build/build.ninja" ] || meson setup "$build" "$here"
meson compile -C "$build"
export GST_PLUGIN_PATH="$build/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
"$here/examples/file-to-srt.sh" "$audio" "$model" "$out"
echo "captions written to $out:"
cat "$out"
