#!/bin/sh
# npuwhisper-npu-probe as a user runs it: a usable (fake) NPU, a module that is not there, bad flags.
# usage: npu_probe_check.sh PROBE FAKE_MODULE
set -u
probe=$1
fake=$2
fail=0
check() {  # name, expected status, expected text, command...
  name=$1 want=$2 text=$3
  shift 3
  out=$("$@" 2>&1)
  got=$?
  if [ "$got" != "$want" ]; then echo "FAIL $name: exit $got, wanted $want: $out"; fail=1; return; fi
  case $out in
    *"$text"*) echo "ok $name: $out" ;;
    *) echo "FAIL $name: '$text' not in: $out"; fail=1 ;;
  esac
}
check usable 0 "NPU 0: fake NPU, npu2, 8 columns x 4 rows" env NPW_NPU_MODULE="$fake" "$probe"
check other-index 0 "NPU 3: fake NPU" env NPW_NPU_MODULE="$fake" "$probe" --device 3
check no-module 2 "does not exist" env NPW_NPU_MODULE=/nonexistent/libnpw-npu-xrt.so "$probe"
check bad-index 1 "--device takes a number" "$probe" --device x
check bad-flag 1 "usage:" "$probe" --frobnicate
exit $fail
