// Element tests of word timestamps: with word-timestamps=true the NpuWhisperSegmentMeta and the
// npuwhisper message carry a "words" array (word, start, end, probability) whose times lie inside
// the caption and in order, and without it neither has the field; output=words gives one text
// buffer per word, ordered, never overlapping, inside the input; caption shaping splits segments
// into cues within the line-width, line-count and duration limits, words flowing across segments
// with both line limits; bad alignment heads and punctuation marks fail the start naming them; the
// hallucination threshold turns word timing on by itself.
#include <string>
#include <vector>

#include <gst/check/gstcheck.h>

#include "npw_gst_test.h"

using npwtest::data_path;
using npwtest::model_path;

static std::string clip_pipeline(const std::string& clip, const std::string& props) {
  return "filesrc location=\"" + data_path("audio/" + clip) +
         "\" ! decodebin ! audioconvert ! audioresample ! npuwhisper " + npwtest::kFastProps + " model=\"" + model_path() +
         "\" " + props + " ! appsink name=sink sync=false";
}

static GstClockTime clip_length(const std::string& clip) {
  return static_cast<GstClockTime>(npwtest::read_wav(data_path("audio/" + clip)).size()) * GST_SECOND / 16000;
}

// The "words" array of a structure: checks each entry's fields and that the times are ordered and
// inside [lo, hi]; returns how many words there were (-1 without the field).
static int check_words_field(const GstStructure* s, GstClockTime lo, GstClockTime hi) {
  const GValue* words = gst_structure_get_value(s, "words");
  if (!words) return -1;
  fail_unless(GST_VALUE_HOLDS_ARRAY(words));
  GstClockTime floor = lo;
  const guint n = gst_value_array_get_size(words);
  for (guint i = 0; i < n; ++i) {
    const GValue* v = gst_value_array_get_value(words, i);
    fail_unless(GST_VALUE_HOLDS_STRUCTURE(v));
    const GstStructure* w = gst_value_get_structure(v);
    guint64 start = 0, end = 0;
    gdouble p = -1;
    fail_unless(gst_structure_get_uint64(w, "start", &start) && gst_structure_get_uint64(w, "end", &end));
    fail_unless(gst_structure_get_double(w, "probability", &p) && p > 0 && p <= 1);
    const gchar* text = gst_structure_get_string(w, "word");
    fail_unless(text != nullptr && *text != '\0');
    fail_unless(start >= floor && start <= end && end <= hi, "word %s %" GST_TIME_FORMAT "-%" GST_TIME_FORMAT, text,
                GST_TIME_ARGS(start), GST_TIME_ARGS(end));
    floor = end;
  }
  return static_cast<int>(n);
}

GST_START_TEST(test_words_field_with_and_without) {
  for (bool on : {false, true}) {
    npwtest::RunResult r;
    npwtest::run_pipeline(clip_pipeline("jfk.wav", on ? "word-timestamps=true" : ""), r);
    fail_unless(r.error == nullptr && r.eos);
    fail_unless(!r.captions.empty());
    int total = 0;
    for (const npwtest::Caption& c : r.captions) {
      fail_unless(c.meta != nullptr);
      const int n = check_words_field(c.meta, c.pts, c.pts + c.duration);
      fail_unless(on ? n >= 0 : n == -1, "words field %s", on ? "missing" : "present without word-timestamps");
      total += n > 0 ? n : 0;
    }
    for (GstStructure* m : r.segment_messages) {
      guint64 ts = 0, dur = 0;
      fail_unless(gst_structure_get_uint64(m, "timestamp", &ts) && gst_structure_get_uint64(m, "duration", &dur));
      const int n = check_words_field(m, ts, ts + dur);
      fail_unless(on ? n >= 0 : n == -1);
    }
    if (on) fail_unless(total > 0, "no words at all");
  }
}
GST_END_TEST;

GST_START_TEST(test_output_words) {
  for (const char* clip : {"jfk.wav", "espeak20.wav"}) {
    npwtest::RunResult r;
    npwtest::run_pipeline(clip_pipeline(clip, "output=words word-timestamps=true"), r);
    fail_unless(r.error == nullptr && r.eos, "%s", clip);
    fail_unless(r.captions.size() > r.segment_messages.size(), "%s: %zu buffers for %zu segments", clip,
                r.captions.size(), r.segment_messages.size());
    const GstClockTime length = clip_length(clip);
    GstClockTime floor = 0;
    for (const npwtest::Caption& c : r.captions) {
      fail_unless(!c.text.empty() && c.text.find(' ') == std::string::npos, "%s: buffer \"%s\" is not one word", clip,
                  c.text.c_str());
      fail_unless(GST_CLOCK_TIME_IS_VALID(c.pts) && GST_CLOCK_TIME_IS_VALID(c.duration));
      fail_unless(c.pts >= floor, "%s: word \"%s\" at %" GST_TIME_FORMAT " before the previous end %" GST_TIME_FORMAT,
                  clip, c.text.c_str(), GST_TIME_ARGS(c.pts), GST_TIME_ARGS(floor));
      fail_unless(c.pts + c.duration <= length, "%s: word past the input", clip);
      fail_unless_equals_int(check_words_field(c.meta, c.pts, c.pts + c.duration), 1);
      floor = c.pts + c.duration;
    }
  }
}
GST_END_TEST;

