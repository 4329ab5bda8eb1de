// The live element over the scripted speech (runtime/stream/scripted_speech.h) behind the decoder's
// logit and alignment interfaces: the real encoder and decoder run each step, the real decoding
// policy and word timing turn the script back into words, and the element commits every word of
// the script exactly once, in order, at its spoken time. The element is built into this test so
// that the runtime's default window-model wrap set here is the one its Transcriber sees.
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "decode/transcriber.h"
#include "model/model.h"
#include "npw_gst_test.h"
#include "stream/scripted_speech.h"

GST_ELEMENT_REGISTER_DECLARE(npuwhisper);

namespace {

constexpr int kRate = 16000;
constexpr std::size_t kChunk = 1600;  // 100 ms

std::vector<npw::ScriptedWord> g_script;
std::atomic<npw::ScriptedSpeech*> g_speech{nullptr};

// The real networks, each encode made slow as on a loaded machine or a CPU too slow for the step,
// or one encode (the stall_at-th, from 0) stalled as a device or a swapped-out process would.
class SlowNetworks : public npw::WindowModel {
 public:
  SlowNetworks(std::unique_ptr<npw::WindowModel> inner, int delay_ms, int stall_at = -1, int stall_ms = 0)
      : inner_(std::move(inner)), delay_ms_(delay_ms), stall_at_(stall_at), stall_ms_(stall_ms) {}
  void encode(const float* mel, float* out) override {
    const int ms = delay_ms_ + (encodes_++ == stall_at_ ? stall_ms_ : 0);
    g_usleep(static_cast<gulong>(ms) * 1000);
    inner_->encode(mel, out);
  }
  void place(std::uint64_t first, std::size_t n) override { inner_->place(first, n); }
  npw::LogitSource& logits() override { return inner_->logits(); }
  npw::AlignmentSource* alignment() override { return inner_->alignment(); }
  std::string backend_kind() const override { return inner_->backend_kind(); }
  void set_cancel(const std::atomic<bool>* flag) override { inner_->set_cancel(flag); }

