// One stream's transcription, as seen from the worker thread: it owns the window accumulator, the
// runtime Transcriber and the window buffer pool, draws the Transcriber's mel and encoder tensors
// from the element's tensor pool, decides when a window is ready, and turns the
// runtime's Segments into the text stream (caps, segment, tags, GAPs, buffers with metas) and bus
// messages, all pushed in order from the worker. Exceptions from the runtime stop here.
#pragma once

#include <gst/audio/audio.h>
#include <gst/gst.h>

#include <atomic>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "decode/transcriber.h"
#include "npuwhisper_meta.h"
#include "npuwhisper_props.h"
#include "npuwhisper_file_vad.h"
#include "npuwhisper_live.h"
#include "npuwhisper_tensor_pool.h"
#include "npuwhisper_window.h"

namespace npwgst {

class Stream {
 public:
  // `latency_ms` is read before each decision (the property may change while playing). `tensors`
  // (the element's, outliving the stream) supplies the Transcriber's mel window and encoder output;
  // it is configured at caps negotiation and gets its buffers back on reset() and destruction.
  Stream(GstElement* element, GstPad* srcpad, std::unique_ptr<npw::Transcriber> transcriber,
         const std::atomic<guint>* latency_ms, TensorPool& tensors);
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Worker thread only; each takes ownership of its argument.
  void handle_buffer(GstBuffer* buffer);
  void handle_event(GstEvent* event);

  // Forgets all audio and decoding state (FLUSH_STOP) and returns the tensors to the pool. Only while
  // the worker is idle.
  void reset();

  // Abandons the window in flight, from any thread (FLUSH_START, stopping): the transcription
  // returns within one encoder or decoder step, outputs nothing, and every later item is dropped
  // until reset() (which clears the request) - only while the worker is idle.
  void cancel() {
    cancel_requested_at_.store(g_get_monotonic_time());
    cancel_.store(true);
  }

  // The last downstream result (FLUSHING, NOT_LINKED, EOS, ERROR stop the upstream too).
  GstFlowReturn flow() const { return flow_.load(); }

  const npw::Transcriber& transcriber() const { return *transcriber_; }

  // Stopping (the worker joined): the Transcriber, its tensors given back to the pool and its stop
  // flag detached, for the caller to free elsewhere (its threads and memory take tens of ms to
  // release: npuwhisper_teardown.h). It must outlive this Stream; nothing else may be called after.
  std::unique_ptr<npw::Transcriber> take_transcriber();

  // Words in metas and messages, one buffer per word, caption cues (before the stream starts).
  void set_captions(const CaptionSettings& captions) { captions_ = captions; }

  // Live mode (npuwhisper_live.h) is used from the first buffer on when config.settings.mode says
  // live, or says auto and *upstream_live (set by the element from the LATENCY query) is true.
  void set_live_config(const LiveConfig& config, const std::atomic<bool>* upstream_live);

 private:
  friend class LiveStream;
  bool live_active();

  void on_caps(GstEvent* event);
  void on_segment(GstEvent* event);
  void on_tag(GstEvent* event);
  void on_eos(GstEvent* event);
  void ensure_output_started();

  // Transcribes what is ready; with `drain` everything pending (EOS, discontinuity).
  void process(bool drain);
  // End of a stretch of continuous audio: transcribe the rest, then start the next with no context.
  void finish_and_forget();
  void forget_decoding_state();
  void run_window(std::size_t n, bool final);
  bool ensure_pool();
  bool ensure_tensor_pool();
  void emit_segment(const npw::Segment& seg, GstClockTime window_start, GstClockTime limit);
  // One text buffer covering [start_s, end_s] of the window (seconds), with `words` of it; false when
  // no time is left for it. With `message` the segment's bus message is posted for it too.
  bool emit_caption(const npw::Segment& seg, const std::string& text, double start_s, double end_s,
                    const std::vector<npw::Word>& words, GstClockTime window_start, GstClockTime limit, bool message);
  // Caption shaping (the max-* properties): the window's segments as cues, each cue a buffer with
  // its message.
  void emit_cues(const std::vector<npw::Segment>& segments, GstClockTime window_start, GstClockTime limit);
  // output=words: the segment's message, then one buffer per word.
  void emit_words(const npw::Segment& seg, GstClockTime window_start, GstClockTime limit);
  // `words` placed inside [start, end] on the output timeline, in order, never overlapping.
  std::vector<WordTimes> place_words(const std::vector<npw::Word>& words, GstClockTime window_start, GstClockTime start,
                                     GstClockTime end) const;
  void push_text(const std::string& text, GstClockTime start, GstClockTime end, const npw::Segment& seg,
                 const std::vector<WordTimes>* words);
  void update_language(const std::string& language);
  void push_gap_to(GstClockTime ts);
  void push_stream_tags();
  void push(GstEvent* event);

  // File mode with the voice gate: speech into the window, silence skipped (clock moved on, GAPs).
  bool file_vad_active();
  void feed_file_vad(std::vector<npw::GateChunk>& chunks);
  void drain_file_vad();

  GstClockTime ts_at(std::size_t sample_offset) const;  // time of a sample of the accumulator
  GstClockTime expected_next_ts() const;

  GstElement* element_;
  GstPad* srcpad_;
  CaptionSettings captions_;
  std::unique_ptr<npw::Transcriber> transcriber_;
  const std::atomic<guint>* latency_ms_;
  std::atomic<GstFlowReturn> flow_{GST_FLOW_OK};
  std::atomic<bool> cancel_{false};  // polled by the Transcriber; set by cancel(), cleared by reset()
  std::atomic<gint64> cancel_requested_at_{0};  // monotonic µs, for the debug log

  WindowAccumulator window_;
  GstBufferPool* pool_ = nullptr;
  TensorPool& tensors_;
  const std::vector<std::size_t> tensor_sizes_;  // what the Transcriber will ask the tensor pool for

  // output state
  GstSegment in_segment_;
  bool have_segment_ = false;
  bool sent_caps_ = false;
  bool sent_segment_ = false;
  GstTagList* upstream_tags_ = nullptr;
  std::string language_;       // current language ("" until known)
  std::string sent_language_;  // language of the last tag event
  GstClockTime out_pos_ = GST_CLOCK_TIME_NONE;  // end of the last caption or GAP pushed

  // timeline of the accumulator
  GstClockTime base_ts_ = GST_CLOCK_TIME_NONE;  // time of the sample `base_offset_` refers to
  guint64 flushed_ = 0;                         // samples dropped from the accumulator since base_ts_
  std::size_t since_attempt_ = 0;               // samples added since the last transcription

  // live mode
  LiveConfig live_config_;
  const std::atomic<bool>* upstream_live_ = nullptr;
  std::unique_ptr<LiveStream> live_;
  bool live_decided_ = false;

  // file mode with vad=true
  std::unique_ptr<FileVad> file_vad_;
  bool file_vad_decided_ = false;
  GstAudioFormat in_format_ = GST_AUDIO_FORMAT_F32LE;  // of upstream's buffers
  guint64 skipped_samples_ = 0;                        // silence never transcribed

  // statistics
  guint64 received_samples_ = 0;
  double processing_seconds_ = 0.0;
  guint64 segments_ = 0;
};

}  // namespace npwgst
