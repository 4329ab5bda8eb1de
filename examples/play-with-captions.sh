#!/bin/sh
# Plays a video with its speech captioned on the picture, as a media player would (decodebin, synced
# audio and video sinks, textoverlay waiting for text). What makes it play:
# - live mode: the element commits words within its latency and sends GAPs that follow the audio
#   it has received (file mode would wait for a 30 s window, and the player would never preroll);
# - the audio sink's and the video's queues hold LEAD seconds, so the audio reaches npuwhisper that
#   far ahead of the clock: a frame at time t waits in textoverlay until the text stream has passed
#   t, which needs audio up to t + latency-step + 1.65 s. LEAD = 3 steps + 2 s is enough.
# The video is thus decoded LEAD seconds ahead and held in its queue (raw frames: keep LEAD small for
# big pictures); nothing is shown late.
#   usage: play-with-captions.sh IN MODEL [LATENCY_MS] [VIDEO_SINK] [AUDIO_SINK]
set -eu
in=${1:?usage: play-with-captions.sh IN MODEL [LATENCY_MS] [VIDEO_SINK] [AUDIO_SINK]}; model=${2:?ggml model}
latency=${3:-1000}; vsink=${4:-autovideosink}; asink=${5:-autoaudiosink}
[ -r "$in" ] || { echo "play-with-captions.sh: cannot read \"$in\"" >&2; exit 1; }
[ -r "$model" ] || { echo "play-with-captions.sh: cannot read the model \"$model\"" >&2; exit 1; }
lead=$(( (3 * latency + 2000) * 1000000 ))
hold="max-size-time=$lead max-size-bytes=0 max-size-buffers=0"
exec gst-launch-1.0 filesrc location="$in" ! decodebin name=d \
  d. ! queue $hold ! videoconvert ! txt.video_sink \
  d. ! audioconvert ! tee name=a \
  a. ! queue $hold ! audioconvert ! audioresample ! $asink \
  a. ! queue ! audioresample ! npuwhisper model="$model" mode=live latency="$latency" ! txt.text_sink \
  textoverlay name=txt valignment=bottom font-desc="Sans 24" ! videoconvert ! $vsink
