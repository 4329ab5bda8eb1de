// Live mode through GstHarness (which answers the LATENCY query as a live source, so mode=auto is
// live): the latency answer in PAUSED/PLAYING before data, silence and low noise giving GAPs and no
// text (and no encoder run), speech giving committed words that are never retracted, duplicated or
// out of order, inside the input, the backlog warning/QoS when audio arrives faster than it can be
// decoded, a flush in the middle of a sentence, EOS committing the tail, and partials kept apart.
// Weights are random, so the words are noise: the tests check timing and structure, not text.
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include <glib/gstdio.h>

#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "npw_gst_test.h"

using npwtest::data_path;
using npwtest::model_path;

namespace {

constexpr int kRate = 16000;
constexpr std::size_t kChunk = 1600;  // 100 ms buffers, as a capture source sends them

GstHarness* live_harness(const char* extra_props = nullptr, GstBus** bus = nullptr) {
  GstElement* e = gst_element_factory_make("npuwhisper", nullptr);
  fail_unless(e != nullptr);
  g_object_set(e, "model", model_path().c_str(), "beam-size", 0, "temperature-fallback", 0.0f, nullptr);
  if (extra_props) {
    gchar** kv = g_strsplit(extra_props, " ", -1);
    for (gchar** p = kv; *p; ++p) {
      gchar** pair = g_strsplit(*p, "=", 2);
      gst_util_set_object_arg(G_OBJECT(e), pair[0], pair[1]);
      g_strfreev(pair);
    }
    g_strfreev(kv);
  }
  if (bus) {
    *bus = gst_bus_new();
    gst_element_set_bus(e, *bus);
  }
  GstHarness* h = gst_harness_new_with_element(e, "sink", "src");
  gst_harness_set_upstream_latency(h, 20 * GST_MSECOND);
  gst_harness_set_src_caps_str(h, "audio/x-raw, format=F32LE, rate=16000, channels=1, layout=interleaved");
  gst_object_unref(e);
  return h;
}

void push_audio(GstHarness* h, const std::vector<float>& a, GstClockTime start = 0) {
  for (std::size_t i = 0; i < a.size(); i += kChunk) {
    const std::size_t n = std::min(kChunk, a.size() - i);
    GstBuffer* b = gst_buffer_new_memdup(a.data() + i, n * sizeof(float));
    GST_BUFFER_PTS(b) = start + gst_util_uint64_scale_int(i, GST_SECOND, kRate);
    GST_BUFFER_DURATION(b) = gst_util_uint64_scale_int(n, GST_SECOND, kRate);
    fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
  }
}

struct Out {
  struct Text {
    std::string text;
    GstClockTime pts, duration;
    bool stable;
  };
  std::vector<Text> texts;
  GstClockTime gap_end = 0;
  int gaps = 0;
  bool eos = false;
};

Out pull_all(GstHarness* h) {
  Out o;
  while (GstBuffer* b = gst_harness_try_pull(h)) {
    GstMapInfo m;
    fail_unless(gst_buffer_map(b, &m, GST_MAP_READ));
    bool stable = !GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DELTA_UNIT);
    if (GstCustomMeta* meta = gst_buffer_get_custom_meta(b, "NpuWhisperSegmentMeta")) {
      gboolean s = TRUE;
      fail_unless(gst_structure_get_boolean(gst_custom_meta_get_structure(meta), "stable", &s));
      fail_unless_equals_int(s, stable);
    }
    o.texts.push_back({std::string(reinterpret_cast<const char*>(m.data), m.size), GST_BUFFER_PTS(b),
                       GST_BUFFER_DURATION(b), stable});
    gst_buffer_unmap(b, &m);
    gst_buffer_unref(b);
  }
  while (GstEvent* e = gst_harness_try_pull_event(h)) {
    if (GST_EVENT_TYPE(e) == GST_EVENT_GAP) {
      GstClockTime ts, d;
      gst_event_parse_gap(e, &ts, &d);
      ++o.gaps;
      o.gap_end = std::max(o.gap_end, ts + (GST_CLOCK_TIME_IS_VALID(d) ? d : 0));
    }
    if (GST_EVENT_TYPE(e) == GST_EVENT_EOS) o.eos = true;
    gst_event_unref(e);
  }
  return o;
}

