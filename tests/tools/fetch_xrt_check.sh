#!/bin/sh
# scripts/fetch-xrt.sh where the download is impossible (a mirror on a closed loopback port): it must
# fail quickly with its message so run-tests.sh builds without XRT, and leave no prefix behind; and
# an already fetched prefix is reused without touching the network.
# usage: fetch_xrt_check.sh FETCH_XRT_SH
set -u
script=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
fail=0
out=$(NPW_DEBIAN_MIRROR=http://127.0.0.1:9/debian "$script" "$dir/offline" 2>&1)
status=$?
if [ "$status" != 1 ]; then echo "FAIL offline: exit $status: $out"; fail=1; fi
case $out in *"building without XRT"*) echo "ok offline: $out" ;; *) echo "FAIL offline message: $out"; fail=1 ;; esac
if [ -e "$dir/offline/prefix" ]; then echo "FAIL offline: a prefix was left behind"; fail=1; fi

mkdir -p "$dir/done/prefix"
echo "1:2.25.0-test" > "$dir/done/prefix/.fetched"
out=$(NPW_DEBIAN_MIRROR=http://127.0.0.1:9/debian "$script" "$dir/done" 2>/dev/null)
status=$?
if [ "$status" = 0 ] && [ "$out" = "$dir/done/prefix" ]; then echo "ok reused: $out"; else echo "FAIL reuse: exit $status: $out"; fail=1; fi
exit $fail
