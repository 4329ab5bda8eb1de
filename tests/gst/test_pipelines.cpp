// Pipeline tests: every bundled clip through filesrc ! decodebin ! audioconvert ! audioresample !
// npuwhisper, checked against the runtime driven directly (same tokens), for valid timing, metas,
// messages and tags with every documented field; a flushing seek mid-stream; two elements sharing
// one model concurrently; and the element unchanged in front of srtenc, webvttenc and textoverlay.
// Standard headers first: gstcheck.h defines a `fail` macro that breaks <ios>.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include <gst/app/gstappsink.h>
#include <gst/check/gstcheck.h>

#include <glib/gstdio.h>

#include "npw_gst_test.h"

using npwtest::data_path;
using npwtest::model_path;

static std::string decode_chain(const std::string& clip, const std::string& element_props = "") {
  return "filesrc location=\"" + data_path("audio/" + clip) +
         "\" ! decodebin ! audioconvert ! audioresample ! npuwhisper name=w " + npwtest::kFastProps + " model=\"" + model_path() +
         "\" " + element_props;
}

static const char* kSegmentFields[] = {"start", "end", "tokens", "token-probs", "avg-logprob", "no-speech-prob",
                                       "compression-ratio", "temperature", "language"};
static const char* kMessageExtraFields[] = {"text", "timestamp", "duration", "stream-time", "running-time"};
static const char* kStatsFields[] = {"audio-seconds", "wall-seconds", "mel-seconds", "encoder-seconds",
                                     "decoder-seconds", "realtime-factor", "windows", "tokens", "segments",
                                     "backend", "model", "language"};

static void check_segment_fields(const GstStructure* s) {
  for (const char* f : kSegmentFields) fail_unless(gst_structure_has_field(s, f), "missing %s in %" GST_PTR_FORMAT, f, s);
  const GValue* tokens = gst_structure_get_value(s, "tokens");
  const GValue* probs = gst_structure_get_value(s, "token-probs");
  fail_unless(GST_VALUE_HOLDS_ARRAY(tokens) && GST_VALUE_HOLDS_ARRAY(probs));
  fail_unless_equals_int(gst_value_array_get_size(tokens), gst_value_array_get_size(probs));
  for (guint i = 0; i < gst_value_array_get_size(probs); ++i) {
    const double p = g_value_get_double(gst_value_array_get_value(probs, i));
    fail_unless(p >= 0.0 && p <= 1.0, "probability %f", p);
  }
  guint64 start, end;
  fail_unless(gst_structure_get_uint64(s, "start", &start) && gst_structure_get_uint64(s, "end", &end));
  fail_unless(start <= end);
}

