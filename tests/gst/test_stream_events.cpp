// Element tests of the text stream's events and of what the element announces, through GstHarness
// and small pipelines: GAP events and captions together cover the whole timeline; the input SEGMENT
// is forwarded (a non-TIME one becomes TIME from 0); upstream stream tags are merged with the
// language-code tag; FLUSH_START/STOP forget queued audio and decoding state but keep queued sticky
// events (CAPS); vad=true in file mode skips silence; NaN/Inf/denormal
// samples decode exactly as silence; PROGRESS messages around the model load; the ALLOCATION query
// answer; and the factory's gst-inspect metadata.
// Standard headers first: gstcheck.h defines a `fail` macro that breaks <ios>.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include "npw_gst_test.h"

using npwtest::model_path;

static const char* kCapsF32 = "audio/x-raw,format=F32LE,rate=16000,channels=1,layout=interleaved";

static GstHarness* new_harness(bool vad = false) {
  GstElement* e = gst_element_factory_make("npuwhisper", nullptr);
  fail_unless(e != nullptr);
  g_object_set(e, "model", model_path().c_str(), "beam-size", 0, "temperature-fallback", 0.0f, nullptr);
  if (vad) g_object_set(e, "vad", TRUE, nullptr);
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

static GstClockTime samples_to_time(std::size_t n) { return gst_util_uint64_scale_int(n, GST_SECOND, 16000); }

static std::vector<GstBuffer*> pull_buffers(GstHarness* h) {
  std::vector<GstBuffer*> out;
  while (GstBuffer* b = gst_harness_try_pull(h)) out.push_back(b);
  return out;
}

static std::vector<GstEvent*> pull_events(GstHarness* h) {
  std::vector<GstEvent*> out;
  while (GstEvent* e = gst_harness_try_pull_event(h)) out.push_back(e);
  return out;
}

static std::vector<std::vector<int>> tokens_of(const std::vector<GstBuffer*>& bufs) {
  std::vector<std::vector<int>> out;
  for (GstBuffer* b : bufs) {
    GstCustomMeta* meta = gst_buffer_get_custom_meta(b, "NpuWhisperSegmentMeta");
    fail_unless(meta != nullptr);
    out.push_back(npwtest::tokens_of(gst_custom_meta_get_structure(meta)));
  }
  return out;
}

static void unref_all(std::vector<GstBuffer*>& bufs, std::vector<GstEvent*>& events) {
  for (GstBuffer* b : bufs) gst_buffer_unref(b);
  for (GstEvent* e : events) gst_event_unref(e);
  bufs.clear();
  events.clear();
}

// Captions [pts, pts+dur) and GAPs [ts, ts+dur) must tile [from, to) without hole or overlap.
static void check_tiling(const std::vector<GstBuffer*>& bufs, const std::vector<GstEvent*>& events, GstClockTime from,
                         GstClockTime to) {
  std::vector<std::pair<GstClockTime, GstClockTime>> spans;
  for (GstBuffer* b : bufs) spans.emplace_back(GST_BUFFER_PTS(b), GST_BUFFER_PTS(b) + GST_BUFFER_DURATION(b));
  for (GstEvent* e : events) {
    if (GST_EVENT_TYPE(e) != GST_EVENT_GAP) continue;
    GstClockTime ts, dur;
    gst_event_parse_gap(e, &ts, &dur);
    fail_unless(GST_CLOCK_TIME_IS_VALID(ts) && GST_CLOCK_TIME_IS_VALID(dur), "GAP without time or duration");
    spans.emplace_back(ts, ts + dur);
  }
  std::stable_sort(spans.begin(), spans.end());
  GstClockTime pos = from;
  for (const auto& [s, e] : spans) {
    fail_unless(s == pos, "hole or overlap at %" GST_TIME_FORMAT " (covered up to %" GST_TIME_FORMAT ")", GST_TIME_ARGS(s),
                GST_TIME_ARGS(pos));
    pos = e;
  }
  fail_unless(pos == to, "covered up to %" GST_TIME_FORMAT ", audio ends at %" GST_TIME_FORMAT, GST_TIME_ARGS(pos),
              GST_TIME_ARGS(to));
}

GST_START_TEST(test_gaps_and_captions_cover_the_timeline) {
  // jfk in two halves with a DISCONT jump to 100 s in between: GAPs fill everything the captions do
  // not, including the jump, up to the end of the audio.
  std::vector<float> x = npwtest::read_wav(npwtest::data_path("audio/jfk.wav"));
  const std::size_t half = x.size() / 2;
  const GstClockTime jump = 100 * GST_SECOND;
  GstHarness* h = new_harness();
  gst_harness_set_src_caps_str(h, kCapsF32);
  fail_unless_equals_int(gst_harness_push(h, f32_buffer(x.data(), half, 0)), GST_FLOW_OK);
  GstBuffer* b = f32_buffer(x.data() + half, x.size() - half, jump);
  GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DISCONT);
  fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  std::vector<GstBuffer*> bufs = pull_buffers(h);
  std::vector<GstEvent*> events = pull_events(h);
  fail_unless(!bufs.empty());
  check_tiling(bufs, events, 0, jump + samples_to_time(x.size() - half));
  unref_all(bufs, events);
  gst_harness_teardown(h);
}
GST_END_TEST;

