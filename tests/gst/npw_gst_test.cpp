// See npw_gst_test.h.
#include "npw_gst_test.h"

#include <algorithm>
#include <memory>

#include "audio/wav.h"
#include "decode/transcriber.h"
#include "model/model.h"

namespace npwtest {

std::string data_path(const std::string& rel) { return std::string(NPW_TEST_DATA_DIR) + "/" + rel; }
std::string model_path() { return data_path("ggml-test-f32.bin"); }

namespace {
double wait_scale() {
  if (const char* e = g_getenv("NPW_TEST_WAIT_SCALE")) {
    const double v = g_ascii_strtod(e, nullptr);
    if (v >= 1.0 && v <= 1000.0) return v;
  }
  return 1.0;
}
}  // namespace

GstClockTime wait_time(double seconds) { return static_cast<GstClockTime>(seconds * wait_scale() * GST_SECOND); }

bool timing_checked() { return wait_scale() == 1.0; }

namespace {
template <typename T, typename TryPull>
T* poll_within(GstHarness* h, double seconds, TryPull try_pull) {
  const gint64 deadline = g_get_monotonic_time() + static_cast<gint64>(wait_time(seconds) / GST_USECOND);
  for (;;) {
    if (T* x = try_pull(h)) return x;
    if (g_get_monotonic_time() >= deadline) return nullptr;
    g_usleep(2000);
  }
}
}  // namespace

GstBuffer* pull_within(GstHarness* h, double seconds) { return poll_within<GstBuffer>(h, seconds, gst_harness_try_pull); }
GstEvent* pull_event_within(GstHarness* h, double seconds) {
  return poll_within<GstEvent>(h, seconds, gst_harness_try_pull_event);
}

RunResult::~RunResult() {
  for (auto& c : captions)
    if (c.meta) gst_structure_free(c.meta);
  for (auto* s : segment_messages) gst_structure_free(s);
  if (stats) gst_structure_free(stats);
  for (auto* m : warnings) gst_message_unref(m);
  for (auto* m : infos) gst_message_unref(m);
  if (error) gst_message_unref(error);
}

namespace {

GstPadProbeReturn count_gaps(GstPad*, GstPadProbeInfo* info, gpointer data) {
  if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_GAP) ++static_cast<RunResult*>(data)->gaps;
  return GST_PAD_PROBE_OK;
}

void drain_samples(GstAppSink* sink, RunResult& out) {
  while (GstSample* sample = gst_app_sink_try_pull_sample(sink, 0)) {
  GstBuffer* buf = gst_sample_get_buffer(sample);
  Caption c;
  GstMapInfo map;
  if (gst_buffer_map(buf, &map, GST_MAP_READ)) {
    c.text.assign(reinterpret_cast<const char*>(map.data), map.size);
    gst_buffer_unmap(buf, &map);
  }
  c.pts = GST_BUFFER_PTS(buf);
  c.duration = GST_BUFFER_DURATION(buf);
  if (GstCustomMeta* meta = gst_buffer_get_custom_meta(buf, "NpuWhisperSegmentMeta"))
    c.meta = gst_structure_copy(gst_custom_meta_get_structure(meta));
  out.captions.push_back(std::move(c));
  gst_sample_unref(sample);
  }
}

}  // namespace

