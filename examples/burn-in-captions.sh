#!/bin/sh
# Burns the captions of a video's own speech into its picture and writes an MP4 (H.264 + AAC).
#   usage: burn-in-captions.sh INPUT.mp4 MODEL OUTPUT.mp4
# textoverlay holds each video frame until the caption stream has reached its time, and captions
# come a window (up to 30 s) after the audio they belong to, so the video branch needs a queue
# that can hold that much; the audio branch is split so the same audio is both encoded and heard
# by npuwhisper. Needs x264enc (gstreamer1.0-plugins-ugly) and avenc_aac or voaacenc.
set -eu
in=${1:?input video}; model=${2:?ggml model}; out=${3:?output.mp4}
exec gst-launch-1.0 -e filesrc location="$in" ! decodebin name=d \
  d. ! queue max-size-time=40000000000 max-size-bytes=0 max-size-buffers=0 ! videoconvert ! \
       txt.video_sink \
  d. ! queue ! audioconvert ! tee name=a \
  a. ! queue ! audioresample ! npuwhisper model="$model" ! txt.text_sink \
  a. ! queue max-size-time=40000000000 max-size-bytes=0 max-size-buffers=0 ! audioconvert ! avenc_aac ! mux. \
  textoverlay name=txt valignment=bottom font-desc="Sans 24" wait-text=true ! videoconvert ! x264enc ! \
  mp4mux name=mux ! filesink location="$out"