static const GstSegment* last_segment(const std::vector<GstEvent*>& events) {
  const GstSegment* seg = nullptr;
  for (GstEvent* e : events)
    if (GST_EVENT_TYPE(e) == GST_EVENT_SEGMENT) gst_event_parse_segment(e, &seg);
  return seg;
}

GST_START_TEST(test_segment_is_translated) {
  std::vector<float> zeros(8000, 0.0f);
  // A TIME segment goes downstream as it is; captions carry its timeline.
  GstHarness* h = new_harness();
  gst_harness_set_src_caps_str(h, kCapsF32);
  GstSegment in;
  gst_segment_init(&in, GST_FORMAT_TIME);
  in.start = 5 * GST_SECOND;
  in.time = 7 * GST_SECOND;
  in.base = 3 * GST_SECOND;
  fail_unless(gst_harness_push_event(h, gst_event_new_segment(&in)));
  fail_unless_equals_int(gst_harness_push(h, f32_buffer(zeros.data(), zeros.size(), 5 * GST_SECOND)), GST_FLOW_OK);
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  std::vector<GstBuffer*> bufs = pull_buffers(h);
  std::vector<GstEvent*> events = pull_events(h);
  const GstSegment* out = last_segment(events);
  fail_unless(out != nullptr);
  fail_unless(gst_segment_is_equal(out, &in), "TIME segment changed on the way");
  check_tiling(bufs, events, 5 * GST_SECOND, 5 * GST_SECOND + samples_to_time(zeros.size()));
  unref_all(bufs, events);
  gst_harness_teardown(h);

  // A BYTES segment carries no clock: the text stream gets a TIME segment from 0.
  h = new_harness();
  gst_harness_set_src_caps_str(h, kCapsF32);
  gst_segment_init(&in, GST_FORMAT_BYTES);
  in.start = 1000;
  fail_unless(gst_harness_push_event(h, gst_event_new_segment(&in)));
  GstBuffer* b = f32_buffer(zeros.data(), zeros.size(), GST_CLOCK_TIME_NONE);
  fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  bufs = pull_buffers(h);
  events = pull_events(h);
  out = last_segment(events);
  fail_unless(out != nullptr);
  fail_unless_equals_int(out->format, GST_FORMAT_TIME);
  fail_unless_equals_uint64(out->start, 0);
  check_tiling(bufs, events, 0, samples_to_time(zeros.size()));
  unref_all(bufs, events);
  gst_harness_teardown(h);
}
GST_END_TEST;

