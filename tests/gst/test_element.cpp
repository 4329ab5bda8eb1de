// Element tests through GstHarness: caps, properties, the latency query, model and backend errors,
// odd audio (NaN/Inf/denormals, silence, tiny streams, empty and untimed buffers), caps changes and
// discontinuities mid-stream, state cycles, and the memory a stopped element gives back. The test model has random weights, so the checks
// are on structure and on agreement with the runtime, never on words.
// Standard headers first: gstcheck.h defines a `fail` macro that breaks <ios>.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include <gst/audio/audio.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include <glib/gstdio.h>
#include <malloc.h>
#include <unistd.h>

#include "npw_gst_test.h"

using npwtest::model_path;
using npwtest::wait_time;

static const char* kCapsF32 = "audio/x-raw,format=F32LE,rate=16000,channels=1,layout=interleaved";
static const char* kCapsS16 = "audio/x-raw,format=S16LE,rate=16000,channels=1,layout=interleaved";

static GstHarness* new_harness() {
  GstElement* e = gst_element_factory_make("npuwhisper", nullptr);
  fail_unless(e != nullptr);
  g_object_set(e, "model", model_path().c_str(), "beam-size", 0, "temperature-fallback", 0.0f, nullptr);
  // GstHarness answers the LATENCY query as a live source; these tests are about file mode.
  gst_util_set_object_arg(G_OBJECT(e), "mode", "file");
  GstHarness* h = gst_harness_new_with_element(e, "sink", "src");
  gst_object_unref(e);
  return h;
}

static GstBuffer* f32_buffer(const float* x, std::size_t n, GstClockTime pts) {
  GstBuffer* b = gst_buffer_new_memdup(x, n * sizeof(float));
  GST_BUFFER_PTS(b) = pts;
  GST_BUFFER_DURATION(b) = gst_util_uint64_scale_int(n, GST_SECOND, 16000);
  return b;
}

static GstBuffer* s16_buffer(const float* x, std::size_t n, GstClockTime pts) {
  std::vector<int16_t> s(n);
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<int16_t>(std::lrint(x[i] * 32768.0f));
  GstBuffer* b = gst_buffer_new_memdup(s.data(), n * sizeof(int16_t));
  GST_BUFFER_PTS(b) = pts;
  GST_BUFFER_DURATION(b) = gst_util_uint64_scale_int(n, GST_SECOND, 16000);
  return b;
}

// Pushes EOS and collects every caption buffer (EOS returns only after the element drained).
static std::vector<GstBuffer*> finish(GstHarness* h) {
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  std::vector<GstBuffer*> out;
  while (GstBuffer* b = gst_harness_try_pull(h)) out.push_back(b);
  return out;
}

static void check_captions(const std::vector<GstBuffer*>& bufs, GstClockTime lo, GstClockTime hi) {
  GstClockTime last_end = lo;
  for (GstBuffer* b : bufs) {
    fail_unless(GST_BUFFER_PTS_IS_VALID(b));
    fail_unless(GST_BUFFER_DURATION_IS_VALID(b));
    fail_unless(GST_BUFFER_PTS(b) >= last_end, "overlap or out of order");
    last_end = GST_BUFFER_PTS(b) + GST_BUFFER_DURATION(b);
    fail_unless(last_end <= hi, "caption ends after the audio");
    GstMapInfo map;
    fail_unless(gst_buffer_map(b, &map, GST_MAP_READ));
    fail_unless(map.size > 0);
    fail_unless(g_utf8_validate(reinterpret_cast<const gchar*>(map.data), map.size, nullptr));
    gst_buffer_unmap(b, &map);
    fail_unless(gst_buffer_get_custom_meta(b, "NpuWhisperSegmentMeta") != nullptr);
  }
}

static void unref_all(std::vector<GstBuffer*>& bufs) {
  for (GstBuffer* b : bufs) gst_buffer_unref(b);
  bufs.clear();
}

static std::vector<std::vector<int>> tokens_of(const std::vector<GstBuffer*>& bufs) {
  std::vector<std::vector<int>> out;
  for (GstBuffer* b : bufs)
    out.push_back(npwtest::tokens_of(gst_custom_meta_get_structure(gst_buffer_get_custom_meta(b, "NpuWhisperSegmentMeta"))));
  return out;
}