// Everything the element promises about one run over a clip of `seconds`.
static void check_run(const npwtest::RunResult& r, double seconds) {
  fail_unless(r.error == nullptr);
  fail_unless(r.eos);
  const GstClockTime audio_end = static_cast<GstClockTime>(seconds * GST_SECOND);
  GstClockTime last_end = 0;
  for (const auto& c : r.captions) {
    fail_unless(GST_CLOCK_TIME_IS_VALID(c.pts) && GST_CLOCK_TIME_IS_VALID(c.duration));
    fail_unless(c.pts >= last_end, "captions overlap or go back");
    last_end = c.pts + c.duration;
    fail_unless(last_end <= audio_end, "caption ends at %" GST_TIME_FORMAT " after the audio", GST_TIME_ARGS(last_end));
    fail_unless(!c.text.empty() && g_utf8_validate(c.text.data(), c.text.size(), nullptr));
    fail_unless(c.meta != nullptr, "caption without meta");
    check_segment_fields(c.meta);
    guint64 start, end;
    gst_structure_get_uint64(c.meta, "start", &start);
    gst_structure_get_uint64(c.meta, "end", &end);
    fail_unless_equals_uint64(start, c.pts);
    fail_unless_equals_uint64(end, c.pts + c.duration);
  }
  fail_unless_equals_int(r.segment_messages.size(), r.captions.size());
  for (std::size_t i = 0; i < r.segment_messages.size(); ++i) {
    const GstStructure* m = r.segment_messages[i];
    check_segment_fields(m);
    for (const char* f : kMessageExtraFields) fail_unless(gst_structure_has_field(m, f), "message lacks %s", f);
    fail_unless_equals_string(gst_structure_get_string(m, "text"), r.captions[i].text.c_str());
    fail_unless(npwtest::tokens_of(m) == npwtest::tokens_of(r.captions[i].meta));
  }
  fail_unless(r.stats != nullptr, "no statistics at EOS");
  for (const char* f : kStatsFields) fail_unless(gst_structure_has_field(r.stats, f), "stats lack %s", f);
  for (const char* f : {"windows", "tokens", "segments"})
    fail_unless(gst_structure_has_field_typed(r.stats, f, G_TYPE_INT), "stats field %s is not a gint", f);
  double audio_seconds;
  gst_structure_get_double(r.stats, "audio-seconds", &audio_seconds);
  fail_unless(std::abs(audio_seconds - seconds) < 0.05, "audio-seconds %f", audio_seconds);
  // English-only test model: the language is known, and announced downstream.
  fail_unless(!r.languages.empty() && r.languages.back() == "en");
}

static std::vector<std::vector<int>> caption_tokens(const npwtest::RunResult& r) {
  std::vector<std::vector<int>> out;
  for (const auto& c : r.captions) out.push_back(npwtest::tokens_of(c.meta));
  return out;
}

static void check_clip(const char* clip, double seconds) {
  npwtest::RunResult r;
  npwtest::run_pipeline(decode_chain(clip) + " ! appsink name=sink sync=false", r);
  check_run(r, seconds);
  fail_unless(r.gaps > 0, "no GAP events");
  const auto want = npwtest::reference_tokens(npwtest::read_wav(data_path(std::string("audio/") + clip)));
  fail_unless_equals_int(r.captions.size(), want.size());
  fail_unless(caption_tokens(r) == want, "%s: the element's tokens differ from the runtime's", clip);
}

GST_START_TEST(test_jfk) { check_clip("jfk.wav", 11.0); }
GST_END_TEST;

GST_START_TEST(test_long45) { check_clip("long45.wav", 45.0); }
GST_END_TEST;

GST_START_TEST(test_espeak20) { check_clip("espeak20.wav", 20.0); }
GST_END_TEST;

GST_START_TEST(test_silence_and_noise) {
  check_clip("silence30.wav", 30.0);
  check_clip("noise10.wav", 10.0);
}
GST_END_TEST;

struct SeekState {
  GstClockTime target;
};

static void seek_hook(GstElement* pipeline, void* data) {
  auto* st = static_cast<SeekState*>(data);
  fail_unless(gst_element_seek_simple(pipeline, GST_FORMAT_TIME,
                                      static_cast<GstSeekFlags>(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE), st->target));
}

GST_START_TEST(test_flush_seek) {
  // long45 with 10 s steps, so captions flow before EOS; seek to 30 s after the first one.
  SeekState st{30 * GST_SECOND};
  npwtest::RunResult r;
  npwtest::run_pipeline(decode_chain("long45.wav", "latency=10000") + " ! appsink name=sink sync=false", r, true,
                        seek_hook, &st);
  fail_unless(r.error == nullptr);
  fail_unless(r.eos);
  fail_unless(r.stats != nullptr);
  // Captions after the seek are inside [30 s, 45 s] and ordered; captions before it end before 45 s.
  bool after = false;
  GstClockTime last_end = 0;
  for (const auto& c : r.captions) {
    if (!after && c.pts >= st.target) after = true;
    if (after) {
      fail_unless(c.pts >= st.target && c.pts >= last_end);
      last_end = c.pts + c.duration;
      fail_unless(last_end <= 45 * GST_SECOND);
    }
  }
}
GST_END_TEST;