GST_START_TEST(test_upstream_tags_are_merged_with_the_language) {
  std::vector<float> zeros(8000, 0.0f);
  GstHarness* h = new_harness();
  gst_harness_set_src_caps_str(h, kCapsF32);
  GstTagList* tags = gst_tag_list_new(GST_TAG_TITLE, "talk", nullptr);
  gst_tag_list_set_scope(tags, GST_TAG_SCOPE_STREAM);
  fail_unless(gst_harness_push_event(h, gst_event_new_tag(tags)));
  fail_unless_equals_int(gst_harness_push(h, f32_buffer(zeros.data(), zeros.size(), 0)), GST_FLOW_OK);
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  std::vector<GstBuffer*> bufs = pull_buffers(h);
  std::vector<GstEvent*> events = pull_events(h);
  const GstTagList* last = nullptr;
  for (GstEvent* e : events) {
    if (GST_EVENT_TYPE(e) != GST_EVENT_TAG) continue;
    GstTagList* t = nullptr;
    gst_event_parse_tag(e, &t);
    if (gst_tag_list_get_scope(t) == GST_TAG_SCOPE_STREAM) last = t;
  }
  fail_unless(last != nullptr, "no stream tag event");
  gchar *title = nullptr, *lang = nullptr;
  fail_unless(gst_tag_list_get_string(last, GST_TAG_TITLE, &title), "upstream title lost");
  fail_unless(gst_tag_list_get_string(last, GST_TAG_LANGUAGE_CODE, &lang), "no language-code");
  fail_unless_equals_string(title, "talk");
  fail_unless_equals_string(lang, "en");  // English-only test model
  g_free(title);
  g_free(lang);
  unref_all(bufs, events);
  gst_harness_teardown(h);
}
GST_END_TEST;

GST_START_TEST(test_flush_forgets_audio_and_state) {
  // 35 s of long45 (one window transcribed, so the transcriber holds a prompt, and 5 s queued),
  // then a flush and jfk from 0: the captions are exactly those of jfk alone.
  std::vector<float> long45 = npwtest::read_wav(npwtest::data_path("audio/long45.wav"));
  std::vector<float> jfk = npwtest::read_wav(npwtest::data_path("audio/jfk.wav"));
  GstHarness* h = new_harness();
  gst_harness_set_src_caps_str(h, kCapsF32);
  const std::size_t before = 35 * 16000;
  for (std::size_t pos = 0; pos < before; pos += 16000)
    fail_unless_equals_int(gst_harness_push(h, f32_buffer(long45.data() + pos, 16000, samples_to_time(pos))), GST_FLOW_OK);
  // The first window's first caption: from here the transcriber holds a prompt and the accumulator
  // the audio after the window's last timestamp.
  GstBuffer* first = npwtest::pull_within(h, 60);
  fail_unless(first != nullptr, "the first window gave no caption");
  gst_buffer_unref(first);
  fail_unless(gst_harness_push_event(h, gst_event_new_flush_start()));
  fail_unless(gst_harness_push_event(h, gst_event_new_flush_stop(TRUE)));
  std::vector<GstBuffer*> old = pull_buffers(h);  // whatever left before the flush
  std::vector<GstEvent*> old_events = pull_events(h);
  unref_all(old, old_events);

  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  fail_unless(gst_harness_push_event(h, gst_event_new_segment(&seg)));
  GstBuffer* b = f32_buffer(jfk.data(), jfk.size(), 0);
  GST_BUFFER_FLAG_SET(b, GST_BUFFER_FLAG_DISCONT);
  fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  std::vector<GstBuffer*> bufs = pull_buffers(h);
  std::vector<GstEvent*> events = pull_events(h);
  const auto want = npwtest::reference_tokens(jfk);
  fail_unless(!want.empty());
  fail_unless_equals_int(bufs.size(), want.size());
  fail_unless(tokens_of(bufs) == want, "state survived the flush");
  check_tiling(bufs, events, 0, samples_to_time(jfk.size()));
  unref_all(bufs, events);
  gst_harness_teardown(h);
}
GST_END_TEST;