// Committed text: every PTS valid, in order, no overlap (so no word emitted twice over the same
// time), inside [0, end]. (Random weights repeat words, and a word moved to the latency floor may
// have no duration, so equal neighbours are not by themselves a duplicate; the commit policy's unit
// tests and the live benchmark's scripted recogniser count duplicates exactly.)
void check_committed(const Out& o, GstClockTime end) {
  GstClockTime pos = 0;
  for (const Out::Text& t : o.texts) {
    if (!t.stable) continue;
    fail_unless(GST_CLOCK_TIME_IS_VALID(t.pts) && GST_CLOCK_TIME_IS_VALID(t.duration));
    fail_unless(t.pts >= pos, "caption at %" GST_TIME_FORMAT " before the previous end %" GST_TIME_FORMAT,
                GST_TIME_ARGS(t.pts), GST_TIME_ARGS(pos));
    fail_unless(t.pts + t.duration <= end, "caption ends at %" GST_TIME_FORMAT " after the input",
                GST_TIME_ARGS(t.pts + t.duration));
    fail_if(t.text.empty());
    pos = t.pts + t.duration;
  }
}

// Messages hold their element and the element holds the bus: empty it before the teardown.
void teardown(GstHarness* h, GstBus* bus) {
  if (bus) gst_bus_set_flushing(bus, TRUE);
  gst_harness_teardown(h);
  if (bus) gst_object_unref(bus);
}

// The worker pushes asynchronously: waits (up to 60 s) until GAPs or text reach `until`.
Out pull_until(GstHarness* h, GstClockTime until) {
  Out all;
  const gint64 deadline = g_get_monotonic_time() + static_cast<gint64>(npwtest::wait_time(60) / GST_USECOND);
  while (all.gap_end < until && g_get_monotonic_time() < deadline) {
    Out o = pull_all(h);
    all.texts.insert(all.texts.end(), o.texts.begin(), o.texts.end());
    all.gaps += o.gaps;
    all.gap_end = std::max(all.gap_end, o.gap_end);
    for (const Out::Text& t : o.texts) all.gap_end = std::max(all.gap_end, t.pts + t.duration);
    if (all.gap_end < until) g_usleep(100000);
  }
  return all;
}

int stats_windows(GstBus* bus) {
  int windows = -1;
  while (GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_ELEMENT)) {
    const GstStructure* s = gst_message_get_structure(m);
    if (gst_structure_has_name(s, "npuwhisper-stats")) gst_structure_get_int(s, "windows", &windows);
    gst_message_unref(m);
  }
  return windows;
}

}  // namespace

GST_START_TEST(test_live_latency_answer) {
  GstBus* bus = nullptr;
  GstHarness* h = live_harness(nullptr, &bus);
  // Before any data: upstream + 3 steps (1 s automatic) + 1.5 s + the voice gate's start (150 ms).
  fail_unless_equals_uint64(gst_harness_query_latency(h), 20 * GST_MSECOND + 4650 * GST_MSECOND);
  g_object_set(h->element, "latency", 500u, nullptr);
  fail_unless_equals_uint64(gst_harness_query_latency(h), 20 * GST_MSECOND + 3150 * GST_MSECOND);
  // lateness shifts the output and is part of the answer; changing it while running says so.
  gst_bus_set_flushing(bus, TRUE);
  gst_bus_set_flushing(bus, FALSE);
  g_object_set(h->element, "lateness", 1000u, nullptr);
  fail_unless_equals_uint64(gst_harness_query_latency(h), 20 * GST_MSECOND + 4150 * GST_MSECOND);
  GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_LATENCY);
  fail_unless(m != nullptr, "no LATENCY message after lateness changed");
  gst_message_unref(m);
  teardown(h, bus);

  // mode=file keeps the window latency.
  h = live_harness("mode=file");
  fail_unless_equals_uint64(gst_harness_query_latency(h), 20 * GST_MSECOND + 30 * GST_SECOND);
  gst_harness_teardown(h);
}
GST_END_TEST;