GST_START_TEST(test_flush_seek_gives_the_runtimes_captions_from_the_target) {
  // Prerolled, the element already holds up to a window of long45 (and may be transcribing it); a
  // flushing seek to 30 s then drops all of it, and what follows is exactly the runtime's
  // transcription of the audio from 30 s on, timed from 30 s.
  GstElement* pipeline = gst_parse_launch((decode_chain("long45.wav") + " ! appsink name=sink sync=false").c_str(), nullptr);
  fail_unless(pipeline != nullptr);
  GstAppSink* sink = GST_APP_SINK(gst_bin_get_by_name(GST_BIN(pipeline), "sink"));
  fail_unless(gst_element_set_state(pipeline, GST_STATE_PAUSED) != GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int(gst_element_get_state(pipeline, nullptr, nullptr, npwtest::wait_time(60)), GST_STATE_CHANGE_SUCCESS);
  const GstClockTime target = 30 * GST_SECOND;
  fail_unless(gst_element_seek_simple(pipeline, GST_FORMAT_TIME,
                                      static_cast<GstSeekFlags>(GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE), target));
  fail_unless(gst_element_set_state(pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  std::vector<std::vector<int>> got;
  GstClockTime last_end = target;
  while (GstSample* sample = gst_app_sink_pull_sample(sink)) {  // nullptr at EOS
    GstBuffer* b = gst_sample_get_buffer(sample);
    fail_unless(GST_BUFFER_PTS(b) >= last_end, "caption at %" GST_TIME_FORMAT " before the seek target or overlapping",
                GST_TIME_ARGS(GST_BUFFER_PTS(b)));
    last_end = GST_BUFFER_PTS(b) + GST_BUFFER_DURATION(b);
    fail_unless(last_end <= 45 * GST_SECOND);
    got.push_back(npwtest::tokens_of(gst_custom_meta_get_structure(gst_buffer_get_custom_meta(b, "NpuWhisperSegmentMeta"))));
    gst_sample_unref(sample);
  }
  fail_unless(gst_app_sink_is_eos(sink));
  const std::vector<float> x = npwtest::read_wav(data_path("audio/long45.wav"));
  const auto want = npwtest::reference_tokens(std::vector<float>(x.begin() + 30 * 16000, x.end()));
  fail_unless(!want.empty());
  fail_unless_equals_int(got.size(), want.size());
  fail_unless(got == want, "captions after the seek differ from the runtime's for the audio from 30 s");
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(sink);
  gst_object_unref(pipeline);
}
GST_END_TEST;

// Number of mappings of `path` at file offset 0 in this process.
static int mappings_of(const std::string& path) {
  std::ifstream maps("/proc/self/maps");
  std::string line;
  int n = 0;
  gchar* real = realpath(path.c_str(), nullptr);
  while (std::getline(maps, line)) {
    char perms[8], offset[32], dev[16];
    unsigned long inode;
    int pos = 0;
    unsigned long a, b;
    if (std::sscanf(line.c_str(), "%lx-%lx %7s %31s %15s %lu %n", &a, &b, perms, offset, dev, &inode, &pos) < 6) continue;
    if (pos > 0 && line.substr(pos) == real && std::strtoul(offset, nullptr, 16) == 0) ++n;
  }
  free(real);
  return n;
}

GST_START_TEST(test_two_elements_share_model) {
  const std::string desc = decode_chain("jfk.wav") + " ! appsink name=sink sync=false";
  // Both streams at once in one process; then both together in one pipeline.
  npwtest::RunResult a, b;
  std::thread ta([&] { npwtest::run_pipeline(desc, a); });
  std::thread tb([&] { npwtest::run_pipeline(desc, b); });
  ta.join();
  tb.join();
  check_run(a, 11.0);
  check_run(b, 11.0);
  fail_unless(caption_tokens(a) == caption_tokens(b), "concurrent streams disagree");

  GstElement* pipeline = gst_parse_launch(
      ("audiotestsrc ! audio/x-raw,rate=16000,channels=1 ! npuwhisper beam-size=0 temperature-fallback=0 model=\"" + model_path() +
       "\" ! fakesink audiotestsrc ! audio/x-raw,rate=16000,channels=1 ! npuwhisper beam-size=0 temperature-fallback=0 model=\"" + model_path() +
       "\" ! fakesink")
          .c_str(),
      nullptr);
  gst_element_set_state(pipeline, GST_STATE_PAUSED);
  fail_unless(gst_element_get_state(pipeline, nullptr, nullptr, npwtest::wait_time(60)) != GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int(mappings_of(model_path()), 1);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  // Reference counted: the last user gone, the mapping is released.
  fail_unless_equals_int(mappings_of(model_path()), 0);
}
GST_END_TEST;

static std::string slurp(const std::string& path) {
  gchar* content = nullptr;
  gsize len = 0;
  if (!g_file_get_contents(path.c_str(), &content, &len, nullptr)) return "";
  std::string s(content, len);
  g_free(content);
  return s;
}

static int count(const std::string& haystack, const std::string& needle) {
  int n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos; pos = haystack.find(needle, pos + 1)) ++n;
  return n;
}

GST_START_TEST(test_subtitle_encoders) {
  gchar* dir = g_dir_make_tmp("npwgst-XXXXXX", nullptr);
  for (auto [enc, ext] : {std::pair<const char*, const char*>{"srtenc", "srt"}, {"webvttenc", "vtt"}}) {
    GstElementFactory* f = gst_element_factory_find(enc);
    fail_unless(f != nullptr, "%s is missing (Debian: gstreamer1.0-plugins-bad)", enc);
    gst_object_unref(f);
    const std::string out = std::string(dir) + "/out." + ext;
    npwtest::RunResult r;
    npwtest::run_pipeline(decode_chain("long45.wav") + " ! " + enc + " ! filesink location=\"" + out + "\"", r, false);
    fail_unless(r.error == nullptr && r.eos, "%s pipeline did not reach EOS", enc);
    const std::string text = slurp(out);
    // One cue per caption, each with a time range.
    fail_unless_equals_int(count(text, " --> "), r.segment_messages.size());
    if (std::string(ext) == "vtt") fail_unless(g_str_has_prefix(text.c_str(), "WEBVTT"));
    g_unlink(out.c_str());
  }
  g_rmdir(dir);
  g_free(dir);
}
GST_END_TEST;

GST_START_TEST(test_textoverlay) {
  // Video shorter than the speech at 5 fps; the overlay waits on the caption stream and must be fed
  // (captions and GAPs) to reach EOS.
  npwtest::RunResult r;
  npwtest::run_pipeline(decode_chain("jfk.wav") +
                            " ! txt.text_sink videotestsrc num-buffers=50 ! video/x-raw,width=320,height=240,framerate=5/1"
                            " ! textoverlay name=txt ! fakesink",
                        r, false);
  fail_unless(r.error == nullptr && r.eos, "textoverlay pipeline did not reach EOS");
}
GST_END_TEST;

static Suite* npuwhisper_pipelines_suite() {
  Suite* s = suite_create("npuwhisper-pipelines");
  TCase* tc = tcase_create("pipelines");
  tcase_set_timeout(tc, 600);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_jfk);
  tcase_add_test(tc, test_long45);
  tcase_add_test(tc, test_espeak20);
  tcase_add_test(tc, test_silence_and_noise);
  tcase_add_test(tc, test_flush_seek);
  tcase_add_test(tc, test_flush_seek_gives_the_runtimes_captions_from_the_target);
  tcase_add_test(tc, test_two_elements_share_model);
  tcase_add_test(tc, test_subtitle_encoders);
  tcase_add_test(tc, test_textoverlay);
  return s;
}

GST_CHECK_MAIN(npuwhisper_pipelines);