// Holds the element's worker inside its push of STREAM_START until the test opens the gate, so that
// the events behind it stay queued.
struct WorkerGate {
  GMutex m;
  GCond c;
  bool entered = false;
  bool open = false;
};

static GstPadProbeReturn hold_stream_start(GstPad*, GstPadProbeInfo* info, gpointer data) {
  if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) != GST_EVENT_STREAM_START) return GST_PAD_PROBE_OK;
  auto* g = static_cast<WorkerGate*>(data);
  g_mutex_lock(&g->m);
  g->entered = true;
  g_cond_broadcast(&g->c);
  while (!g->open) g_cond_wait(&g->c, &g->m);
  g_mutex_unlock(&g->m);
  return GST_PAD_PROBE_OK;
}

GST_START_TEST(test_flush_keeps_queued_caps) {
  // STREAM_START and CAPS arrive, the worker is still busy with the first when FLUSH_START comes:
  // the CAPS (sticky, and already accepted) must survive the flush as GStreamer's pads keep it, so
  // the audio after FLUSH_STOP is understood: captions, text caps downstream, no error.
  std::vector<float> jfk = npwtest::read_wav(npwtest::data_path("audio/jfk.wav"));
  GstHarness* h = new_harness();
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(h->element, bus);
  WorkerGate gate;
  g_mutex_init(&gate.m);
  g_cond_init(&gate.c);
  GstPad* src = gst_element_get_static_pad(h->element, "src");
  const gulong probe = gst_pad_add_probe(src, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, hold_stream_start, &gate, nullptr);
  fail_unless(gst_harness_push_event(h, gst_event_new_stream_start("flush-keeps-caps")));
  g_mutex_lock(&gate.m);
  while (!gate.entered) g_cond_wait(&gate.c, &gate.m);
  g_mutex_unlock(&gate.m);
  GstCaps* caps = gst_caps_from_string(kCapsF32);
  fail_unless(gst_harness_push_event(h, gst_event_new_caps(caps)));
  gst_caps_unref(caps);
  fail_unless(gst_harness_push_event(h, gst_event_new_flush_start()));
  g_mutex_lock(&gate.m);
  gate.open = true;
  g_cond_broadcast(&gate.c);
  g_mutex_unlock(&gate.m);
  fail_unless(gst_harness_push_event(h, gst_event_new_flush_stop(TRUE)));
  gst_pad_remove_probe(src, probe);
  gst_object_unref(src);

  GstSegment seg;
  gst_segment_init(&seg, GST_FORMAT_TIME);
  fail_unless(gst_harness_push_event(h, gst_event_new_segment(&seg)));
  fail_unless_equals_int(gst_harness_push(h, f32_buffer(jfk.data(), jfk.size(), 0)), GST_FLOW_OK);
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  GstMessage* err = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  if (err) {
    GError* e = nullptr;
    gst_message_parse_error(err, &e, nullptr);
    fail("error after the flush: %s", e->message);
  }
  std::vector<GstBuffer*> bufs = pull_buffers(h);
  std::vector<GstEvent*> events = pull_events(h);
  fail_unless(!bufs.empty(), "no caption after the flush");
  GstCaps* out = gst_pad_get_current_caps(h->sinkpad);
  fail_unless(out != nullptr, "no caps downstream");
  fail_unless(gst_structure_has_name(gst_caps_get_structure(out, 0), "text/x-raw"));
  gst_caps_unref(out);
  unref_all(bufs, events);
  gst_element_set_bus(h->element, nullptr);
  gst_object_unref(bus);
  gst_harness_teardown(h);
  g_mutex_clear(&gate.m);
  g_cond_clear(&gate.c);
}
GST_END_TEST;

