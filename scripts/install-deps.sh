#!/bin/sh
# Installs, on Debian 12, everything npuwhisper needs to build, run its demo and pass its tests.
# Run as root (or with sudo). One list, used by the README's commands and by CI alike.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
  g++ meson ninja-build pkg-config \
  libglib2.0-dev libopenblas-dev zlib1g-dev libgtest-dev \
  libwebrtc-audio-processing-dev \
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev \
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad gstreamer1.0-x