GST_START_TEST(test_caps_accept_refuse) {
  GstHarness* h = new_harness();
  GstPad* sink = gst_element_get_static_pad(h->element, "sink");
  const char* good[] = {kCapsF32, kCapsS16};
  const char* bad[] = {
      "audio/x-raw,format=F32LE,rate=44100,channels=1,layout=interleaved",
      "audio/x-raw,format=F32LE,rate=16000,channels=2,layout=interleaved",
      "audio/x-raw,format=S32LE,rate=16000,channels=1,layout=interleaved",
      "audio/x-raw,format=F32LE,rate=16000,channels=1,layout=non-interleaved",
      "audio/x-raw,format=F32BE,rate=16000,channels=1,layout=interleaved",
      "video/x-raw,format=I420,width=16,height=16,framerate=1/1",
  };
  for (const char* c : good) {
    GstCaps* caps = gst_caps_from_string(c);
    fail_unless(gst_pad_query_accept_caps(sink, caps), "refused %s", c);
    gst_caps_unref(caps);
  }
  for (const char* c : bad) {
    GstCaps* caps = gst_caps_from_string(c);
    fail_if(gst_pad_query_accept_caps(sink, caps), "accepted %s", c);
    gst_caps_unref(caps);
  }
  // Data after refused caps is not negotiated.
  gst_harness_set_src_caps_str(h, bad[0]);
  float x[160] = {0};
  fail_unless_equals_int(gst_harness_push(h, f32_buffer(x, 160, 0)), GST_FLOW_NOT_NEGOTIATED);
  gst_object_unref(sink);
  gst_harness_teardown(h);

  h = new_harness();
  gst_harness_set_src_caps_str(h, kCapsS16);
  fail_unless_equals_int(gst_harness_push(h, s16_buffer(x, 160, 0)), GST_FLOW_OK);
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));  // returns once the worker has drained
  GstCaps* out = gst_pad_get_current_caps(h->sinkpad);
  fail_unless(out != nullptr);
  GstCaps* want = gst_caps_from_string("text/x-raw,format=utf8");
  fail_unless(gst_caps_is_equal(out, want));
  gst_caps_unref(want);
  gst_caps_unref(out);
  gst_harness_teardown(h);
}
GST_END_TEST;

GST_START_TEST(test_property_defaults_and_validation) {
  GstElement* e = gst_element_factory_make("npuwhisper", nullptr);
  fail_unless(e != nullptr);
  gchar *model = nullptr, *lang = nullptr, *prompt = nullptr;
  gboolean translate, condition;
  gint backend, threads, beam, best_of;
  gfloat fallback, no_speech, logprob, compression;
  guint latency;
  g_object_get(e, "model", &model, "language-code", &lang, "translate", &translate, "backend", &backend, "n-threads",
               &threads, "beam-size", &beam, "best-of", &best_of, "temperature-fallback", &fallback,
               "no-speech-threshold", &no_speech, "logprob-threshold", &logprob, "compression-ratio-threshold",
               &compression, "condition-on-previous-text", &condition, "initial-prompt", &prompt, "latency", &latency,
               nullptr);
  fail_unless(model == nullptr);
  fail_unless_equals_string(lang, "auto");
  fail_unless(!translate && condition);
  fail_unless_equals_int(backend, 0);
  fail_unless_equals_int(threads, 0);
  fail_unless_equals_int(beam, 5);
  fail_unless_equals_int(best_of, 5);
  fail_unless_equals_float(fallback, 0.2f);
  fail_unless_equals_float(no_speech, 0.6f);
  fail_unless_equals_float(logprob, -1.0f);
  fail_unless_equals_float(compression, 2.4f);
  fail_unless(prompt == nullptr);
  fail_unless_equals_int(latency, 0);  // automatic: a window in file mode, 1 s steps in live mode
  g_free(model);
  g_free(lang);
  // OpenAI's --temperature 0, --patience None (1) and --length_penalty None (below 0 here).
  gfloat temperature;
  gdouble patience, length_penalty;
  g_object_get(e, "temperature", &temperature, "patience", &patience, "length-penalty", &length_penalty, nullptr);
  fail_unless_equals_float(temperature, 0.0f);
  fail_unless_equals_float(patience, 1.0);
  fail_unless(length_penalty < 0.0);
  g_object_set(e, "patience", 2.5, "length-penalty", 0.0, nullptr);
  g_object_get(e, "patience", &patience, "length-penalty", &length_penalty, nullptr);
  fail_unless_equals_float(patience, 2.5);
  fail_unless_equals_float(length_penalty, 0.0);

  // Region forms are accepted as written; unknown languages are refused and the value kept.
  g_object_set(e, "language-code", "en-US", nullptr);
  g_object_get(e, "language-code", &lang, nullptr);
  fail_unless_equals_string(lang, "en-US");
  g_free(lang);
  g_object_set(e, "language-code", "xx-YY", nullptr);
  g_object_get(e, "language-code", &lang, nullptr);
  fail_unless_equals_string(lang, "en-US");
  g_free(lang);

  // suppress-tokens: OpenAI's "-1" by default, a malformed list refused and the value kept, empty is
  // none, unset is the default again.
  auto suppress = [e] {
    gchar* v = nullptr;
    g_object_get(e, "suppress-tokens", &v, nullptr);
    const std::string out = v ? v : "(null)";
    g_free(v);
    return out;
  };
  fail_unless_equals_string(suppress().c_str(), "-1");
  g_object_set(e, "suppress-tokens", " 50257, -1 ", nullptr);
  g_object_set(e, "suppress-tokens", "1,,2", nullptr);
  fail_unless_equals_string(suppress().c_str(), " 50257, -1 ");
  g_object_set(e, "suppress-tokens", "", nullptr);
  fail_unless_equals_string(suppress().c_str(), "");
  g_object_set(e, "suppress-tokens", nullptr, nullptr);
  fail_unless_equals_string(suppress().c_str(), "-1");
  gst_object_unref(e);
}
GST_END_TEST;