GST_START_TEST(test_file_mode_vad_skips_silence) {
  // vad=true in file mode: 3 s of silence, jfk (11 s), 4 s of silence. The silences never reach the
  // encoder (reported as skipped), the captions stay inside the speech at their input time, and
  // captions and GAPs still tile the whole timeline (no audio silently dropped).
  std::vector<float> jfk = npwtest::read_wav(npwtest::data_path("audio/jfk.wav"));
  std::vector<float> audio(3 * 16000, 0.0f);
  audio.insert(audio.end(), jfk.begin(), jfk.end());
  audio.insert(audio.end(), 4 * 16000, 0.0f);
  GstHarness* h = new_harness(true);
  GstBus* bus = gst_bus_new();
  gst_element_set_bus(h->element, bus);
  gst_harness_set_src_caps_str(h, kCapsF32);
  for (std::size_t pos = 0; pos < audio.size(); pos += 16000) {
    const std::size_t n = std::min<std::size_t>(16000, audio.size() - pos);
    fail_unless_equals_int(gst_harness_push(h, f32_buffer(audio.data() + pos, n, samples_to_time(pos))), GST_FLOW_OK);
  }
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  std::vector<GstBuffer*> bufs = pull_buffers(h);
  std::vector<GstEvent*> events = pull_events(h);
  fail_unless(!bufs.empty(), "no caption for the speech");
  const GstClockTime speech_from = samples_to_time(3 * 16000) - 300 * GST_MSECOND;  // the gate's padding
  const GstClockTime speech_to = samples_to_time(3 * 16000 + jfk.size()) + 700 * GST_MSECOND;  // its hangover
  for (GstBuffer* b : bufs) {
    fail_unless(GST_BUFFER_PTS(b) >= speech_from, "caption at %" GST_TIME_FORMAT " in the leading silence",
                GST_TIME_ARGS(GST_BUFFER_PTS(b)));
    fail_unless(GST_BUFFER_PTS(b) + GST_BUFFER_DURATION(b) <= speech_to,
                "caption ending at %" GST_TIME_FORMAT " in the trailing silence",
                GST_TIME_ARGS(GST_BUFFER_PTS(b) + GST_BUFFER_DURATION(b)));
  }
  check_tiling(bufs, events, 0, samples_to_time(audio.size()));
  GstMessage* m = nullptr;
  const GstStructure* stats = nullptr;
  while ((m = gst_bus_pop_filtered(bus, GST_MESSAGE_ELEMENT)) != nullptr) {
    if (gst_structure_has_name(gst_message_get_structure(m), "npuwhisper-stats")) break;
    gst_message_unref(m);
  }
  fail_unless(m != nullptr, "no statistics at EOS");
  stats = gst_message_get_structure(m);
  double skipped = 0.0, audio_s = 0.0;
  fail_unless(gst_structure_get_double(stats, "skipped-silence-seconds", &skipped));
  fail_unless(gst_structure_get_double(stats, "audio-seconds", &audio_s));
  fail_unless(std::fabs(audio_s - 18.0) < 0.01, "audio-seconds %f: audio went missing", audio_s);
  fail_unless(skipped > 5.0 && skipped < 7.0, "skipped %f s of silence, expected most of the 7 s", skipped);
  gst_message_unref(m);
  unref_all(bufs, events);
  gst_element_set_bus(h->element, nullptr);
  gst_object_unref(bus);
  gst_harness_teardown(h);
}
GST_END_TEST;