GST_START_TEST(test_live_silence_and_noise_give_gaps_only) {
  GstBus* bus = nullptr;
  GstHarness* h = live_harness(nullptr, &bus);
  std::vector<float> a(20 * kRate, 0.0f);
  std::mt19937 rng(5);
  std::normal_distribution<float> noise(0.0f, 0.003f);
  for (std::size_t i = 10 * kRate; i < a.size(); ++i) a[i] = noise(rng);  // 10 s silence, 10 s quiet room
  push_audio(h, a);
  // GAPs arrive while the audio does, not at the end.
  Out mid = pull_until(h, 19 * GST_SECOND);
  fail_unless(mid.gaps > 10, "only %d GAPs during 20 s of silence", mid.gaps);
  fail_unless(mid.gap_end >= 19 * GST_SECOND, "GAPs reach only %" GST_TIME_FORMAT, GST_TIME_ARGS(mid.gap_end));
  gst_harness_push_event(h, gst_event_new_eos());
  Out o = pull_all(h);
  fail_unless(o.eos);
  fail_unless_equals_int(static_cast<int>(mid.texts.size() + o.texts.size()), 0);
  fail_unless_equals_int(stats_windows(bus), 0);  // no encoder ran
  teardown(h, bus);
}
GST_END_TEST;

GST_START_TEST(test_live_speech_fast_push_commits_in_order_and_reports_the_backlog) {
  GstBus* bus = nullptr;
  GstHarness* h = live_harness("latency=1000", &bus);
  const std::vector<float> jfk = npwtest::read_wav(data_path("audio/jfk.wav"));
  // Faster than real time behind a live upstream: the element is behind from the first step.
  push_audio(h, jfk);
  gst_harness_push_event(h, gst_event_new_eos());
  Out o = pull_all(h);
  fail_unless(o.eos);
  fail_unless(!o.texts.empty(), "no text for 11 s of speech");
  const GstClockTime end = gst_util_uint64_scale_int(jfk.size(), GST_SECOND, kRate);
  check_committed(o, end);
  for (const Out::Text& t : o.texts) fail_unless(t.stable, "a partial without partials=true");
  guint64 max_delay = 0;
  g_object_get(h->element, "max-delay", &max_delay, nullptr);
  fail_unless(max_delay > GST_SECOND, "max-delay %" G_GUINT64_FORMAT, max_delay);
  // (gst_bus_pop_filtered drops what does not match, so every message is looked at in one pass)
  bool behind = false, qos = false;
  while (GstMessage* m = gst_bus_pop(bus)) {
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_WARNING) {
      GError* err = nullptr;
      gst_message_parse_warning(m, &err, nullptr);
      behind = behind || std::string(err->message).find("behind") != std::string::npos;
      g_error_free(err);
    }
    if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_QOS) {
      gboolean live = FALSE;
      gst_message_parse_qos(m, &live, nullptr, nullptr, nullptr, nullptr);
      gint64 jitter = 0;
      gst_message_parse_qos_values(m, &jitter, nullptr, nullptr);
      qos = live && jitter > 0;
    }
    gst_message_unref(m);
  }
  fail_unless(behind, "no warning about the backlog");
  fail_unless(qos, "no QoS message with the delay");
  teardown(h, bus);
}
GST_END_TEST;

GST_START_TEST(test_live_flush_mid_sentence_then_eos_commits_the_tail) {
  GstHarness* h = live_harness("latency=1000 vad=false partials=true");
  const std::vector<float> jfk = npwtest::read_wav(data_path("audio/jfk.wav"));
  std::vector<float> part(jfk.begin() + kRate, jfk.begin() + 4 * kRate);
  push_audio(h, part);
  // Mid-sentence: once the element has started speaking (a step ran and its GAP came out).
  pull_until(h, GST_SECOND / 2);
  fail_unless(gst_harness_push_event(h, gst_event_new_flush_start()));
  fail_unless(gst_harness_push_event(h, gst_event_new_flush_stop(TRUE)));
  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  fail_unless(gst_harness_push_event(h, gst_event_new_segment(&seg)));
  pull_all(h);  // before the flush: not checked against what follows
  push_audio(h, part);
  gst_harness_push_event(h, gst_event_new_eos());
  Out o = pull_all(h);
  fail_unless(o.eos);
  int stable = 0;
  for (const Out::Text& t : o.texts) stable += t.stable;
  fail_unless(stable > 0, "EOS did not commit the tail");
  check_committed(o, 3 * GST_SECOND);
  gst_harness_teardown(h);
}
GST_END_TEST;

