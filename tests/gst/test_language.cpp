// The language the element announces on a multilingual model: with language-code=auto it is the
// language the runtime detects from the first window (compared with npw::Transcriber on the same
// samples), sent downstream as a language-code tag and carried by every caption's meta; with a region
// form (de-AT) it is the base code, without detection. The model is a random-weight multilingual
// model of the test width, written to a temporary file (the words are nonsense; the codes are not).
// Standard headers first: gstcheck.h defines a `fail` macro that breaks <ios>.
#include <fstream>
#include <string>
#include <vector>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include <glib/gstdio.h>

#include "decode/transcriber.h"
#include "model/model.h"
#include "model/random_model.h"
#include "npw_gst_test.h"

// The model file, written on construction and removed (with its directory) on destruction.
struct MultilingualModel {
  std::string dir, path;
  MultilingualModel() {
    gchar* d = g_dir_make_tmp("npwgst-lang-XXXXXX", nullptr);
    dir = d;
    g_free(d);
    path = dir + "/ggml-test-multilingual.bin";
    npw::HParams hp = npw::whisper_dims("test");
    hp.n_vocab = 51865;
    std::vector<std::string> vocab;
    for (int i = 0; i < 50257; ++i) vocab.push_back(i < 256 ? std::string(1, static_cast<char>(i)) : "w" + std::to_string(i));
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    npw::write_random_whisper(out, path, hp, npw::GgmlType::F16, 11, vocab);
  }
  ~MultilingualModel() {
    g_unlink(path.c_str());
    g_rmdir(dir.c_str());
  }
};

struct Announced {
  std::vector<std::string> tag_languages;   // language-code of every stream tag event
  std::vector<std::string> meta_languages;  // "language" of every caption meta
};

static Announced run_element(const std::string& model, const std::string& language_code, const std::vector<float>& x) {
  GstElement* e = gst_element_factory_make("npuwhisper", nullptr);
  fail_unless(e != nullptr);
  g_object_set(e, "model", model.c_str(), "language-code", language_code.c_str(), "beam-size", 0,
               "temperature-fallback", 0.0f, nullptr);
  // GstHarness answers the LATENCY query as a live source; these tests are about file mode.
  gst_util_set_object_arg(G_OBJECT(e), "mode", "file");
  GstHarness* h = gst_harness_new_with_element(e, "sink", "src");
  gst_object_unref(e);
  gst_harness_set_src_caps_str(h, "audio/x-raw,format=F32LE,rate=16000,channels=1,layout=interleaved");
  GstBuffer* b = gst_buffer_new_memdup(x.data(), x.size() * sizeof(float));
  GST_BUFFER_PTS(b) = 0;
  fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  Announced a;
  while (GstEvent* ev = gst_harness_try_pull_event(h)) {
    if (GST_EVENT_TYPE(ev) == GST_EVENT_TAG) {
      GstTagList* tags = nullptr;
      gst_event_parse_tag(ev, &tags);
      gchar* lang = nullptr;
      if (gst_tag_list_get_scope(tags) == GST_TAG_SCOPE_STREAM && gst_tag_list_get_string(tags, GST_TAG_LANGUAGE_CODE, &lang)) {
        a.tag_languages.push_back(lang);
        g_free(lang);
      }
    }
    gst_event_unref(ev);
  }
  while (GstBuffer* c = gst_harness_try_pull(h)) {
    GstCustomMeta* meta = gst_buffer_get_custom_meta(c, "NpuWhisperSegmentMeta");
    fail_unless(meta != nullptr);
    a.meta_languages.push_back(gst_structure_get_string(gst_custom_meta_get_structure(meta), "language"));
    gst_buffer_unref(c);
  }
  gst_harness_teardown(h);
  return a;
}

GST_START_TEST(test_detected_language_is_announced) {
  const MultilingualModel m;
  const std::vector<float> x = npwtest::read_wav(npwtest::data_path("audio/jfk.wav"));
  npw::Options o;
  o.beam_size = 0;
  o.temperatures = {0.0f};
  npw::Transcriber t(npw::ModelCache::instance().get(m.path), o);
  const std::string want = t.transcribe_window(x.data(), x.size(), true).language;
  fail_unless(!want.empty() && want != "auto");

  const Announced a = run_element(m.path, "auto", x);
  fail_unless(!a.tag_languages.empty(), "no language-code tag");
  fail_unless_equals_string(a.tag_languages.back().c_str(), want.c_str());
  for (const std::string& l : a.meta_languages) fail_unless_equals_string(l.c_str(), want.c_str());
}
GST_END_TEST;

GST_START_TEST(test_given_language_is_announced) {
  const MultilingualModel m;
  const std::vector<float> x = npwtest::read_wav(npwtest::data_path("audio/jfk.wav"));
  const Announced a = run_element(m.path, "de-AT", x);
  fail_unless(!a.tag_languages.empty(), "no language-code tag");
  for (const std::string& l : a.tag_languages) fail_unless_equals_string(l.c_str(), "de");
  for (const std::string& l : a.meta_languages) fail_unless_equals_string(l.c_str(), "de");
}
GST_END_TEST;

static Suite* npuwhisper_language_suite() {
  Suite* s = suite_create("npuwhisper-language");
  TCase* tc = tcase_create("language");
  tcase_set_timeout(tc, 300);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_detected_language_is_announced);
  tcase_add_test(tc, test_given_language_is_announced);
  return s;
}

GST_CHECK_MAIN(npuwhisper_language);
