// libFuzzer target for the element: the input scripts a stream - caps (F32LE or S16LE), file or live
// mode, then buffers of any size with their bytes as samples (so NaN, Inf and denormals come as they
// fall), timestamps that jump, go back or are missing, DISCONT and GAP flags, GAP events, flushes, new
// segments - pushed through a GstHarness into npuwhisper (the element built in, not loaded) on the
// bundled test model with greedy decoding. Anything but captions, GAPs and clean errors is a bug:
// a crash, a sanitizer report, a hang (libFuzzer's -timeout) or a leak (LeakSanitizer at exit).
// (A GstHarness answers the LATENCY query as a live source, so mode=auto would always be live: until
// 2026-11-28 the file mode went unfuzzed.)
#include <gst/check/gstharness.h>
#include <gst/gst.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "gstnpuwhisper.h"
#include "model/model.h"

namespace {

struct Reader {
  const uint8_t* p;
  std::size_t n;
  uint32_t u(int bytes) {
    uint32_t v = 0;
    for (int i = 0; i < bytes && n > 0; ++i, ++p, --n) v |= static_cast<uint32_t>(*p) << (8 * i);
    return v;
  }
};

// Every text buffer has a time and a duration; a file-mode caption (a segment of the window) a
// positive one. Words, live ones included, keep the model's timing, which may be an instant
// (gst/npuwhisper_stream.cpp's emit_words, gst/npuwhisper_live.cpp's push_text).
void check_output(GstBuffer* out, bool live) {
  if (!GST_BUFFER_PTS_IS_VALID(out) || !GST_BUFFER_DURATION_IS_VALID(out)) __builtin_trap();
  if (!live && GST_BUFFER_DURATION(out) == 0) __builtin_trap();
  gst_buffer_unref(out);
}

std::string model_path() {
  const char* env = std::getenv("NPW_FUZZ_MODEL");
  return env ? env : NPW_FUZZ_DEFAULT_MODEL;
}

}  // namespace

// Allocations here pass through GLib and GStreamer, built without frame pointers: ASan's fast unwinder
// stops at g_malloc and a report names nothing of ours. The slow one costs ~5 % of units.
extern "C" const char* __asan_default_options() { return "fast_unwind_on_malloc=0:malloc_context_size=64"; }

// GLib leaks its quark table on purpose each time it grows by a block of 2048 (gquark.c: lock-free
// readers may still hold the old array); the first block comes from its library constructor. The
// element's first use takes the count past 2048, and LeakSanitizer then reported 16 KiB "leaked"
// from g_malloc in whichever unit checked first (two findings on 2026-11-28).
extern "C" const char* __lsan_default_suppressions() {
  return "leak:_dl_init\nleak:g_quark_from_string\nleak:g_quark_from_static_string\nleak:g_intern_string\n"
         "leak:g_intern_static_string\n";
}

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  gst_init(argc, argv);
  GST_ELEMENT_REGISTER(npuwhisper, nullptr);
  // Kept loaded between inputs: each harness would otherwise map and pack it again.
  static std::shared_ptr<const npw::Model> keep = npw::ModelCache::instance().get(model_path());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  Reader r{data, size};
  const uint32_t flags = r.u(1);
  const bool s16 = flags & 1;
  const bool live = flags & 2;
  const guint latency = 1000 + (r.u(1) % 30) * 1000;
  GstElement* e = gst_element_factory_make("npuwhisper", nullptr);
  g_object_set(e, "model", model_path().c_str(), "beam-size", 0, "temperature-fallback", 0.0f, "n-threads", 1,
               "latency", live ? std::min<guint>(latency, 10000) : latency, nullptr);
  gst_util_set_object_arg(G_OBJECT(e), "mode", live ? "live" : "file");
  GstHarness* h = gst_harness_new_with_element(e, "sink", "src");
  gst_object_unref(e);
  gst_harness_set_src_caps_str(h, s16 ? "audio/x-raw,format=S16LE,rate=16000,channels=1,layout=interleaved"
                                      : "audio/x-raw,format=F32LE,rate=16000,channels=1,layout=interleaved");
  const std::size_t width = s16 ? 2 : 4;
  GstClockTime pts = 0;
  std::size_t total = 0;
  while (r.n > 0 && total < 16000 * 40) {
    const uint8_t op = static_cast<uint8_t>(r.u(1));
    switch (op % 8) {
      case 0: case 1: case 2: case 3: {  // a buffer of the input's next bytes
        const std::size_t want = (r.u(2) % 4096 + 1) * width;
        const std::size_t n = std::min(want, r.n) / width * width;
        // An empty buffer is legal upstream; gst_buffer_new_memdup() would refuse zero bytes.
        GstBuffer* b = n ? gst_buffer_new_memdup(r.p, n) : gst_buffer_new();
        r.p += n;
        r.n -= n;
        total += n / width;
        if (op & 0x10) GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DISCONT);
        if (op & 0x20) GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_GAP);
        GST_BUFFER_PTS(b) = (op & 0x40) ? GST_CLOCK_TIME_NONE : pts;
        pts += gst_util_uint64_scale_int(n / width, GST_SECOND, 16000);
        gst_harness_push(h, b);
        break;
      }
      case 4: pts = static_cast<GstClockTime>(r.u(2)) * GST_MSECOND * 10; break;  // jump anywhere, also back
      case 5: gst_harness_push_event(h, gst_event_new_gap(pts, static_cast<GstClockTime>(r.u(1)) * GST_MSECOND * 20)); break;
      case 6:
        gst_harness_push_event(h, gst_event_new_flush_start());
        gst_harness_push_event(h, gst_event_new_flush_stop(TRUE));
        break;
      default: {
        GstSegment seg;
        gst_segment_init(&seg, GST_FORMAT_TIME);
        seg.start = seg.time = static_cast<GstClockTime>(r.u(2)) * GST_MSECOND;
        gst_harness_push_event(h, gst_event_new_segment(&seg));
        break;
      }
    }
    while (GstBuffer* out = gst_harness_try_pull(h)) check_output(out, live);
  }
  gst_harness_push_event(h, gst_event_new_eos());
  while (GstBuffer* out = gst_harness_try_pull(h)) check_output(out, live);
  gst_harness_teardown(h);
  return 0;
}
