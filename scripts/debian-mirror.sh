#!/bin/sh
# Prints the Debian archive this machine's apt is already configured to use (the first non-security
# repository of its sources), so that the scripts reaching Debian unstable (fetch-xrt.sh,
# check-xrt-chroot.sh) go where the system's own apt goes instead of naming a host of their own.
# NPW_DEBIAN_MIRROR overrides it. Exit status 1 when apt names no Debian repository.
set -eu
if [ -n "${NPW_DEBIAN_MIRROR:-}" ]; then
  echo "$NPW_DEBIAN_MIRROR"
  exit 0
fi
uri=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(TARGET_OF)' 2>/dev/null |
  awk '$3 == "deb" && $2 !~ /security/ { sub(/\/$/, "", $1); print $1; exit }')
if [ -z "$uri" ]; then
  echo "debian-mirror: this machine's apt names no Debian repository (run apt-get update, or set NPW_DEBIAN_MIRROR)" >&2
  exit 1
fi
echo "$uri"
