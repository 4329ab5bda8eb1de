// Shared helpers of the element tests: where the data is, a pipeline runner that collects what an
// appsink and the bus saw, and the reference the element must agree with - npw::Transcriber driven
// window by window over the same samples, the way the element drives it with latency=30000.
#pragma once

#include <gst/app/gstappsink.h>
#include <gst/check/gstcheck.h>
#include <gst/check/gstharness.h>

#include <string>
#include <vector>

namespace npw {
class BufferProvider;
}

namespace npwtest {

std::string data_path(const std::string& rel);  // under tests/data
std::string model_path();                        // tests/data/ggml-test-f32.bin

// Greedy decoding without temperature fallback: random weights fail every quality test, so the
// default ladder (beam 5, best-of 5, six temperatures) would decode each window many times over.
// The tests use these properties and the same options for the reference.
constexpr const char* kFastProps = "beam-size=0 temperature-fallback=0";

struct Caption {
  std::string text;
  GstClockTime pts = GST_CLOCK_TIME_NONE;
  GstClockTime duration = GST_CLOCK_TIME_NONE;
  GstStructure* meta = nullptr;  // copy of the NpuWhisperSegmentMeta structure, or nullptr
};

struct RunResult {
  std::vector<Caption> captions;
  std::vector<GstStructure*> segment_messages;  // "npuwhisper" element messages
  GstStructure* stats = nullptr;                // "npuwhisper-stats"
  std::vector<std::string> languages;           // language-code tags seen by the sink
  std::vector<GstMessage*> warnings;
  std::vector<GstMessage*> infos;
  GstMessage* error = nullptr;
  bool eos = false;
  guint gaps = 0;                                // GAP events that reached the appsink
  ~RunResult();
};

// Runs `description` (which must contain an appsink named "sink", unless `has_appsink` is false)
// to EOS or error. `on_running` is called once with the pipeline after the first segment message.
using RunHook = void (*)(GstElement* pipeline, void* data);
void run_pipeline(const std::string& description, RunResult& out, bool has_appsink = true,
                  RunHook after_first_caption = nullptr, void* hook_data = nullptr);

// 16 kHz mono samples of a WAV file as the element sees them after decodebin (int16 / 32768).
std::vector<float> read_wav(const std::string& path);

// Tokens of every caption the element emits for `samples` with kFastProps, computed with the
// runtime directly; its mel window and encoder output come from `buffers` when given.
// `backend` names the runtime backend (the element's default, auto, unless given).
std::vector<std::vector<int>> reference_tokens(const std::vector<float>& samples, npw::BufferProvider* buffers = nullptr,
                                               const std::string& backend = "auto");

// A bound on how long a test waits for something that must come (a caption, an event, a state):
// `seconds` times NPW_TEST_WAIT_SCALE (default 1). scripts/run-valgrind.sh raises the scale, as
// everything runs 20-50x slower under memcheck; these waits catch hangs, they time nothing.
GstClockTime wait_time(double seconds);
// False when NPW_TEST_WAIT_SCALE stretches the waits: nothing then runs in real time (a live step
// that takes 50 ms natively takes seconds under memcheck), so a test keeps its checks of what is
// emitted and in what order, and leaves those of when to the native runs.
bool timing_checked();
// GstHarness's gst_harness_pull*() give up after a fixed 60 s; these wait up to wait_time(seconds)
// and return nullptr when nothing came.
GstBuffer* pull_within(GstHarness* h, double seconds);
GstEvent* pull_event_within(GstHarness* h, double seconds);

// Tokens of a structure's "tokens" array.
std::vector<int> tokens_of(const GstStructure* s);

}  // namespace npwtest
