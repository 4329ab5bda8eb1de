#!/bin/sh
# The element tests under valgrind's memcheck, with GStreamer's own suppressions, at NPW_SIMD=avx2
# (valgrind does not emulate AVX-512). Passes when no test has a definite leak or a memory error;
# prints, per test, the definite and possible losses and the errors, and which suppression files
# were used. Slow (each test 20-50x its normal time): not part of CI.
#
#   scripts/run-valgrind.sh [BUILD_DIR] [TEST...]      (default: build, every gst-* test)
#
# Suppressions: GStreamer's own, tests/check/gst.supp (tests/check/gstreamer.supp since 1.18: what its
# valgrind test setup uses).
# Debian ships it in no binary package, so unless $GST_SUPP names a copy it is taken from the
# gstreamer1.0 source package of the installed version with apt-get source (a deb-src line is
# added for that one call), cached in BUILD_DIR/valgrind/. Plus GLib's glib.supp from
# libglib2.0-dev (/usr/share/glib-2.0/valgrind/glib.supp) when present, and scripts/valgrind-system.supp
# (one-time allocations of GStreamer, GLib, glibc and fontconfig seen under these tests, each with
# its reason).
set -eu
cd "$(dirname "$0")/.."
build=${1:-build}
[ $# -gt 0 ] && shift
tests=${*:-"gst-test_settings_captions gst-test_element gst-test_stream_events gst-test_window_pool gst-test_language gst-test_tensor_pool gst-test_pipelines gst-test_cancel gst-test_words gst-test_npu gst-test_live gst-test_live_scripted"}
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }
[ -f "$build/build.ninja" ] || meson setup "$build" >/dev/null
meson compile -C "$build" >/dev/null

# Absolute: meson test runs each test in its own directory, where a relative --log-file is not writable.
vdir=$(cd "$build" && pwd)/valgrind
mkdir -p "$vdir"
supp=${GST_SUPP:-}
if [ -z "$supp" ] && [ ! -f "$vdir/gst.supp" ]; then
  version=$(dpkg-query -W -f '${source:Version}' libgstreamer1.0-0 2>/dev/null || true)
  echo "fetching gst.supp from the gstreamer1.0 source package ${version:-?} (apt-get source)"
  tmp=$(mktemp -d)
  mkdir -p "$tmp/lists/partial" "$tmp/archives/partial"
  echo "deb-src http://deb.debian.org/debian bookworm main" >"$tmp/sources.list"
  aptopts="-o Dir::Etc::SourceList=$tmp/sources.list -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$tmp/lists -o Dir::Cache::Archives=$tmp/archives"
  # shellcheck disable=SC2086
  if apt-get $aptopts update >/dev/null 2>&1 && (cd "$tmp" && apt-get $aptopts source --download-only "gstreamer1.0${version:+=$version}" >/dev/null 2>&1 || apt-get $aptopts source --download-only gstreamer1.0 >/dev/null 2>&1); then
    orig=$(ls "$tmp"/gstreamer1.0_*.orig.tar.* | head -1)
    # gst.supp until 1.16, gstreamer.supp since the move to meson
    tar -xf "$orig" -C "$tmp" --wildcards '*/tests/check/gst*.supp'
    cp "$(find "$tmp" -name 'gst*.supp' | head -1)" "$vdir/gst.supp"
    echo "GStreamer's tests/check/$(basename "$(find "$tmp" -name 'gst*.supp' | head -1)") from $(basename "$orig"), Debian source package ${version:-?}" >"$vdir/gst.supp.source"
  fi
  rm -rf "$tmp"
fi
[ -z "$supp" ] && [ -f "$vdir/gst.supp" ] && supp=$vdir/gst.supp
supps=""
if [ -n "$supp" ]; then
  supps="--suppressions=$supp"
  echo "suppressions: $supp ($(cat "$vdir/gst.supp.source" 2>/dev/null || echo "given by GST_SUPP"))"