GST_START_TEST(test_non_finite_samples_decode_as_silence) {
  // jfk with every 7th sample NaN, +Inf, -Inf or denormal: the same captions as jfk with those
  // samples set to 0.
  std::vector<float> x = npwtest::read_wav(npwtest::data_path("audio/jfk.wav"));
  std::vector<float> zeroed = x;
  const float odd[] = {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                       -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::denorm_min()};
  for (std::size_t i = 0; i < x.size(); i += 7) {
    x[i] = odd[(i / 7) % 4];
    zeroed[i] = 0.0f;
  }
  GstHarness* h = new_harness();
  gst_harness_set_src_caps_str(h, kCapsF32);
  fail_unless_equals_int(gst_harness_push(h, f32_buffer(x.data(), x.size(), 0)), GST_FLOW_OK);
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  std::vector<GstBuffer*> bufs = pull_buffers(h);
  std::vector<GstEvent*> events = pull_events(h);
  const auto want = npwtest::reference_tokens(zeroed);
  fail_unless(!want.empty());
  fail_unless(tokens_of(bufs) == want, "non-finite samples were not read as silence");
  unref_all(bufs, events);
  gst_harness_teardown(h);
}
GST_END_TEST;

// PROGRESS messages of `pipeline` going to PAUSED, as "type:code" strings.
static std::vector<std::string> progress_of(const std::string& description) {
  GstElement* pipeline = gst_parse_launch(description.c_str(), nullptr);
  fail_unless(pipeline != nullptr);
  gst_element_set_state(pipeline, GST_STATE_PAUSED);
  gst_element_get_state(pipeline, nullptr, nullptr, npwtest::wait_time(60));
  GstBus* bus = gst_element_get_bus(pipeline);
  std::vector<std::string> out;
  while (GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_PROGRESS)) {
    GstProgressType type;
    gchar *code = nullptr, *text = nullptr;
    gst_message_parse_progress(m, &type, &code, &text);
    const char* name = type == GST_PROGRESS_TYPE_START      ? "start"
                       : type == GST_PROGRESS_TYPE_COMPLETE ? "complete"
                       : type == GST_PROGRESS_TYPE_ERROR    ? "error"
                                                            : "other";
    fail_unless(text != nullptr && *text != '\0', "progress without text");
    out.push_back(std::string(name) + ":" + code);
    g_free(code);
    g_free(text);
    gst_message_unref(m);
  }
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  return out;
}

GST_START_TEST(test_progress_while_the_model_loads) {
  const auto ok = progress_of("audiotestsrc ! audio/x-raw,rate=16000,channels=1 ! npuwhisper beam-size=0 model=\"" +
                              model_path() + "\" ! fakesink");
  fail_unless(ok == (std::vector<std::string>{"start:model-load", "complete:model-load"}));
  const auto bad = progress_of("audiotestsrc ! audio/x-raw,rate=16000,channels=1 ! npuwhisper model=/nonexistent/m.bin ! fakesink");
  fail_unless(bad == (std::vector<std::string>{"start:model-load", "error:model-load"}));
}
GST_END_TEST;

GST_START_TEST(test_allocation_query) {
  // Alignment for the SIMD reads, deliberately no pool (see sink_query in gstnpuwhisper.cpp).
  GstHarness* h = new_harness();
  gst_harness_set_src_caps_str(h, kCapsF32);
  GstCaps* caps = gst_caps_from_string(kCapsF32);
  GstQuery* q = gst_query_new_allocation(caps, TRUE);
  GstPad* sink = gst_element_get_static_pad(h->element, "sink");
  fail_unless(gst_pad_query(sink, q));
  fail_unless_equals_int(gst_query_get_n_allocation_pools(q), 0);
  fail_unless(gst_query_get_n_allocation_params(q) >= 1);
  GstAllocationParams params;
  gst_query_parse_nth_allocation_param(q, 0, nullptr, &params);
  fail_unless_equals_int(params.align, 63);
  gst_object_unref(sink);
  gst_query_unref(q);
  gst_caps_unref(caps);
  gst_harness_teardown(h);
}
GST_END_TEST;

