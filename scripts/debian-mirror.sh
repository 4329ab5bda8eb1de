#!/bin/sh
# Prints the Debian mirror this machine's apt already uses (deb822 .sources or one-line sources.list),
# so that the scripts that reach Debian unstable (fetch-xrt.sh, check-xrt-chroot.sh) go where the
# machine's administrator points apt, and name no mirror of their own. NPW_DEBIAN_MIRROR overrides it.
set -eu
if [ -n "${NPW_DEBIAN_MIRROR:-}" ]; then
  echo "$NPW_DEBIAN_MIRROR"
  exit 0
fi
mirror=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
  awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) if ($i ~ /\/debian\/?$/) { print $i; exit } }')
if [ -z "$mirror" ]; then
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
    awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\// && $i ~ /\/debian\/?$/) { print $i; exit } }')
fi
if [ -z "$mirror" ]; then
  echo "debian-mirror: no Debian mirror in this machine's apt sources; set NPW_DEBIAN_MIRROR" >&2
  exit 1
fi
echo "${mirror%/}"