 private:
  std::unique_ptr<npw::WindowModel> inner_;
  int delay_ms_;
  int stall_at_, stall_ms_;
  int encodes_ = 0;
};

// The script of `seconds` spoken over the element's real networks, their `stall_at`-th encode (from
// 0; -1: none) stalled for `stall_ms`.
void install_script(double seconds, int stall_at = -1, int stall_ms = 0) {
  g_script = npw::make_word_script(seconds);
  npw::set_default_window_model_wrap([stall_at, stall_ms](std::unique_ptr<npw::WindowModel> networks) {
    // The element's Transcriber holds the model; the scripted speech needs only its vocabulary.
    static std::shared_ptr<const npw::Model> model = npw::Model::load(npwtest::model_path());
    if (stall_at >= 0) networks = std::make_unique<SlowNetworks>(std::move(networks), 0, stall_at, stall_ms);
    auto s = std::make_unique<npw::ScriptedSpeech>(*model, g_script, std::move(networks));
    g_speech = s.get();
    return std::unique_ptr<npw::WindowModel>(std::move(s));
  });
}

GstClockTime latency_now(GstHarness* h) { return gst_harness_query_latency(h); }

// The element in live mode behind a live upstream (20 ms of latency), the voice gate off (the audio
// is silence or noise; the script speaks), its messages on `bus` when one is given, decoding greedy
// without fallback when asked (set before it starts: decoding settings are refused while playing).
GstHarness* new_live_harness(const char* latency_ms, GstBus* bus = nullptr, bool greedy = false) {
  GstElement* e = gst_element_factory_make("npuwhisper", nullptr);
  fail_unless(e != nullptr);
  g_object_set(e, "model", npwtest::model_path().c_str(), nullptr);
  if (greedy) g_object_set(e, "beam-size", 0, "temperature-fallback", 0.0f, nullptr);
  gst_util_set_object_arg(G_OBJECT(e), "mode", "live");
  gst_util_set_object_arg(G_OBJECT(e), "latency", latency_ms);
  gst_util_set_object_arg(G_OBJECT(e), "vad", "false");
  if (bus) gst_element_set_bus(e, bus);
  GstHarness* h = gst_harness_new_with_element(e, "sink", "src");
  gst_object_unref(e);
  gst_harness_set_upstream_latency(h, 20 * GST_MSECOND);  // a live upstream: queued audio is delay
  gst_harness_set_src_caps_str(h, "audio/x-raw, format=F32LE, rate=16000, channels=1, layout=interleaved");
  return h;
}

// `seconds` of `chunk` in 100 ms buffers, `sleep_ms` apart.
void push_live(GstHarness* h, const std::vector<float>& chunk, std::size_t seconds, int sleep_ms) {
  for (std::size_t i = 0; i < seconds * kRate; i += kChunk) {
    GstBuffer* b = gst_buffer_new_memdup(chunk.data(), kChunk * sizeof(float));
    GST_BUFFER_PTS(b) = gst_util_uint64_scale_int(i, GST_SECOND, kRate);
    GST_BUFFER_DURATION(b) = gst_util_uint64_scale_int(kChunk, GST_SECOND, kRate);
    fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
    g_usleep(static_cast<gulong>(sleep_ms) * 1000);
  }
}

// Silence for `seconds`, then the script's end and EOS.
void speak_script(GstHarness* h, std::size_t seconds, int sleep_ms) {
  push_live(h, std::vector<float>(kChunk, 0.0f), seconds, sleep_ms);
  fail_unless(g_speech.load() != nullptr, "the element did not use the scripted speech");
  g_speech.load()->set_final(true);
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
}

// Every word of the script committed once, in order, none as a partial, each at its spoken time:
// not before the window that heard it started, at most the element's own announced latency after
// it (as it stands at the end: it only grows during a stream; a late word is placed at the
// latency's floor). The times are not checked where the waits are stretched (timing_checked()).
void check_script_committed(GstHarness* h) {
  const double announced = static_cast<double>(gst_harness_query_latency(h)) / GST_SECOND;
  std::vector<std::string> words;
  std::size_t n_words = 0;
  GstClockTime prev = 0;
  while (GstBuffer* b = gst_harness_try_pull(h)) {
    GstMapInfo m;
    fail_unless(gst_buffer_map(b, &m, GST_MAP_READ));
    const std::string text(reinterpret_cast<const char*>(m.data), m.size);
    gst_buffer_unmap(b, &m);
    fail_if(GST_BUFFER_FLAG_IS_SET(b, GST_BUFFER_FLAG_DELTA_UNIT), "a partial without partials=true");
    fail_unless(GST_BUFFER_PTS(b) >= prev, "'%s' out of order", text.c_str());
    prev = GST_BUFFER_PTS(b);
    const std::size_t k = n_words;
    if (npwtest::timing_checked() && k < g_script.size() && text.rfind(g_script[k].text.substr(1), 0) == 0) {
      const double pts = static_cast<double>(GST_BUFFER_PTS(b)) / GST_SECOND;
      fail_unless(pts >= g_script[k].start - 0.5 && pts <= g_script[k].start + announced,
                  "'%s' at %.2f s, spoken at %.2f s (latency %.2f s)", text.c_str(), pts, g_script[k].start, announced);
    }
    n_words += 1 + static_cast<std::size_t>(std::count(text.begin(), text.end(), ' '));
    words.push_back(text);
    gst_buffer_unref(b);
  }
  // Words committed late (past the latency's floor, as on a loaded machine) share one buffer: the
  // text, not the buffer count, is what must match.
  std::string got, want;
  for (const std::string& w : words) got += " " + w;
  for (const npw::ScriptedWord& w : g_script) want += w.text;
  fail_unless(got == want, "committed:%s\nthe script:%s", got.c_str(), want.c_str());
}

}  // namespace