GST_START_TEST(test_caption_shaping) {
  npwtest::RunResult plain, shaped;
  npwtest::run_pipeline(clip_pipeline("jfk.wav", ""), plain);
  npwtest::run_pipeline(clip_pipeline("jfk.wav", "max-line-width=16 max-line-count=2 max-cue-duration=2.0"), shaped);
  fail_unless(plain.error == nullptr && shaped.error == nullptr && shaped.eos);
  fail_unless(shaped.captions.size() > plain.captions.size(), "%zu cues for %zu segments", shaped.captions.size(),
              plain.captions.size());
  GstClockTime floor = 0;
  for (const npwtest::Caption& c : shaped.captions) {
    fail_unless(c.duration > 0 && c.duration <= 2 * GST_SECOND, "cue \"%s\" lasts %" GST_TIME_FORMAT, c.text.c_str(),
                GST_TIME_ARGS(c.duration));
    fail_unless(c.pts >= floor);
    floor = c.pts + c.duration;
    int lines = 1;
    std::size_t line_start = 0;
    for (std::size_t i = 0; i <= c.text.size(); ++i) {
      if (i == c.text.size() || c.text[i] == '\n') {
        const std::string line = c.text.substr(line_start, i - line_start);
        // a single word wider than the limit stands alone on its line (OpenAI's writer does the same)
        fail_unless(line.size() <= 16 || line.find(' ') == std::string::npos, "line \"%s\"", line.c_str());
        if (i < c.text.size()) ++lines;
        line_start = i + 1;
      }
    }
    fail_unless(lines <= 2, "cue \"%s\" has %d lines", c.text.c_str(), lines);
  }
}
GST_END_TEST;

// The word strings of a caption's "words" field.
static std::vector<std::string> word_texts(const GstStructure* s) {
  std::vector<std::string> out;
  const GValue* words = s ? gst_structure_get_value(s, "words") : nullptr;
  fail_unless(words != nullptr, "no words field");
  for (guint i = 0; i < gst_value_array_get_size(words); ++i)
    out.push_back(gst_structure_get_string(gst_value_get_structure(gst_value_array_get_value(words, i)), "word"));
  return out;
}

// With both a line width and a line count, words flow from one segment into the next cue, as in
// OpenAI's writer: the jfk clip's five segments (one window) become fewer cues holding the same
// words in the same order, each cue with a message.
GST_START_TEST(test_cues_span_segments) {
  npwtest::RunResult plain, shaped;
  npwtest::run_pipeline(clip_pipeline("jfk.wav", "word-timestamps=true"), plain);
  npwtest::run_pipeline(clip_pipeline("jfk.wav", "word-timestamps=true max-line-width=1000 max-line-count=100"), shaped);
  fail_unless(plain.error == nullptr && shaped.error == nullptr && shaped.eos);
  fail_unless(plain.captions.size() >= 2, "the clip gave %zu segment(s); the test needs several", plain.captions.size());
  fail_unless(shaped.captions.size() < plain.captions.size(), "%zu cues for %zu segments", shaped.captions.size(),
              plain.captions.size());
  std::vector<std::string> a, b;
  for (const npwtest::Caption& c : plain.captions)
    for (const std::string& w : word_texts(c.meta)) a.push_back(w);
  for (const npwtest::Caption& c : shaped.captions)
    for (const std::string& w : word_texts(c.meta)) b.push_back(w);
  fail_unless(a == b, "%zu words in segments, %zu in cues", a.size(), b.size());
  fail_unless_equals_int(static_cast<int>(shaped.segment_messages.size()), static_cast<int>(shaped.captions.size()));
}
GST_END_TEST;

GST_START_TEST(test_bad_alignment_heads) {
  npwtest::RunResult r;
  npwtest::run_pipeline(clip_pipeline("jfk.wav", "word-timestamps=true alignment-heads=9:9"), r);
  fail_unless(r.error != nullptr);
  GError* err = nullptr;
  gchar* debug = nullptr;
  gst_message_parse_error(r.error, &err, &debug);
  const std::string text = std::string(err->message) + " " + (debug ? debug : "");
  fail_unless(text.find("alignment heads '9:9'") != std::string::npos, "%s", text.c_str());
  g_error_free(err);
  g_free(debug);
}
GST_END_TEST;