// fakesrc ! npuwhisper model=<test model> ! fakesink, not started; *whisper is the element.
static GstElement* fakesrc_pipeline(GstElement** whisper) {
  GstElement* pipeline = gst_pipeline_new(nullptr);
  GstElement* src = gst_element_factory_make("fakesrc", nullptr);
  GstElement* w = gst_element_factory_make("npuwhisper", nullptr);
  GstElement* sink = gst_element_factory_make("fakesink", nullptr);
  gst_bin_add_many(GST_BIN(pipeline), src, w, sink, nullptr);
  fail_unless(gst_element_link_many(src, w, sink, nullptr));
  g_object_set(w, "model", model_path().c_str(), nullptr);
  *whisper = w;
  return pipeline;
}

// An id the property's syntax allows but the model's vocabulary lacks stops the element at start,
// with an error naming the setting and the id.
// The error of a start (READY -> PAUSED) that must fail: its message and debug text.
static std::string failed_start_error(GstElement* pipeline, GstElement* w) {
  fail_if(gst_element_set_state(pipeline, GST_STATE_READY) == GST_STATE_CHANGE_FAILURE);
  fail_unless_equals_int(gst_element_set_state(w, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  GstBus* bus = gst_element_get_bus(pipeline);
  GstMessage* err = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  fail_unless(err != nullptr, "the start failed without an error message");
  GError* e = nullptr;
  gchar* dbg = nullptr;
  gst_message_parse_error(err, &e, &dbg);
  const std::string text = std::string(e->message) + " " + (dbg ? dbg : "");
  g_error_free(e);
  g_free(dbg);
  gst_message_unref(err);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  return text;
}

GST_START_TEST(test_suppress_tokens_outside_the_vocabulary) {
  GstElement* w = nullptr;
  GstElement* pipeline = fakesrc_pipeline(&w);
  g_object_set(w, "suppress-tokens", "13,99999", nullptr);
  const std::string text = failed_start_error(pipeline, w);
  fail_unless(text.find("suppress_tokens") != std::string::npos && text.find("99999") != std::string::npos, "%s",
              text.c_str());
  gst_object_unref(pipeline);
}
GST_END_TEST;

// Too little patience for the beams (beam-size x patience rounding to no finished candidate) stops
// the element at start with an error naming the setting: the property reaches the beam search.
GST_START_TEST(test_patience_too_small_for_the_beams) {
  GstElement* w = nullptr;
  GstElement* pipeline = fakesrc_pipeline(&w);
  g_object_set(w, "beam-size", 1, "patience", 0.4, nullptr);
  const std::string text = failed_start_error(pipeline, w);
  fail_unless(text.find("patience") != std::string::npos, "%s", text.c_str());
  gst_object_unref(pipeline);
}
GST_END_TEST;

// Every value a property's spec admits (its minimum and maximum, as gst-inspect shows them) is one
// the runtime accepts: the element starts with it instead of failing at READY->PAUSED.
GST_START_TEST(test_property_ranges_are_accepted) {
  GstElement* probe = gst_element_factory_make("npuwhisper", nullptr);
  guint n = 0;
  GParamSpec** specs = g_object_class_list_properties(G_OBJECT_GET_CLASS(probe), &n);
  int checked = 0;
  for (guint i = 0; i < n; ++i) {
    GParamSpec* p = specs[i];
    if (p->owner_type != G_OBJECT_TYPE(probe) || !(p->flags & G_PARAM_WRITABLE)) continue;
    for (int end = 0; end < 2; ++end) {
      GValue v = G_VALUE_INIT;
      g_value_init(&v, p->value_type);
      if (G_IS_PARAM_SPEC_INT(p)) g_value_set_int(&v, end ? G_PARAM_SPEC_INT(p)->maximum : G_PARAM_SPEC_INT(p)->minimum);
      else if (G_IS_PARAM_SPEC_UINT(p)) g_value_set_uint(&v, end ? G_PARAM_SPEC_UINT(p)->maximum : G_PARAM_SPEC_UINT(p)->minimum);
      else if (G_IS_PARAM_SPEC_FLOAT(p)) g_value_set_float(&v, end ? G_PARAM_SPEC_FLOAT(p)->maximum : G_PARAM_SPEC_FLOAT(p)->minimum);
      else if (G_IS_PARAM_SPEC_DOUBLE(p)) g_value_set_double(&v, end ? G_PARAM_SPEC_DOUBLE(p)->maximum : G_PARAM_SPEC_DOUBLE(p)->minimum);
      else {
        g_value_unset(&v);
        break;
      }
      GstElement* w = nullptr;
      GstElement* pipeline = fakesrc_pipeline(&w);
      g_object_set_property(G_OBJECT(w), p->name, &v);
      gchar* shown = g_strdup_value_contents(&v);
      fail_if(gst_element_set_state(pipeline, GST_STATE_READY) == GST_STATE_CHANGE_FAILURE);
      // READY->PAUSED is where the settings become npw::Options and are validated.
      const GstStateChangeReturn ret = gst_element_set_state(w, GST_STATE_PAUSED);
      GstBus* bus = gst_element_get_bus(pipeline);
      GstMessage* err = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
      gchar* dbg = nullptr;
      GError* e = nullptr;
      if (err) gst_message_parse_error(err, &e, &dbg);
      fail_if(ret == GST_STATE_CHANGE_FAILURE, "%s=%s is in the property's range but refused: %s", p->name, shown,
              e ? e->message : "");
      if (e) g_error_free(e);
      g_free(dbg);
      if (err) gst_message_unref(err);
      g_free(shown);
      gst_object_unref(bus);
      gst_element_set_state(pipeline, GST_STATE_NULL);
      gst_object_unref(pipeline);
      g_value_unset(&v);
      ++checked;
    }
  }
  // n-threads, beam-size, best-of, four thresholds, latency, temperature, patience, length-penalty;
  // words: max-line-width, max-line-count, max-words-per-line, max-cue-duration,
  // hallucination-silence-threshold; live: vad-aggressiveness, vad-start, vad-end, vad-padding,
  // lateness, live-buffer
  fail_unless_equals_int(checked, 2 * 22);
  g_free(specs);
  gst_object_unref(probe);
}
GST_END_TEST;

GST_START_TEST(test_fixed_properties_refused_while_running) {
  GstElement* pipeline = gst_parse_launch(
      ("audiotestsrc is-live=true ! audio/x-raw,rate=16000,channels=1,format=F32LE ! npuwhisper name=w beam-size=0 temperature-fallback=0 model=\"" +
       model_path() + "\" ! fakesink")
          .c_str(),
      nullptr);
  GstElement* w = gst_bin_get_by_name(GST_BIN(pipeline), "w");
  fail_unless(gst_element_set_state(pipeline, GST_STATE_PLAYING) != GST_STATE_CHANGE_FAILURE);
  fail_unless(gst_element_get_state(pipeline, nullptr, nullptr, GST_CLOCK_TIME_NONE) == GST_STATE_CHANGE_SUCCESS);
  g_object_set(w, "beam-size", 2, "model", "/nonexistent.bin", nullptr);
  gint beam;
  gchar* model;
  g_object_get(w, "beam-size", &beam, "model", &model, nullptr);
  fail_unless_equals_int(beam, 0);
  const std::string want_model = model_path();
  fail_unless_equals_string(model, want_model.c_str());
  g_free(model);
  GstBus* bus = gst_element_get_bus(pipeline);
  GstMessage* m = gst_bus_timed_pop_filtered(bus, wait_time(5), GST_MESSAGE_WARNING);
  fail_unless(m != nullptr, "no warning for a refused property");
  gst_message_unref(m);
  // latency may change while playing
  g_object_set(w, "latency", 5000u, nullptr);
  guint latency;
  g_object_get(w, "latency", &latency, nullptr);
  fail_unless_equals_int(latency, 5000);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  gst_object_unref(w);
  gst_object_unref(pipeline);
}
GST_END_TEST;

// The streaming thread never waits for inference or for downstream: with the worker held inside a
// downstream push (a probe that blocks it on its first caption or GAP), upstream can still push ten
// more seconds of audio and every push returns at once with OK. Deterministic: the worker is known
// to be blocked for the whole check, whatever the machine's speed.
struct HeldDownstream {
  GMutex lock;
  GCond cond;
  bool reached = false;
  bool released = false;
};

static GstPadProbeReturn hold_first_output(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* held = static_cast<HeldDownstream*>(data);
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) != GST_EVENT_GAP) return GST_PAD_PROBE_OK;
  }
  g_mutex_lock(&held->lock);
  held->reached = true;
  g_cond_broadcast(&held->cond);
  while (!held->released) g_cond_wait(&held->cond, &held->lock);
  g_mutex_unlock(&held->lock);
  return GST_PAD_PROBE_OK;
}