// Steps slower than `latency`: the LATENCY answer grows to what a step really takes (so captions
// are on time for the sinks that schedule by it), a LATENCY message says so, it never shrinks during
// the stream, and a new stream starts from the configured answer again.
GST_START_TEST(test_slow_steps_raise_the_announced_latency) {
  npw::set_default_window_model_wrap([](std::unique_ptr<npw::WindowModel> networks) {
    return std::unique_ptr<npw::WindowModel>(std::make_unique<SlowNetworks>(std::move(networks), 700));
  });
  GstBus* bus = gst_bus_new();
  GstHarness* h = new_live_harness("200", bus, true);
  // Configured: upstream + 3 x 0.2 s + 1.5 s.
  const GstClockTime configured = 20 * GST_MSECOND + 2100 * GST_MSECOND;
  fail_unless_equals_uint64(latency_now(h), configured);
  gst_bus_set_flushing(bus, TRUE);
  gst_bus_set_flushing(bus, FALSE);

  std::vector<float> noise(kChunk);
  for (std::size_t i = 0; i < kChunk; ++i) noise[i] = 0.01f * static_cast<float>((i * 7919) % 200) / 200.0f;
  GstClockTime answer = configured;
  bool announced = false;
  // The allowance is measured from the 4th step: on an idle machine that is ~3 s in; on a loaded one
  // (or under valgrind) steps take longer, so audio keeps coming until the message or the deadline.
  const gint64 deadline = g_get_monotonic_time() + static_cast<gint64>(npwtest::wait_time(30.0) / GST_USECOND);
  for (std::size_t i = 0; !announced && g_get_monotonic_time() < deadline; i += kChunk) {
    GstBuffer* b = gst_buffer_new_memdup(noise.data(), kChunk * sizeof(float));
    GST_BUFFER_PTS(b) = gst_util_uint64_scale_int(i, GST_SECOND, kRate);
    GST_BUFFER_DURATION(b) = gst_util_uint64_scale_int(kChunk, GST_SECOND, kRate);
    fail_unless_equals_int(gst_harness_push(h, b), GST_FLOW_OK);
    g_usleep(100 * 1000);
    if (GstMessage* m = gst_bus_pop_filtered(bus, GST_MESSAGE_LATENCY)) {
      gst_message_unref(m);
      announced = true;
    }
  }
  fail_unless(announced, "no LATENCY message in 30 s of steps that each take over 0.7 s");
  answer = latency_now(h);
  // At least 3 x (0.7 s x 1.2 headroom) + 1.5 s; at most what a 10 s step would give.
  fail_unless(answer >= 20 * GST_MSECOND + 4020 * GST_MSECOND, "latency %" GST_TIME_FORMAT " after slow steps",
              GST_TIME_ARGS(answer));
  fail_unless(answer <= 20 * GST_MSECOND + 31500 * GST_MSECOND);
  // The configured step changed while playing: the measured allowance still holds the answer up.
  g_object_set(h->element, "latency", 300u, nullptr);
  fail_unless_equals_uint64(latency_now(h), answer);
  fail_unless(gst_harness_push_event(h, gst_event_new_eos()));
  fail_unless(latency_now(h) >= answer);

  // A new stream (READY and back) is measured afresh.
  gst_element_set_state(h->element, GST_STATE_READY);
  gst_element_set_state(h->element, GST_STATE_PLAYING);
  fail_unless_equals_uint64(latency_now(h), 20 * GST_MSECOND + 2400 * GST_MSECOND);
  gst_harness_teardown(h);
  npw::set_default_window_model_wrap({});
  gst_bus_set_flushing(bus, TRUE);
  gst_object_unref(bus);
}
GST_END_TEST;

// A 3 s stall of the networks in the middle of live speech: the element says how far behind it
// fell (a warning and a QoS message with the delay, the max-delay property), commits what it has and
// catches up, and still gives every word of the script once, in order, at its spoken time.
GST_START_TEST(test_a_stall_is_reported_and_nothing_is_lost_or_reordered) {
  install_script(8.0, 3, 3000);
  GstBus* bus = gst_bus_new();
  GstHarness* h = new_live_harness("500", bus);
  speak_script(h, 9, 100);  // real time
  check_script_committed(h);
  guint64 max_delay = 0;
  g_object_get(h->element, "max-delay", &max_delay, nullptr);
  fail_unless(max_delay >= 3 * GST_SECOND, "max-delay %" GST_TIME_FORMAT " after a 3 s stall", GST_TIME_ARGS(max_delay));
  bool behind = false, qos = false;
  while (GstMessage* msg = gst_bus_pop(bus)) {
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_WARNING) {
      GError* err = nullptr;
      gst_message_parse_warning(msg, &err, nullptr);
      behind = behind || std::string(err->message).find("behind") != std::string::npos;
      g_error_free(err);
    }
    if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_QOS) {
      gint64 jitter = 0;
      gst_message_parse_qos_values(msg, &jitter, nullptr, nullptr);
      qos = qos || jitter >= 3 * static_cast<gint64>(GST_SECOND);
    }
    gst_message_unref(msg);
  }
  fail_unless(behind, "no warning about the delay");
  fail_unless(qos, "no QoS message with the delay");
  gst_harness_teardown(h);
  npw::set_default_window_model_wrap({});
  g_speech = nullptr;
  gst_bus_set_flushing(bus, TRUE);
  gst_object_unref(bus);
}
GST_END_TEST;

