// Element tests of what users reported lost or wrong: a value refused before the element had a bus
// (gst-launch sets properties first) fails the start naming the property and the value; settings an
// English-only model cannot honour warn once each and the tags carry only the language used; no
// caption leaves the element without a positive duration, for whole clips and for clips shorter
// than a caption's timestamp resolution, at EOS.
#include <string>
#include <vector>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "npw_gst_test.h"

using npwtest::data_path;
using npwtest::model_path;

static std::string clip_pipeline(const std::string& clip, const std::string& props) {
  return "filesrc location=\"" + data_path("audio/" + clip) +
         "\" ! decodebin ! audioconvert ! audioresample ! npuwhisper " + npwtest::kFastProps + " model=\"" + model_path() +
         "\" " + props + " ! appsink name=sink sync=false";
}

static std::string message_text(GstMessage* m) {
  GError* err = nullptr;
  gchar* debug = nullptr;
  if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
    gst_message_parse_error(m, &err, &debug);
  } else {
    gst_message_parse_warning(m, &err, &debug);
  }
  std::string s = err ? err->message : "";
  if (err) g_error_free(err);
  g_free(debug);
  return s;
}

GST_START_TEST(test_value_refused_before_the_bus_fails_the_start) {
  npwtest::RunResult r;
  npwtest::run_pipeline(clip_pipeline("jfk.wav", "language-code=xx"), r);
  fail_unless(r.error != nullptr, "language-code=xx was silently ignored");
  const std::string e = message_text(r.error);
  fail_unless(e.find("language-code") != std::string::npos && e.find("xx") != std::string::npos, "%s", e.c_str());
  fail_unless(r.captions.empty());
}
GST_END_TEST;

GST_START_TEST(test_a_valid_value_replaces_a_refused_one) {
  GstElement* e = gst_element_factory_make("npuwhisper", nullptr);
  g_object_set(e, "model", model_path().c_str(), "language-code", "xx", nullptr);
  g_object_set(e, "language-code", "en-GB", nullptr);
  GstHarness* h = gst_harness_new_with_element(e, "sink", "src");
  fail_unless(gst_element_set_state(e, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  gst_harness_teardown(h);
  gst_object_unref(e);
}
GST_END_TEST;

GST_START_TEST(test_english_only_model_warns_once_per_setting) {
  npwtest::RunResult r;
  npwtest::run_pipeline(clip_pipeline("jfk.wav", "language-code=de translate=true"), r);
  fail_unless(r.error == nullptr && r.eos);
  int language = 0, translate = 0;
  for (GstMessage* m : r.warnings) {
    const std::string w = message_text(m);
    language += w.find("option language") != std::string::npos && w.find("'de'") != std::string::npos;
    translate += w.find("option translate") != std::string::npos;
  }
  fail_unless_equals_int(language, 1);
  fail_unless_equals_int(translate, 1);
  fail_unless(!r.languages.empty());
  for (const std::string& l : r.languages) fail_unless_equals_string(l.c_str(), "en");
}
GST_END_TEST;

GST_START_TEST(test_clip_captions_have_durations) {
  for (const char* clip : {"jfk.wav", "espeak20.wav"}) {
    npwtest::RunResult r;
    npwtest::run_pipeline(clip_pipeline(clip, ""), r);
    fail_unless(r.error == nullptr && r.eos, "%s", clip);
    const GstClockTime length = static_cast<GstClockTime>(npwtest::read_wav(data_path(std::string("audio/") + clip)).size()) *
                                GST_SECOND / 16000;
    for (const npwtest::Caption& c : r.captions) {
      fail_unless(GST_CLOCK_TIME_IS_VALID(c.duration) && c.duration > 0, "%s: \"%s\" has no duration", clip, c.text.c_str());
      fail_unless(c.pts + c.duration <= length + GST_MSECOND, "%s: \"%s\" ends after the audio", clip, c.text.c_str());
    }
  }
}
GST_END_TEST;

// 11 ms, 100 ms and 1 s of speech, then EOS: whatever the model makes of them, nothing without
// duration and nothing past the end.
GST_START_TEST(test_short_clips_at_eos) {
  const std::vector<float> x = npwtest::read_wav(data_path("audio/jfk.wav"));
  for (std::size_t n : {176u, 1600u, 16000u}) {
    GstElement* e = gst_element_factory_make("npuwhisper", nullptr);
    // Greedy, as every element test (the default ladder on random weights takes ~20 s a window).
    g_object_set(e, "model", model_path().c_str(), "beam-size", 0, "temperature-fallback", 0.0f, nullptr);
    // File mode: GstHarness answers the LATENCY query as a live source, which would select live mode.
    gst_util_set_object_arg(G_OBJECT(e), "mode", "file");
    GstHarness* h = gst_harness_new_with_element(e, "sink", "src");
    gst_object_unref(e);
    gst_harness_set_src_caps_str(h, "audio/x-raw,format=F32LE,rate=16000,channels=1,layout=interleaved");
    const std::size_t at = 8000;  // speech starts early in the clip
    GstBuffer* b = gst_buffer_new_memdup(x.data() + at, n * sizeof(float));
    GST_BUFFER_PTS(b) = 0;
    fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
    fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
    const GstClockTime length = gst_util_uint64_scale_int(n, GST_SECOND, 16000);
    while (GstBuffer* out = gst_harness_try_pull(h)) {
      fail_unless(GST_BUFFER_DURATION(out) > 0 && GST_BUFFER_DURATION_IS_VALID(out), "%zu samples: caption without duration", n);
      fail_unless(GST_BUFFER_PTS(out) + GST_BUFFER_DURATION(out) <= length, "%zu samples: caption past the end", n);
      gst_buffer_unref(out);
    }
    gst_harness_teardown(h);
  }
}
GST_END_TEST;

static Suite* npuwhisper_settings_captions_suite() {
  Suite* s = suite_create("npuwhisper-settings-captions");
  TCase* tc = tcase_create("general");
  tcase_set_timeout(tc, 300);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_value_refused_before_the_bus_fails_the_start);
  tcase_add_test(tc, test_a_valid_value_replaces_a_refused_one);
  tcase_add_test(tc, test_english_only_model_warns_once_per_setting);
  tcase_add_test(tc, test_clip_captions_have_durations);
  tcase_add_test(tc, test_short_clips_at_eos);
  return s;
}

GST_CHECK_MAIN(npuwhisper_settings_captions);