// The error a lone element posts when it is started with `setter`'s settings, or "" when it starts.
static std::string start_error(void (*setter)(GstElement*)) {
  GstElement* e = gst_element_factory_make("npuwhisper", nullptr);
  g_object_set(e, "model", model_path().c_str(), nullptr);
  setter(e);
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(e, bus);
  const GstStateChangeReturn ret = gst_element_set_state(e, GST_STATE_PAUSED);
  std::string text;
  if (GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)) {
    GError* err = nullptr;
    gst_message_parse_error(m, &err, nullptr);
    text = err->message;
    g_error_free(err);
    gst_message_unref(m);
  }
  fail_unless(text.empty() == (ret != GST_STATE_CHANGE_FAILURE), "state change %d with error \"%s\"", ret, text.c_str());
  gst_element_set_state(e, GST_STATE_NULL);
  gst_element_set_bus(e, nullptr);
  gst_object_unref(bus);
  gst_object_unref(e);
  return text;
}

GST_START_TEST(test_punctuation_and_hallucination_properties) {
  GstElement* e = gst_element_factory_make("npuwhisper", nullptr);
  gchar *prepend = nullptr, *append = nullptr;
  gdouble threshold = -1;
  g_object_get(e, "prepend-punctuations", &prepend, "append-punctuations", &append, "hallucination-silence-threshold",
               &threshold, nullptr);
  // OpenAI's defaults; the threshold is off
  fail_unless_equals_string(prepend, "\"'\u201c\u00bf([{-");
  fail_unless_equals_string(append, "\"'.\u3002,\uff0c!\uff01?\uff1f:\uff1a\u201d)]}\u3001");
  fail_unless_equals_float(threshold, 0.0);
  g_free(prepend);
  g_free(append);
  // empty: no marks merged; unset (NULL): the default again
  g_object_set(e, "prepend-punctuations", "", nullptr);
  g_object_get(e, "prepend-punctuations", &prepend, nullptr);
  fail_unless_equals_string(prepend, "");
  g_free(prepend);
  g_object_set(e, "prepend-punctuations", nullptr, nullptr);
  g_object_get(e, "prepend-punctuations", &prepend, nullptr);
  fail_unless_equals_string(prepend, "\"'\u201c\u00bf([{-");
  g_free(prepend);
  gst_object_unref(e);

  // Refused values fail the start naming the property.
  std::string err = start_error([](GstElement* el) { g_object_set(el, "append-punctuations", ".\xff,", nullptr); });
  fail_unless(err.find("append-punctuations") != std::string::npos && err.find("UTF-8") != std::string::npos, "%s",
              err.c_str());
  err = start_error([](GstElement* el) { g_object_set(el, "prepend-punctuations", "\xc3(", nullptr); });
  fail_unless(err.find("prepend-punctuations") != std::string::npos, "%s", err.c_str());
  // A refused value replaced by a valid one starts.
  err = start_error([](GstElement* el) {
    g_object_set(el, "append-punctuations", "\xff", nullptr);
    g_object_set(el, "append-punctuations", ".,", nullptr);
  });
  fail_unless(err.empty(), "%s", err.c_str());

  // The threshold turns word timing on by itself (it judges words): a clip runs to the end, its
  // captions in order and inside the audio; the marks set are taken.
  npwtest::RunResult r;
  npwtest::run_pipeline(clip_pipeline("jfk.wav", "hallucination-silence-threshold=0.5 prepend-punctuations=\"\" "
                                                 "append-punctuations=\".,\" word-timestamps=true"),
                        r);
  fail_unless(r.error == nullptr && r.eos);
  GstClockTime floor = 0;
  for (const npwtest::Caption& c : r.captions) {
    fail_unless(c.pts >= floor && c.pts + c.duration <= clip_length("jfk.wav") + GST_MSECOND);
    floor = c.pts + c.duration;
    fail_unless(check_words_field(c.meta, c.pts, c.pts + c.duration) >= 0);
  }
  npwtest::RunResult alone;
  npwtest::run_pipeline(clip_pipeline("jfk.wav", "hallucination-silence-threshold=2"), alone);
  fail_unless(alone.error == nullptr && alone.eos);
  for (const npwtest::Caption& c : alone.captions) fail_unless(check_words_field(c.meta, 0, GST_CLOCK_TIME_NONE) == -1);
}
GST_END_TEST;

static Suite* npuwhisper_words_suite() {
  Suite* s = suite_create("npuwhisper-words");
  TCase* tc = tcase_create("words");
  tcase_set_timeout(tc, 600);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_words_field_with_and_without);
  tcase_add_test(tc, test_output_words);
  tcase_add_test(tc, test_caption_shaping);
  tcase_add_test(tc, test_cues_span_segments);
  tcase_add_test(tc, test_bad_alignment_heads);
  tcase_add_test(tc, test_punctuation_and_hallucination_properties);
  return s;
}

GST_CHECK_MAIN(npuwhisper_words);