GST_START_TEST(test_factory_metadata) {
  GstElementFactory* f = gst_element_factory_find("npuwhisper");
  fail_unless(f != nullptr);
  fail_unless_equals_string(gst_element_factory_get_metadata(f, GST_ELEMENT_METADATA_KLASS), "Audio/Text/Filter");
  for (const char* key : {GST_ELEMENT_METADATA_LONGNAME, GST_ELEMENT_METADATA_DESCRIPTION, GST_ELEMENT_METADATA_AUTHOR}) {
    const gchar* v = gst_element_factory_get_metadata(f, key);
    fail_unless(v != nullptr && *v != '\0', "no %s", key);
  }
  GstPlugin* plugin = gst_plugin_feature_get_plugin(GST_PLUGIN_FEATURE(f));
  fail_unless(plugin != nullptr);
  fail_unless_equals_string(gst_plugin_get_name(plugin), "npuwhisper");
  fail_unless(gst_plugin_get_description(plugin) && gst_plugin_get_license(plugin) && gst_plugin_get_version(plugin));
  // A license GStreamer knows (the project is MIT): any other warns when the registry is built.
  fail_unless_equals_string(gst_plugin_get_license(plugin), "MIT/X11");
  gst_object_unref(plugin);
  // Pad templates as documented.
  GstCaps* want_sink = gst_caps_from_string(
      "audio/x-raw, format=(string){ F32LE, S16LE }, rate=(int)16000, channels=(int)1, layout=(string)interleaved");
  GstCaps* want_src = gst_caps_from_string("text/x-raw, format=(string)utf8");
  int templates = 0;
  for (const GList* l = gst_element_factory_get_static_pad_templates(f); l; l = l->next, ++templates) {
    auto* t = static_cast<GstStaticPadTemplate*>(l->data);
    GstCaps* caps = gst_static_caps_get(&t->static_caps);
    fail_unless(gst_caps_is_equal(caps, t->direction == GST_PAD_SINK ? want_sink : want_src), "%s template", t->name_template);
    fail_unless_equals_int(t->presence, GST_PAD_ALWAYS);
    gst_caps_unref(caps);
  }
  fail_unless_equals_int(templates, 2);
  gst_caps_unref(want_sink);
  gst_caps_unref(want_src);
  // Every property documented (gst-inspect shows the blurb).
  GstElement* e = gst_element_factory_create(f, nullptr);
  guint n = 0;
  GParamSpec** specs = g_object_class_list_properties(G_OBJECT_GET_CLASS(e), &n);
  int ours = 0;
  for (guint i = 0; i < n; ++i) {
    if (specs[i]->owner_type != G_OBJECT_TYPE(e)) continue;
    ++ours;
    const gchar* blurb = g_param_spec_get_blurb(specs[i]);
    fail_unless(blurb != nullptr && strlen(blurb) > 10, "property %s has no description", specs[i]->name);
  }
  // 31 settings (temperature, patience and length-penalty the latest) and the read-only tensor-pool;
  // live captions: 11 settings and the read-only max-delay
  fail_unless_equals_int(ours, 32 + 12);
  g_free(specs);
  gst_object_unref(e);
  gst_object_unref(f);
}
GST_END_TEST;

static Suite* npuwhisper_stream_events_suite() {
  Suite* s = suite_create("npuwhisper-stream-events");
  TCase* tc = tcase_create("stream-events");
  tcase_set_timeout(tc, 300);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_gaps_and_captions_cover_the_timeline);
  tcase_add_test(tc, test_segment_is_translated);
  tcase_add_test(tc, test_upstream_tags_are_merged_with_the_language);
  tcase_add_test(tc, test_flush_forgets_audio_and_state);
  tcase_add_test(tc, test_flush_keeps_queued_caps);
  tcase_add_test(tc, test_file_mode_vad_skips_silence);
  tcase_add_test(tc, test_non_finite_samples_decode_as_silence);
  tcase_add_test(tc, test_progress_while_the_model_loads);
  tcase_add_test(tc, test_allocation_query);
  tcase_add_test(tc, test_factory_metadata);
  return s;
}

GST_CHECK_MAIN(npuwhisper_stream_events);
