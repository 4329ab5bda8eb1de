// Stopping and flushing abandon the window in flight instead of waiting for it. The element and the
// runtime are built into this test (not loaded as the plugin) so that a stand-in backend whose
// products block until cancelled can be registered under "npu", the name the element's backend
// property reaches: a window then never ends unless the element cancels it. Going to NULL and a
// flushing seek must return (the test times out otherwise); the abandoned window must output
// nothing; captions pushed before it stay as they were; and the element decodes normally after. What a
// stop frees is freed in the background, and finalisation waits for it.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "../common/stalled_backend.h"
#include "gstnpuwhisper.h"
#include "model/model.h"
#include "npw_gst_test.h"

static const char* kCaps = "audio/x-raw,format=F32LE,rate=16000,channels=1,layout=interleaved";
static const char* kMarker = "npw-test-marker";

// 30 s of speech (jfk, repeated): one full window, transcribed as soon as it is queued.
static std::vector<float> window_of_speech() {
  const std::vector<float> jfk = npwtest::read_wav(npwtest::data_path("audio/jfk.wav"));
  std::vector<float> x;
  while (x.size() < 480000) x.insert(x.end(), jfk.begin(), jfk.end());
  x.resize(480000);
  return x;
}

static GstHarness* new_harness() {
  GstElement* e = gst_element_factory_make("npuwhisper", nullptr);
  fail_unless(e != nullptr);
  // Default decoding (beam 5, best-of 5, the temperature ladder): the slowest a window can be.
  g_object_set(e, "model", npwtest::model_path().c_str(), "n-threads", 1, nullptr);
  gst_util_set_object_arg(G_OBJECT(e), "backend", "npu");
  // File mode: GstHarness answers the LATENCY query as a live source, which would select live mode.
  gst_util_set_object_arg(G_OBJECT(e), "mode", "file");
  GstHarness* h = gst_harness_new_with_element(e, "sink", "src");
  gst_object_unref(e);
  gst_harness_set_src_caps_str(h, kCaps);
  return h;
}

static void push_audio(GstHarness* h, const std::vector<float>& x, GstClockTime pts) {
  GstBuffer* b = gst_buffer_new_memdup(x.data(), x.size() * sizeof(float));
  GST_BUFFER_PTS(b) = pts;
  GST_BUFFER_DURATION(b) = gst_util_uint64_scale_int(x.size(), GST_SECOND, 16000);
  fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
}

// Everything queued before this returns has been handled: a serialized event goes through the
// worker after it, and comes out after whatever the worker pushed for it.
static void wait_worker(GstHarness* h) {
  fail_unless(gst_harness_push_event(
      h, gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM, gst_structure_new_empty(kMarker))));
  for (;;) {
    GstEvent* e = npwtest::pull_event_within(h, 60);
    fail_unless(e != nullptr, "the marker event never came out");
    const bool marker = GST_EVENT_TYPE(e) == GST_EVENT_CUSTOM_DOWNSTREAM &&
                        gst_structure_has_name(gst_event_get_structure(e), kMarker);
    gst_event_unref(e);
    if (marker) return;
  }
}

static void wait_stalled() {
  while (npwtest::stall_control().stalled == 0) g_usleep(1000);
}

static void stall(bool on) {
  npwtest::StallControl& c = npwtest::stall_control();
  c.stalled = 0;
  c.released = 0;
  c.stall = on;
}

GST_START_TEST(test_stopping_abandons_the_window) {
  GstHarness* h = new_harness();
  stall(true);
  push_audio(h, window_of_speech(), 0);
  wait_stalled();
  // PAUSED->READY cancels the window; the worker is joined in stop(). Without cancellation this
  // never returns.
  fail_unless(gst_element_set_state(h->element, GST_STATE_NULL) == GST_STATE_CHANGE_SUCCESS);
  fail_unless(npwtest::stall_control().released >= 1);
  fail_unless(gst_harness_try_pull(h) == nullptr, "the abandoned window produced a caption");
  stall(false);
  gst_harness_teardown(h);
}
GST_END_TEST;

