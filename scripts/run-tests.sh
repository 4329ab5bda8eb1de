#!/bin/sh
# Builds npuwhisper and runs its whole test suite (unit, golden, CLI and element tests) with meson,
# then the model-loader, quantisation, audio, kernel and decoding-policy tests again under
# AddressSanitizer and UBSan, where a bad byte in a model file or WAV would show as an out-of-bounds
# read (the policy's rows run on the stream's pool).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
build=${NPW_BUILD_DIR:-$here/build}
asan=${NPW_ASAN_BUILD_DIR:-$here/build-asan}
# XRT from Debian unstable, unpacked under the build tree, so that the NPU's XRT module is compiled and
# linked against the real thing; without network (or packages) the build goes on without the module.
xrt_opt=
if xrt_prefix=$("$here/scripts/fetch-xrt.sh" "$build/xrt"); then
  xrt_opt=-Dxrt_prefix=$xrt_prefix
else
  echo "run-tests: XRT could not be fetched; building without the NPU's XRT module" >&2
fi
# Warnings are errors here (the tree builds clean with g++ 12). Not in the sanitizer build below:
# g++ 12 reports false maybe-uninitialized warnings inside libstdc++'s <regex> under ASan.
[ -f "$build/build.ninja" ] || meson setup "$build" "$here" -Dwerror=true $xrt_opt
# --reconfigure, not configure: a build directory made before the option existed must learn it.
[ -z "$xrt_opt" ] || meson setup --reconfigure "$build" "$here" $xrt_opt >/dev/null
meson compile -C "$build"
meson test -C "$build" --print-errorlogs --num-processes 2
[ -f "$asan/build.ninja" ] || meson setup "$asan" "$here" -Dgst=disabled -Db_sanitize=address,undefined -Db_lundef=false
meson compile -C "$asan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  meson test -C "$asan" --print-errorlogs --no-rebuild --num-processes 2 model quant audio nn_unit nn_unit_avx2 nn_int8 nn_encoder_golden decoder decode cli stream \
  npu_xrt_loader npu_instruction_stream memory_ledger weight-release
