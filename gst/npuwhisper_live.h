// Live mode of the element's stream: audio through the voice gate into the live transcript, a step
// every `latency` ms on the worker thread, committed words out as text buffers in input time, GAPs
// that advance with the audio received, and the real-time guard (a late step covers all audio that
// arrived; a backlog commits what it has, posts QoS and a warning). The maths is in runtime/stream;
// this file only times, labels and pushes.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "npuwhisper_live_props.h"
#include "stream/live_timing.h"
#include "stream/live_transcript.h"
#include "stream/step_allowance.h"
#include "stream/voice_gate.h"

namespace npwgst {

class Stream;

struct LiveConfig {
  LiveSettings settings;                       // fixed while running
  const std::atomic<guint>* latency_ms = nullptr;   // the `latency` property (0: automatic)
  const std::atomic<guint>* lateness_ms = nullptr;  // may change while playing
  std::atomic<guint64>* max_delay = nullptr;        // the read-only `max-delay` property
  std::atomic<guint>* step_allowance_ms = nullptr;   // the step the LATENCY answer allows for
  std::function<std::size_t()> pending_bytes;        // audio queued for the worker, not yet handled
  // Upstream is live: audio waiting in the queue is then time we are behind. A non-live upstream
  // (a file played or simulated live) fills the queue ahead of the clock, which is no backlog.
  const std::atomic<bool>* upstream_live = nullptr;
};

class LiveStream {
 public:
  // Throws npw::Error when the voice gate cannot be set up (settings, missing library).
  LiveStream(Stream& stream, const LiveConfig& config);

  void handle_buffer(GstBuffer* buffer);  // takes ownership
  // No audio for a while (GAP in) or a new timeline (SEGMENT, discontinuity): commit the utterance
  // the next stretch starts with the next buffer.
  void end_stretch();
  void drain();  // EOS: everything held is transcribed and committed
  void reset();  // FLUSH: forget everything

 private:
  void start_stretch(GstClockTime base);
  void feed(const float* samples, std::size_t n);
  void maybe_step();
  void run_step(std::size_t pending_samples);
  void finish_utterance();
  void emit(const std::vector<npw::Word>& words, bool stable);
  void push_text(const std::vector<npw::Word>& words, bool stable);
  void push_gap_until(double seconds);
  void report_backlog(double delay, double processing, double covered);
  void measure_step(double processing);

  GstClockTime in_time(double seconds) const;  // stream clock -> input running position
  GstClockTime shifted(GstClockTime t) const;  // + lateness
  double received_seconds() const;
  // Audio queued behind us, counted as backlog when upstream is live or when we are behind the
  // pipeline clock (a file played to synced sinks); otherwise upstream is just ahead of real time.
  std::size_t pending_samples() const;
  bool behind_clock() const;
  double step_seconds() const;
  npw::LiveTiming timing() const;

  Stream& s_;
  LiveConfig c_;
  std::unique_ptr<npw::Recognizer> recognizer_;
  npw::LiveTranscript transcript_;
  std::unique_ptr<npw::VoiceGate> gate_;
  npw::StepAllowance allowance_;
  std::vector<float> scratch_;

  GstClockTime base_ts_ = GST_CLOCK_TIME_NONE;  // input time of stream sample 0
  std::uint64_t received_ = 0;                  // samples of this stretch received
  std::size_t since_step_ = 0;                  // samples appended since the last step
  std::size_t bytes_per_sample_ = sizeof(float);  // of the queued input (for the backlog in samples)
  bool behind_ = false;                         // inside a backlog excursion (warned once)
  double floor_ = 0.0;                          // no output starts before this (stream seconds)
};

}  // namespace npwgst
