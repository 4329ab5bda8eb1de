// The element's audio windows come from its buffer pool and are reused: over a stream of several
// 30 s windows the only GstBuffers created besides the test's input and the element's captions are
// the window pool's (at most 2: one being transcribed, one being filled) and the tensor pool's two
// (the mel window and the encoder output, made once when the caps are negotiated; see
// test_tensor_pool.cpp). Counted with the leaks tracer's activity tracking (GST_TRACERS=leaks in
// the test environment), so nothing depends on timing. That the runtime allocates nothing else per
// window is tests/runtime/alloc's job.
// Standard headers first: gstcheck.h defines a `fail` macro that breaks <ios>.
#include <string>
#include <vector>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "npw_gst_test.h"

static GstTracer* leaks_tracer() {
  GList* tracers = gst_tracing_get_active_tracers();
  GstTracer* found = nullptr;
  for (GList* l = tracers; l; l = l->next)
    if (!found && g_strcmp0(G_OBJECT_TYPE_NAME(l->data), "GstLeaksTracer") == 0) found = GST_TRACER(gst_object_ref(l->data));
  g_list_free_full(tracers, gst_object_unref);
  return found;
}

// GstBuffers created since tracking started.
static int buffers_created(GstTracer* tracer) {
  GstStructure* cp = nullptr;
  g_signal_emit_by_name(tracer, "activity-get-checkpoint", &cp);
  fail_unless(cp != nullptr);
  const GValue* list = gst_structure_get_value(cp, "objects-created-list");
  int n = 0;
  for (guint i = 0; list && i < gst_value_list_get_size(list); ++i) {
    const GstStructure* o = gst_value_get_structure(gst_value_list_get_value(list, i));
    if (g_strcmp0(gst_structure_get_string(o, "type-name"), "GstBuffer") == 0) ++n;
  }
  gst_structure_free(cp);
  return n;
}

GST_START_TEST(test_window_buffers_are_pooled) {
  GstTracer* tracer = leaks_tracer();
  fail_unless(tracer != nullptr, "the leaks tracer is not active (GST_TRACERS=leaks)");
  const std::vector<float> x = npwtest::read_wav(npwtest::data_path("audio/long45.wav"));

  GstElement* e = gst_element_factory_make("npuwhisper", nullptr);
  fail_unless(e != nullptr);
  g_object_set(e, "model", npwtest::model_path().c_str(), "beam-size", 0, "temperature-fallback", 0.0f, nullptr);
  // GstHarness answers the LATENCY query as a live source; these tests are about file mode.
  gst_util_set_object_arg(G_OBJECT(e), "mode", "file");
  GstHarness* h = gst_harness_new_with_element(e, "sink", "src");
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(e, bus);
  gst_object_unref(e);

  g_signal_emit_by_name(tracer, "activity-start-tracking");
  gst_harness_set_src_caps_str(h, "audio/x-raw,format=F32LE,rate=16000,channels=1,layout=interleaved");
  // long45 three times in 1 s buffers: 135 s, at least four full windows and a partial one.
  int inputs = 0;
  std::size_t pos = 0;
  for (int rep = 0; rep < 3; ++rep) {
    for (std::size_t i = 0; i + 16000 <= x.size(); i += 16000, pos += 16000, ++inputs) {
      GstBuffer* b = gst_buffer_new_memdup(x.data() + i, 16000 * sizeof(float));
      GST_BUFFER_PTS(b) = gst_util_uint64_scale_int(pos, GST_SECOND, 16000);
      GST_BUFFER_DURATION(b) = GST_SECOND;
      fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
    }
  }
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  int captions = 0;
  while (GstBuffer* b = gst_harness_try_pull(h)) {
    ++captions;
    gst_buffer_unref(b);
  }
  const int created = buffers_created(tracer);
  g_signal_emit_by_name(tracer, "activity-stop-tracking");

  int windows = 0;
  while (GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_ELEMENT)) {
    const GstStructure* s = gst_message_get_structure(m);
    if (gst_structure_has_name(s, "npuwhisper-stats")) gst_structure_get_int(s, "windows", &windows);
    gst_message_unref(m);
  }
  fail_unless(windows >= 5, "only %d windows", windows);
  constexpr int kTensorBuffers = 2;
  const int pooled = created - inputs - captions - kTensorBuffers;
  fail_unless(pooled >= 1 && pooled <= 2, "%d window buffers for %d windows (inputs %d, captions %d, tensors %d)",
              pooled, windows, inputs, captions, kTensorBuffers);
  gst_element_set_bus(h->element, nullptr);
  gst_bus_set_flushing(bus, TRUE);
  gst_harness_teardown(h);
  gst_object_unref(bus);
  gst_object_unref(tracer);
}
GST_END_TEST;

static Suite* npuwhisper_window_pool_suite() {
  Suite* s = suite_create("npuwhisper-window-pool");
  TCase* tc = tcase_create("window-pool");
  tcase_set_timeout(tc, 300);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_window_buffers_are_pooled);
  return s;
}

GST_CHECK_MAIN(npuwhisper_window_pool);