static void run_to_eos(const std::string& description, GstElement** keep = nullptr) {
  GError* err = nullptr;
  GstElement* p = gst_parse_launch(description.c_str(), &err);
  fail_unless(p != nullptr && err == nullptr, "%s", err ? err->message : description.c_str());
  fail_if(gst_element_set_state(p, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE);
  GstBus* bus = gst_element_get_bus(p);
  GstMessage* m = gst_bus_timed_pop_filtered(bus, npwtest::wait_time(120),
                                             static_cast<GstMessageType>(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
  fail_unless(m != nullptr, "no EOS within 120 s (the player did not preroll or stalled): %s", description.c_str());
  if (GST_MESSAGE_TYPE(m) == GST_MESSAGE_ERROR) {
    GError* e = nullptr;
    gst_message_parse_error(m, &e, nullptr);
    fail("error: %s", e->message);
  }
  gst_message_unref(m);
  gst_object_unref(bus);
  if (keep) {
    *keep = p;
    return;
  }
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
}

// The media-player case of the README: decodebin, a synced audio sink behind a tee, video through
// textoverlay (wait-text on by default), the queues of the recipe. It must preroll, play to the end
// in real time and drop no video frame as late.
GST_START_TEST(test_player_with_captions_drops_no_frame) {
  gchar* dir = g_dir_make_tmp("npw-live-XXXXXX", nullptr);
  const std::string avi = std::string(dir) + "/in.avi";
  run_to_eos("videotestsrc num-buffers=50 ! video/x-raw,width=160,height=120,framerate=10/1 ! jpegenc ! mux. "
             "filesrc location=\"" + data_path("audio/jfk.wav") + "\" ! wavparse ! audioconvert ! "
             "audio/x-raw,format=S16LE ! mux. avimux name=mux ! filesink location=\"" + avi + "\"");
  // The recipe: queues that hold 3 steps + 2 s (here 3 s steps: this machine is shared and slow, and
  // every step also times its words).
  const std::string hold = "max-size-time=11000000000 max-size-bytes=0 max-size-buffers=0";
  GstElement* p = nullptr;
  run_to_eos("filesrc location=\"" + avi + "\" ! decodebin name=d "
             "d. ! queue " + hold + " ! videoconvert ! txt.video_sink "
             "d. ! audioconvert ! tee name=a "
             "a. ! queue " + hold + " ! fakesink sync=true "
             "a. ! queue ! audioresample ! npuwhisper model=\"" + model_path() + "\" " + npwtest::kFastProps +
             " mode=live latency=3000 ! txt.text_sink "
             "textoverlay name=txt ! fakesink name=vs sync=true qos=true",
             &p);
  GstElement* vs = gst_bin_get_by_name(GST_BIN(p), "vs");
  GstStructure* stats = nullptr;
  g_object_get(vs, "stats", &stats, nullptr);
  guint64 rendered = 0, dropped = 0;
  fail_unless(gst_structure_get_uint64(stats, "rendered", &rendered));
  fail_unless(gst_structure_get_uint64(stats, "dropped", &dropped));
  // Under memcheck (stretched waits) nothing keeps real time: every frame is still accounted for.
  if (npwtest::timing_checked()) {
    fail_unless_equals_uint64(dropped, 0);
    fail_unless_equals_uint64(rendered, 50);
  } else {
    fail_unless_equals_uint64(rendered + dropped, 50);
  }
  gst_structure_free(stats);
  gst_object_unref(vs);
  gst_element_set_state(p, GST_STATE_NULL);
  gst_object_unref(p);
  g_unlink(avi.c_str());
  g_rmdir(dir);
  g_free(dir);
}
GST_END_TEST;

static Suite* live_suite() {
  Suite* s = suite_create("npuwhisper-live");
  TCase* tc = tcase_create("live");
  tcase_set_timeout(tc, 300);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_live_latency_answer);
  tcase_add_test(tc, test_live_silence_and_noise_give_gaps_only);
  tcase_add_test(tc, test_live_speech_fast_push_commits_in_order_and_reports_the_backlog);
  tcase_add_test(tc, test_live_flush_mid_sentence_then_eos_commits_the_tail);
  tcase_add_test(tc, test_player_with_captions_drops_no_frame);
  return s;
}

GST_CHECK_MAIN(live);