void run_pipeline(const std::string& description, RunResult& out, bool has_appsink, RunHook hook, void* hook_data) {
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(description.c_str(), &err);
  fail_unless(pipeline != nullptr && err == nullptr, "parse %s: %s", description.c_str(), err ? err->message : "");
  GstAppSink* sink = nullptr;
  if (has_appsink) {
    sink = GST_APP_SINK(gst_bin_get_by_name(GST_BIN(pipeline), "sink"));
    fail_unless(sink != nullptr);
    GstPad* pad = gst_element_get_static_pad(GST_ELEMENT(sink), "sink");
    gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, count_gaps, &out, nullptr);
    gst_object_unref(pad);
  }
  GstBus* bus = gst_element_get_bus(pipeline);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  bool hooked = false;
  for (bool done = false; !done;) {
    // Drain the appsink while waiting so it never blocks the pipeline.
    if (sink) drain_samples(sink, out);
    GstMessage* msg = gst_bus_timed_pop(bus, 20 * GST_MSECOND);
    if (!msg) continue;
    switch (GST_MESSAGE_TYPE(msg)) {
      case GST_MESSAGE_EOS: out.eos = true; done = true; break;
      case GST_MESSAGE_ERROR: out.error = gst_message_ref(msg); done = true; break;
      case GST_MESSAGE_WARNING: out.warnings.push_back(gst_message_ref(msg)); break;
      case GST_MESSAGE_INFO: out.infos.push_back(gst_message_ref(msg)); break;
      case GST_MESSAGE_TAG: {
        GstTagList* tags = nullptr;
        gst_message_parse_tag(msg, &tags);
        gchar* lang = nullptr;
        if (gst_tag_list_get_string(tags, GST_TAG_LANGUAGE_CODE, &lang)) {
          out.languages.push_back(lang);
          g_free(lang);
        }
        gst_tag_list_unref(tags);
        break;
      }
      case GST_MESSAGE_ELEMENT: {
        const GstStructure* s = gst_message_get_structure(msg);
        if (gst_structure_has_name(s, "npuwhisper")) {
          out.segment_messages.push_back(gst_structure_copy(s));
          if (hook && !hooked) {
            hooked = true;
            hook(pipeline, hook_data);
          }
        } else if (gst_structure_has_name(s, "npuwhisper-stats")) {
          out.stats = gst_structure_copy(s);
        }
        break;
      }
      default: break;
    }
    gst_message_unref(msg);
  }
  if (sink) drain_samples(sink, out);  // at EOS every caption is queued in the appsink
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(bus);
  if (sink) gst_object_unref(sink);
  gst_object_unref(pipeline);
}

std::vector<float> read_wav(const std::string& path) { return npw::read_wav(path).samples; }

std::vector<std::vector<int>> reference_tokens(const std::vector<float>& samples, npw::BufferProvider* buffers,
                                               const std::string& backend) {
  constexpr std::size_t kWindow = 480000, kMin = 160;
  npw::Options options;
  options.beam_size = 0;
  options.temperatures = {0.0f};
  options.backend = backend;
  npw::Transcriber t(npw::ModelCache::instance().get(model_path()), options);
  t.set_buffer_provider(buffers);
  std::vector<std::vector<int>> out;
  std::size_t pos = 0;
  auto emit = [&](const npw::WindowResult& r, std::size_t consumed, bool final) {
    for (const auto& seg : r.segments) {
      if (!final && seg.start >= consumed / 16000.0) continue;
      if (seg.text.find_first_not_of(" \t\r\n") == std::string::npos) continue;
      out.push_back(seg.tokens);
    }
  };
  // Full windows as soon as 30 s are there, then the rest as the final window at EOS.
  while (samples.size() - pos >= kWindow) {
    auto r = t.transcribe_window(samples.data() + pos, kWindow, false);
    std::size_t consumed = std::min(r.consumed_samples, kWindow);
    if (consumed == 0) consumed = kWindow;
    emit(r, consumed, false);
    pos += consumed;
  }
  const std::size_t rest = samples.size() - pos;
  if (rest >= kMin) emit(t.transcribe_window(samples.data() + pos, rest, true), rest, true);
  return out;
}

std::vector<int> tokens_of(const GstStructure* s) {
  std::vector<int> ids;
  const GValue* arr = gst_structure_get_value(s, "tokens");
  if (!arr) return ids;
  for (guint i = 0; i < gst_value_array_get_size(arr); ++i) ids.push_back(g_value_get_int(gst_value_array_get_value(arr, i)));
  return ids;
}

}  // namespace npwtest