else
  echo "WARNING: no gst.supp found (set GST_SUPP=path/to/gst.supp); GStreamer's one-time allocations will show as possible leaks"
fi
glib_supp=/usr/share/glib-2.0/valgrind/glib.supp
[ -f "$glib_supp" ] && supps="$supps --suppressions=$glib_supp" && echo "suppressions: $glib_supp"
# The system libraries' one-time allocations no npuwhisper frame is part of (each explained there).
own_supp=$(pwd)/scripts/valgrind-system.supp
supps="$supps --suppressions=$own_supp"
echo "suppressions: $own_supp"

status=0
for t in $tests; do
  log=$vdir/$t.log
  # Logs of an earlier run of this test (one stopped half way, say) would be counted with this one's.
  rm -f "$log".*
  # One process (no fork per test) so that the leak check sees every test's allocations; GLib's
  # slice allocator off so that its blocks are visible as what they are. Except the NPU test: its
  # faults are read when the process's emulated device is made, so each test needs a process of its
  # own (in one process the "zeros" fault never applied, its test failed and left a pipeline running
  # that check's clean-up then waited for without end). Forked children stay under valgrind, each
  # with its own log.
  fork=no
  case $t in gst-test_npu) fork=yes ;; esac
  # More threads than valgrind's default 500: test_element starts the element with every property at its maximum, n-threads 256
  # among them (over 500 threads for a moment); valgrind would abort there instead of running on.
  set +e
  # shellcheck disable=SC2086
  # NPW_TEST_WAIT_SCALE: the tests' waits for a caption or an event (60 s natively) stretched as
  # the run is; a test that gave up there was left by check's longjmp with its buffers and threads,
  # which memcheck then counted as "possibly lost".
  # CK_TIMEOUT_MULTIPLIER: check's own per-test time-out, which applies only to forked tests
  # (test_npu's 300 s ended its mel-on-device test half way through under memcheck).
  NPW_SIMD=avx2 CK_FORK=$fork CK_TIMEOUT_MULTIPLIER=40 G_SLICE=always-malloc G_DEBUG=gc-friendly GST_TRACERS= NPW_TEST_WAIT_SCALE=40 \
    meson test -C "$build" --no-rebuild --timeout-multiplier 40 \
    --wrapper "valgrind --max-threads=2000 --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite --show-leak-kinds=definite,possible --num-callers=30 --log-file=$log.%p $supps" \
    "$t" >/dev/null 2>&1
  rc=$?
  set -e
  # meson rewrites its log for every call: keep each test's own output (its failure message, or the
  # GstCheck leak tracer's report) beside the valgrind logs.
  cp "$build/meson-logs/testlog-valgrind.txt" "$vdir/$t.testlog" 2>/dev/null || true
  definite=$(cat "$log".* 2>/dev/null | grep -o 'definitely lost: [0-9,]* bytes' | grep -o '[0-9,]* bytes' | tr -d , | awk '{s+=$1} END {print s+0}')
  possible=$(cat "$log".* 2>/dev/null | grep -o 'possibly lost: [0-9,]* bytes' | grep -o '[0-9,]* bytes' | tr -d , | awk '{s+=$1} END {print s+0}')
  errors=$(cat "$log".* 2>/dev/null | grep -o 'ERROR SUMMARY: [0-9]*' | grep -o '[0-9]*$' | awk '{s+=$1} END {print s+0}')
  ours=$(cat "$log".* 2>/dev/null | grep -c 'npw::\|npwgst::\|gst_npu_whisper' || true)
  printf '%-30s rc=%-3s definite=%s bytes possible=%s bytes errors=%s frames-in-npuwhisper=%s\n' "$t" "$rc" "$definite" "$possible" "$errors" "$ours"
  [ "$rc" -ne 0 ] && status=1
done
echo "logs: $vdir/TEST.log.PID (valgrind), $vdir/TEST.testlog (the test's output)"
exit $status