GST_START_TEST(test_streaming_thread_never_waits_for_the_worker) {
  GstHarness* h = new_harness();
  gst_harness_set_src_caps_str(h, kCapsF32);
  HeldDownstream held;
  g_mutex_init(&held.lock);
  g_cond_init(&held.cond);
  GstPad* src = gst_element_get_static_pad(h->element, "src");
  const gulong probe = gst_pad_add_probe(src, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                                         hold_first_output, &held, nullptr);

  // One whole window: the worker transcribes it and then blocks on its first output.
  std::vector<float> x(30 * 16000);
  uint32_t state = 99u;
  for (float& v : x) {
    state = state * 1664525u + 1013904223u;
    v = (static_cast<float>(state >> 8) / 16777216.0f - 0.5f) * 0.2f;
  }
  fail_unless_equals_int(gst_harness_push(h, f32_buffer(x.data(), x.size(), 0)), GST_FLOW_OK);
  g_mutex_lock(&held.lock);
  const gint64 deadline = g_get_monotonic_time() + static_cast<gint64>(wait_time(120) / GST_USECOND);
  while (!held.reached) fail_unless(g_cond_wait_until(&held.cond, &held.lock, deadline), "the worker never produced output");
  g_mutex_unlock(&held.lock);

  for (int s = 0; s < 10; ++s) {
    const GstClockTime pts = (30 + s) * GST_SECOND;
    // Would never return (the test times out) if the push waited for the held worker.
    fail_unless_equals_int(gst_harness_push(h, f32_buffer(x.data() + s * 16000, 16000, pts)), GST_FLOW_OK);
  }

  g_mutex_lock(&held.lock);
  held.released = true;
  g_cond_broadcast(&held.cond);
  g_mutex_unlock(&held.lock);
  gst_pad_remove_probe(src, probe);
  gst_object_unref(src);
  for (GstBuffer* b : finish(h)) gst_buffer_unref(b);
  gst_harness_teardown(h);
  g_cond_clear(&held.cond);
  g_mutex_clear(&held.lock);
}
GST_END_TEST