// The stopped stream and the model are freed after set_state() has returned (npuwhisper_teardown.h):
// a restart waits for that, and the element's finalisation too, so that nothing outlives it.
GST_START_TEST(test_stop_frees_in_the_background_and_finalize_waits) {
  GstHarness* h = new_harness();
  stall(true);
  push_audio(h, window_of_speech(), 0);
  wait_stalled();
  fail_unless(gst_element_set_state(h->element, GST_STATE_NULL) == GST_STATE_CHANGE_SUCCESS);
  stall(false);
  // Started again at once, while the teardown may still run: it is waited for, then a model is loaded.
  fail_unless(gst_element_set_state(h->element, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  std::weak_ptr<const npw::Model> model = npw::ModelCache::instance().get(npwtest::model_path());
  fail_if(model.expired(), "the running element does not hold the model");
  fail_unless(gst_element_set_state(h->element, GST_STATE_NULL) == GST_STATE_CHANGE_SUCCESS);
  gst_harness_teardown(h);  // the element's last reference: finalize joins the teardown
  fail_unless(model.expired(), "the model outlived the element");
}
GST_END_TEST;

GST_START_TEST(test_flushing_seek_abandons_the_window) {
  const std::vector<float> speech = window_of_speech();
  GstHarness* h = new_harness();
  gst_util_set_object_arg(G_OBJECT(h->element), "temperature-fallback", "0");
  g_object_set(h->element, "beam-size", 0, nullptr);

  // A first window, decoded normally: whatever it captions is kept.
  stall(false);
  push_audio(h, speech, 0);
  wait_worker(h);
  std::vector<GstBuffer*> before;
  while (GstBuffer* b = gst_harness_try_pull(h)) before.push_back(b);
  std::vector<std::string> texts;
  for (GstBuffer* b : before) {
    GstMapInfo map;
    fail_unless(gst_buffer_map(b, &map, GST_MAP_READ));
    texts.emplace_back(reinterpret_cast<const char*>(map.data), map.size);
    gst_buffer_unmap(b, &map);
  }

  // The second stalls; a flushing seek (FLUSH_START, FLUSH_STOP, a new SEGMENT) abandons it.
  stall(true);
  push_audio(h, speech, 30 * GST_SECOND);
  wait_stalled();
  fail_unless(gst_harness_push_event(h, gst_event_new_flush_start()));
  fail_unless(gst_harness_push_event(h, gst_event_new_flush_stop(TRUE)));
  fail_unless(npwtest::stall_control().released >= 1);
  stall(false);
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  seg.start = seg.time = 10 * GST_SECOND;
  fail_unless(gst_harness_push_event(h, gst_event_new_segment(&seg)));
  wait_worker(h);
  fail_unless(gst_harness_try_pull(h) == nullptr, "the abandoned window produced a caption");

  // What was pushed before the flush is untouched.
  for (std::size_t i = 0; i < before.size(); ++i) {
    GstBuffer* b = before[i];
    fail_unless(GST_BUFFER_PTS(b) < 30 * GST_SECOND && GST_BUFFER_DURATION(b) > 0);
    GstMapInfo map;
    fail_unless(gst_buffer_map(b, &map, GST_MAP_READ));
    fail_unless(std::string(reinterpret_cast<const char*>(map.data), map.size) == texts[i]);
    gst_buffer_unmap(b, &map);
    fail_unless(gst_buffer_get_custom_meta(b, "NpuWhisperSegmentMeta") != nullptr);
    gst_buffer_unref(b);
  }

  // And the stream carries on: audio after the seek is transcribed to EOS.
  push_audio(h, std::vector<float>(speech.begin(), speech.begin() + 16000 * 5), 10 * GST_SECOND);
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  bool eos = false;
  while (GstEvent* e = gst_harness_try_pull_event(h)) {
    eos = eos || GST_EVENT_TYPE(e) == GST_EVENT_EOS;
    gst_event_unref(e);
  }
  fail_unless(eos, "no EOS after the flush");
  while (GstBuffer* b = gst_harness_try_pull(h)) {
    fail_unless(GST_BUFFER_PTS(b) >= 10 * GST_SECOND, "a caption from before the seek");
    gst_buffer_unref(b);
  }
  gst_harness_teardown(h);
}
GST_END_TEST;

static Suite* npuwhisper_cancel_suite() {
  // In this process the element and the stand-in backend share one backend registry.
  GST_ELEMENT_REGISTER(npuwhisper, nullptr);
  npwtest::register_stalled_backend("npu");
  Suite* s = suite_create("npuwhisper-cancel");
  TCase* tc = tcase_create("general");
  tcase_set_timeout(tc, 120);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_stopping_abandons_the_window);
  tcase_add_test(tc, test_flushing_seek_abandons_the_window);
  tcase_add_test(tc, test_stop_frees_in_the_background_and_finalize_waits);
  return s;
}

GST_CHECK_MAIN(npuwhisper_cancel);