GST_START_TEST(test_scripted_speech_is_committed_once_in_order_at_its_time) {
  install_script(6.0);
  GstHarness* h = new_live_harness("1000");
  // Twice real time, as a capture source would deliver with some slack.
  speak_script(h, 7, 50);
  check_script_committed(h);
  gst_harness_teardown(h);
  npw::set_default_window_model_wrap({});
  g_speech = nullptr;
}
GST_END_TEST;

// Words a model can emit that would break a subtitle file downstream (srtenc and webvttenc write a
// buffer's text as it is): a blank line ends a cue, a "-->" reads as a timing line. The element's
// captions carry neither; the rest of the text is kept. File mode, whole segments: live mode commits
// words, and a word of punctuation alone (" -->" splits into " --" and ">") is never committed.
GST_START_TEST(test_captions_never_break_a_subtitle_cue) {
  g_script = {{" Look", 0.5, 0.85}, {" a-->b", 1.0, 1.35}, {" here.\n\n", 1.5, 1.85}, {"\n\nThen", 2.0, 2.35},
              {" stop.", 2.5, 2.85}};
  npw::set_default_window_model_wrap([](std::unique_ptr<npw::WindowModel> networks) {
    static std::shared_ptr<const npw::Model> model = npw::Model::load(npwtest::model_path());
    auto sp = std::make_unique<npw::ScriptedSpeech>(*model, g_script, std::move(networks));
    g_speech = sp.get();
    return std::unique_ptr<npw::WindowModel>(std::move(sp));
  });
  GstElement* e = gst_element_factory_make("npuwhisper", nullptr);
  fail_unless(e != nullptr);
  // Greedy, and nothing suppressed: the default set holds " --".
  g_object_set(e, "model", npwtest::model_path().c_str(), "beam-size", 0, "temperature-fallback", 0.0f,
               "suppress-tokens", "", nullptr);
  gst_util_set_object_arg(G_OBJECT(e), "mode", "file");
  gst_util_set_object_arg(G_OBJECT(e), "vad", "false");
  GstHarness* h = gst_harness_new_with_element(e, "sink", "src");
  gst_object_unref(e);
  gst_harness_set_src_caps_str(h, "audio/x-raw, format=F32LE, rate=16000, channels=1, layout=interleaved");
  speak_script(h, 4, 0);
  std::string got;
  while (GstBuffer* b = gst_harness_try_pull(h)) {
    GstMapInfo m;
    fail_unless(gst_buffer_map(b, &m, GST_MAP_READ));
    const std::string text(reinterpret_cast<const char*>(m.data), m.size);
    gst_buffer_unmap(b, &m);
    gst_buffer_unref(b);
    fail_if(text.find("-->") != std::string::npos, "a caption holds '-->': '%s'", text.c_str());
    fail_if(text.find("\n\n") != std::string::npos || text.find('\r') != std::string::npos,
            "a caption holds a blank line: '%s'", text.c_str());
    fail_if(text.empty() || text.front() == ' ' || text.back() == ' ' || text.back() == '\n',
            "caption '%s' not stripped", text.c_str());
    got += (got.empty() ? "" : "|") + text;
  }
  fail_unless(got == "Look a->b here.\nThen stop.", "captions: '%s'", got.c_str());
  gst_harness_teardown(h);
  npw::set_default_window_model_wrap({});
  g_speech = nullptr;
}
GST_END_TEST;

static Suite* npuwhisper_live_scripted_suite() {
  GST_ELEMENT_REGISTER(npuwhisper, nullptr);
  Suite* s = suite_create("npuwhisper-live-scripted");
  TCase* tc = tcase_create("general");
  tcase_set_timeout(tc, 120);
  suite_add_tcase(s, tc);
  tcase_add_test(tc, test_scripted_speech_is_committed_once_in_order_at_its_time);
  tcase_add_test(tc, test_slow_steps_raise_the_announced_latency);
  tcase_add_test(tc, test_a_stall_is_reported_and_nothing_is_lost_or_reordered);
  tcase_add_test(tc, test_captions_never_break_a_subtitle_cue);
  return s;
}

GST_CHECK_MAIN(npuwhisper_live_scripted);