GST_START_TEST(test_latency_query) {
  GstHarness* h = new_harness();
  gst_harness_set_upstream_latency(h, 20 * GST_MSECOND);
  // Before any data (file mode: see new_harness()).
  fail_unless_equals_uint64(gst_harness_query_latency(h), 20 * GST_MSECOND + 30 * GST_SECOND);
  g_object_set(h->element, "latency", 2000u, nullptr);
  fail_unless_equals_uint64(gst_harness_query_latency(h), 20 * GST_MSECOND + 2 * GST_SECOND);
  gst_harness_teardown(h);

  // In PAUSED behind a live source, before data flows.
  GstElement* pipeline = gst_parse_launch(
      ("audiotestsrc is-live=true ! audio/x-raw,rate=16000,channels=1 ! npuwhisper name=w latency=3000 beam-size=0 temperature-fallback=0 model=\"" +
       model_path() + "\" ! fakesink")
          .c_str(),
      nullptr);
  fail_unless_equals_int(gst_element_set_state(pipeline, GST_STATE_PAUSED), GST_STATE_CHANGE_NO_PREROLL);
  GstElement* w = gst_bin_get_by_name(GST_BIN(pipeline), "w");
  GstPad* src = gst_element_get_static_pad(w, "src");
  GstQuery* q = gst_query_new_latency();
  fail_unless(gst_pad_query(src, q));
  gboolean live;
  GstClockTime min, max;
  gst_query_parse_latency(q, &live, &min, &max);
  // Whether the source already knows it is live depends on how far it got; our part is there.
  fail_unless(min >= 3 * GST_SECOND);
  fail_unless(!GST_CLOCK_TIME_IS_VALID(max) || max >= min);
  gst_query_unref(q);
  gst_object_unref(src);
  gst_object_unref(w);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
}
GST_END_TEST;

// READY->PAUSED must fail with a RESOURCE error naming `name`.
static void expect_model_error(const std::string& model, const std::string& name, const char* extra = "") {
  GstElement* pipeline = gst_parse_launch(
      ("audiotestsrc ! audio/x-raw,rate=16000,channels=1 ! npuwhisper model=\"" + model + "\" " + extra + " ! fakesink")
          .c_str(),
      nullptr);
  fail_unless_equals_int(gst_element_set_state(pipeline, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  GstBus* bus = gst_element_get_bus(pipeline);
  GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  fail_unless(m != nullptr, "no error for %s", model.c_str());
  GError* err = nullptr;
  gchar* dbg = nullptr;
  gst_message_parse_error(m, &err, &dbg);
  fail_unless(err->domain == GST_RESOURCE_ERROR, "%s: domain %s", model.c_str(), g_quark_to_string(err->domain));
  fail_unless(strstr(err->message, name.c_str()) != nullptr, "message does not name the file: %s", err->message);
  g_error_free(err);
  g_free(dbg);
  gst_message_unref(m);
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
}

GST_START_TEST(test_model_errors) {
  expect_model_error("/nonexistent/dir/ggml-missing.bin", "ggml-missing.bin");

  gchar* dir = g_dir_make_tmp("npwgst-XXXXXX", nullptr);
  // A directory cannot be read as a model (root ignores file modes, so this stands for "unreadable").
  expect_model_error(dir, dir);

  const std::string garbage = std::string(dir) + "/garbage.bin";
  fail_unless(g_file_set_contents(garbage.c_str(), "this is not a ggml file at all", -1, nullptr));
  expect_model_error(garbage, "garbage.bin");

  gchar* content = nullptr;
  gsize len = 0;
  fail_unless(g_file_get_contents(model_path().c_str(), &content, &len, nullptr));
  const std::string truncated = std::string(dir) + "/truncated.bin";
  fail_unless(g_file_set_contents(truncated.c_str(), content, len / 2, nullptr));
  expect_model_error(truncated, "truncated.bin");
  g_free(content);

  g_unlink(garbage.c_str());
  g_unlink(truncated.c_str());
  g_rmdir(dir);
  g_free(dir);

  // No model at all.
  GstElement* pipeline = gst_parse_launch("audiotestsrc ! audio/x-raw,rate=16000,channels=1 ! npuwhisper ! fakesink", nullptr);
  fail_unless_equals_int(gst_element_set_state(pipeline, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
}
GST_END_TEST;

static bool have_npu() { return g_file_test("/dev/accel/accel0", G_FILE_TEST_EXISTS); }

GST_START_TEST(test_backends) {
  if (!have_npu()) {
    GstElement* pipeline = gst_parse_launch(
        ("audiotestsrc ! audio/x-raw,rate=16000,channels=1 ! npuwhisper backend=npu model=\"" + model_path() +
         "\" ! fakesink")
            .c_str(),
        nullptr);
    fail_unless_equals_int(gst_element_set_state(pipeline, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
    GstBus* bus = gst_element_get_bus(pipeline);
    GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
    fail_unless(m != nullptr);
    GError* err = nullptr;
    gst_message_parse_error(m, &err, nullptr);
    fail_unless(err->domain == GST_RESOURCE_ERROR);
    fail_unless(strstr(err->message, "NPU") != nullptr || strstr(err->message, "npu") != nullptr, "%s", err->message);
    g_error_free(err);
    gst_message_unref(m);
    gst_object_unref(bus);
    gst_element_set_state(pipeline, GST_STATE_NULL);
    gst_object_unref(pipeline);
  }
  // auto: the stream runs (on the CPU when there is no NPU); no NPU is the normal case, told once as
  // information, never as a warning (bus monitors flag warnings).
  npwtest::RunResult r;
  npwtest::run_pipeline(std::string("audiotestsrc num-buffers=20 samplesperbuffer=1600 ! audio/x-raw,rate=16000,channels=1 ! "
                                    "npuwhisper backend=auto ") +
                            npwtest::kFastProps + " model=\"" + model_path() + "\" ! appsink name=sink sync=false",
                        r);
  fail_unless(r.eos);
  fail_unless(r.stats != nullptr);
  if (!have_npu()) {
    // no warning, exactly one info message, saying that the CPU is used
    fail_unless_equals_int(r.warnings.size(), 0);
    fail_unless_equals_int(r.infos.size(), 1);
    GError* err = nullptr;
    gst_message_parse_info(r.infos[0], &err, nullptr);
    fail_unless(strstr(err->message, "CPU") != nullptr || strstr(err->message, "cpu") != nullptr, "%s", err->message);
    g_error_free(err);
    fail_unless(g_str_has_prefix(gst_structure_get_string(r.stats, "backend"), "cpu"));
  } else {
    fail_unless(r.warnings.size() <= 1);
  }
  // backend=cpu asked for the CPU: nothing to warn about.
  npwtest::RunResult c;
  npwtest::run_pipeline(std::string("audiotestsrc num-buffers=5 samplesperbuffer=1600 ! audio/x-raw,rate=16000,channels=1 ! "
                                    "npuwhisper backend=cpu ") +
                            npwtest::kFastProps + " model=\"" + model_path() + "\" ! appsink name=sink sync=false",
                        c);
  fail_unless(c.eos);
  fail_unless_equals_int(c.warnings.size(), 0);
}
GST_END_TEST;

GST_START_TEST(test_odd_audio) {
  // NaN, Inf, denormals, an empty buffer and buffers without timestamps in one stream.
  GstHarness* h = new_harness();
  gst_harness_set_src_caps_str(h, kCapsF32);
  std::vector<float> x(16000);
  for (std::size_t i = 0; i < x.size(); ++i) {
    switch (i % 4) {
      case 0: x[i] = std::numeric_limits<float>::quiet_NaN(); break;
      case 1: x[i] = std::numeric_limits<float>::infinity(); break;
      case 2: x[i] = std::numeric_limits<float>::denorm_min(); break;
      default: x[i] = -std::numeric_limits<float>::infinity(); break;
    }
  }
  fail_unless_equals_int(gst_harness_push(h, f32_buffer(x.data(), x.size(), 0)), GST_FLOW_OK);
  fail_unless_equals_int(gst_harness_push(h, gst_buffer_new()), GST_FLOW_OK);
  for (int k = 0; k < 3; ++k) {
    GstBuffer* b = f32_buffer(x.data(), x.size(), GST_CLOCK_TIME_NONE);
    GST_BUFFER_DURATION(b) = GST_CLOCK_TIME_NONE;
    fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
  }
  std::vector<GstBuffer*> bufs = finish(h);
  check_captions(bufs, 0, 4 * GST_SECOND);
  unref_all(bufs);
  gst_harness_teardown(h);

  // Silence, and a stream shorter than one hop: no garbage, EOS arrives.
  for (std::size_t n : {std::size_t(48000), std::size_t(100)}) {
    h = new_harness();
    gst_harness_set_src_caps_str(h, kCapsS16);
    std::vector<float> zeros(n, 0.0f);
    fail_unless_equals_int(gst_harness_push(h, s16_buffer(zeros.data(), n, 0)), GST_FLOW_OK);
    bufs = finish(h);
    check_captions(bufs, 0, gst_util_uint64_scale_int(n, GST_SECOND, 16000));
    if (n < 160) fail_unless(bufs.empty());
    unref_all(bufs);
    bool eos = false;
    while (GstEvent* ev = gst_harness_try_pull_event(h)) {
      eos |= GST_EVENT_TYPE(ev) == GST_EVENT_EOS;
      gst_event_unref(ev);
    }
    fail_unless(eos);
    gst_harness_teardown(h);
  }
}
GST_END_TEST;

GST_START_TEST(test_caps_change_mid_stream) {
  // F32LE then S16LE then F32LE: the same captions as the runtime gives for the samples.
  std::vector<float> x = npwtest::read_wav(npwtest::data_path("audio/jfk.wav"));
  const std::size_t third = x.size() / 3;
  GstHarness* h = new_harness();
  gst_harness_set_src_caps_str(h, kCapsF32);
  fail_unless_equals_int(gst_harness_push(h, f32_buffer(x.data(), third, 0)), GST_FLOW_OK);
  gst_harness_set_src_caps_str(h, kCapsS16);
  fail_unless_equals_int(
      gst_harness_push(h, s16_buffer(x.data() + third, third, gst_util_uint64_scale_int(third, GST_SECOND, 16000))),
      GST_FLOW_OK);
  gst_harness_set_src_caps_str(h, kCapsF32);
  fail_unless_equals_int(gst_harness_push(h, f32_buffer(x.data() + 2 * third, x.size() - 2 * third,
                                                        gst_util_uint64_scale_int(2 * third, GST_SECOND, 16000))),
                         GST_FLOW_OK);
  std::vector<GstBuffer*> bufs = finish(h);
  check_captions(bufs, 0, gst_util_uint64_scale_int(x.size(), GST_SECOND, 16000));
  const auto want = npwtest::reference_tokens(x);
  if (g_getenv("NPW_DEBUG_LEAKS")) for (auto* b : bufs) GST_ERROR("%" GST_PTR_FORMAT, b);
  fail_unless_equals_int(bufs.size(), want.size());
  fail_unless(tokens_of(bufs) == want, "captions differ from the runtime's");
  unref_all(bufs);
  gst_harness_teardown(h);
}
GST_END_TEST;

GST_START_TEST(test_discont_restarts_window) {
  std::vector<float> x = npwtest::read_wav(npwtest::data_path("audio/jfk.wav"));
  const std::size_t half = x.size() / 2;
  const GstClockTime jump = 100 * GST_SECOND;
  GstHarness* h = new_harness();
  gst_harness_set_src_caps_str(h, kCapsF32);
  fail_unless_equals_int(gst_harness_push(h, f32_buffer(x.data(), half, 0)), GST_FLOW_OK);
  GstBuffer* b = f32_buffer(x.data() + half, x.size() - half, jump);
  GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DISCONT);
  fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
  std::vector<GstBuffer*> bufs = finish(h);
  const GstClockTime half_t = gst_util_uint64_scale_int(half, GST_SECOND, 16000);
  check_captions(bufs, 0, jump + gst_util_uint64_scale_int(x.size() - half, GST_SECOND, 16000));
  for (GstBuffer* c : bufs) {
    const GstClockTime s = GST_BUFFER_PTS(c), e = s + GST_BUFFER_DURATION(c);
    fail_unless(e <= half_t || s >= jump, "caption across the discontinuity");
  }
  // Each side is its own stream for the runtime.
  auto want = npwtest::reference_tokens(std::vector<float>(x.begin(), x.begin() + half));
  auto second = npwtest::reference_tokens(std::vector<float>(x.begin() + half, x.end()));
  want.insert(want.end(), second.begin(), second.end());
  fail_unless(tokens_of(bufs) == want);
  unref_all(bufs);
  gst_harness_teardown(h);
}
GST_END_TEST;

static GstTracer* leaks_tracer() {
  GList* tracers = gst_tracing_get_active_tracers();
  GstTracer* found = nullptr;
  for (GList* l = tracers; l; l = l->next)
    if (!found && g_strcmp0(G_OBJECT_TYPE_NAME(l->data), "GstLeaksTracer") == 0) found = GST_TRACER(gst_object_ref(l->data));
  g_list_free_full(tracers, gst_object_unref);
  return found;
}

// GstObjects and mini objects created since the last checkpoint and still alive.
static int leaked_since_checkpoint(GstTracer* tracer) {
  GstStructure* cp = nullptr;
  g_signal_emit_by_name(tracer, "activity-get-checkpoint", &cp);
  fail_unless(cp != nullptr);
  auto addresses = [&](const char* field) {
    std::vector<std::string> out;
    const GValue* list = gst_structure_get_value(cp, field);
    for (guint i = 0; list && i < gst_value_list_get_size(list); ++i) {
      const GstStructure* o = gst_value_get_structure(gst_value_list_get_value(list, i));
      out.push_back(std::string(gst_structure_get_string(o, "address")) + " " + gst_structure_get_string(o, "type-name"));
    }
    return out;
  };
  const auto created = addresses("objects-created-list");
  const auto removed = addresses("objects-removed-list");
  // An address can be reused: an object is alive when it was created more often than removed.
  std::vector<std::string> seen;
  int leaked = 0;
  for (const auto& a : created) {
    if (std::count(seen.begin(), seen.end(), a)) continue;
    seen.push_back(a);
    const long alive = std::count(created.begin(), created.end(), a) - std::count(removed.begin(), removed.end(), a);
    if (alive > 0) {
      leaked += static_cast<int>(alive);
      if (g_getenv("NPW_DEBUG_LEAKS")) g_printerr("leaked %s\n", a.c_str());
    }
  }
  gst_structure_free(cp);
  return leaked;
}

GST_START_TEST(test_state_cycles) {
  GstElement* pipeline = gst_parse_launch(
      ("audiotestsrc is-live=true samplesperbuffer=160 ! audio/x-raw,rate=16000,channels=1 ! npuwhisper latency=1000 beam-size=0 temperature-fallback=0 "
       "model=\"" + model_path() + "\" ! fakesink async=false")
          .c_str(),
      nullptr);
  // One warm-up cycle so lazily created singletons do not count as leaks.
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  gst_element_get_state(pipeline, nullptr, nullptr, GST_CLOCK_TIME_NONE);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  GstTracer* tracer = leaks_tracer();
  fail_unless(tracer != nullptr, "the leaks tracer is not active (GST_TRACERS=leaks)");
  g_signal_emit_by_name(tracer, "activity-start-tracking");
  for (int i = 0; i < 200; ++i) {
    fail_if(gst_element_set_state(pipeline, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE);
    fail_if(gst_element_get_state(pipeline, nullptr, nullptr, GST_CLOCK_TIME_NONE) == GST_STATE_CHANGE_FAILURE);
    fail_unless_equals_int(gst_element_set_state(pipeline, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  }
  gst_task_cleanup_all();  // streaming threads drop their last task references when they wind down
  fail_unless_equals_int(leaked_since_checkpoint(tracer), 0);
  g_signal_emit_by_name(tracer, "activity-stop-tracking");
  gst_object_unref(tracer);
  gst_object_unref(pipeline);
}
GST_END_TEST;

// Resident memory of this process in MiB (/proc/self/statm's second field, in pages).
static double resident_mib() {
  long pages = 0, size = 0;
  FILE* f = std::fopen("/proc/self/statm", "r");
  fail_unless(f != nullptr);
  fail_unless(std::fscanf(f, "%ld %ld", &size, &pages) == 2);
  std::fclose(f);
  return static_cast<double>(pages) * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

// A stopped element gives back what it freed: mapped buffers are unmapped with the transcriber, and
// the heap's freed chunks were kept resident by the allocator (16 MiB of this test's stream) until
// the teardown trimmed them. Measured after the pipeline is gone (its disposal waits for the
// element's teardown): what malloc_trim could still return then is what the element left behind.
GST_START_TEST(test_memory_given_back_after_stop) {
  {
    npwtest::RunResult r;
    // OpenAI's default decoding (beams, best-of, the temperature ladder): the most a stream allocates.
    npwtest::run_pipeline("filesrc location=\"" + npwtest::data_path("audio/jfk.wav") +
                              "\" ! decodebin ! audioconvert ! audioresample ! npuwhisper model=\"" + model_path() +
                              "\" ! appsink name=sink sync=false",
                          r);
    fail_unless(r.eos && r.error == nullptr);
    fail_unless(!r.captions.empty());
  }  // the result's messages let go of the element: it is finalised, which waits for its teardown
  const double held = resident_mib();
  malloc_trim(0);
  const double left_behind = held - resident_mib();
  g_print("resident after stop %.1f MiB, of which the allocator could still return %.1f\n", held, left_behind);
  fail_unless(left_behind < 2.0, "%.1f MiB of freed heap still resident after the element's teardown", left_behind);
}
GST_END_TEST;

static Suite* npuwhisper_suite() {
  Suite* s = suite_create("npuwhisper-element");
  TCase* tc = tcase_create("element");
  tcase_set_timeout(tc, 300);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_caps_accept_refuse);
  tcase_add_test(tc, test_property_defaults_and_validation);
  tcase_add_test(tc, test_property_ranges_are_accepted);
  tcase_add_test(tc, test_fixed_properties_refused_while_running);
  tcase_add_test(tc, test_suppress_tokens_outside_the_vocabulary);
  tcase_add_test(tc, test_patience_too_small_for_the_beams);
  tcase_add_test(tc, test_latency_query);
  tcase_add_test(tc, test_streaming_thread_never_waits_for_the_worker);
  tcase_add_test(tc, test_model_errors);
  tcase_add_test(tc, test_backends);
  tcase_add_test(tc, test_odd_audio);
  tcase_add_test(tc, test_caps_change_mid_stream);
  tcase_add_test(tc, test_discont_restarts_window);
  tcase_add_test(tc, test_state_cycles);
  tcase_add_test(tc, test_memory_given_back_after_stop);
  return s;
}

GST_CHECK_MAIN(npuwhisper);
