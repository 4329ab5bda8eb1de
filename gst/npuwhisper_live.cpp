// See npuwhisper_live.h. Times: the live transcript counts samples from the start of a stretch of
// continuous audio (base_ts_, in the input segment's time); words come back in seconds on that
// clock. Output PTS = base_ts_ + word start, never before what was already pushed nor before the
// floor that keeps every buffer inside the latency the element announced, then + lateness.
#include "npuwhisper_live.h"

#include <gst/audio/audio.h>

#include <algorithm>
#include <cmath>
#include <exception>
#include <limits>
#include <string>

#include "npuwhisper_meta.h"
#include "npuwhisper_stream.h"
#include "decode/caption_cues.h"
#include "util/error.h"

GST_DEBUG_CATEGORY_EXTERN(npuwhisper_debug);
#define GST_CAT_DEFAULT npuwhisper_debug

namespace npwgst {

namespace {

constexpr int kRate = 16000;
// Behind, the words of the last hypothesis are committed without agreement, except its last second.
constexpr double kUnreliableTail = npw::kUnreliableTailSeconds;

npw::LiveSettings transcript_settings(const LiveSettings& s) {
  npw::LiveSettings t;
  t.trim_seconds = s.buffer_ms / 1000.0;
  t.agreement.commit_confident = s.commit_confident;
  return t;
}

bool sentence_final(const std::string& word) {
  std::size_t e = word.find_last_not_of(" \"')]\xC2\xBB");
  if (e == std::string::npos) return false;
  const char c = word[e];
  if (c == '.' || c == '?' || c == '!') return true;
  // 。？！… (UTF-8)
  static const char* const kFinals[] = {"\xE3\x80\x82", "\xEF\xBC\x9F", "\xEF\xBC\x81", "\xE2\x80\xA6"};
  for (const char* f : kFinals) {
    const std::string s(f);
    if (e + 1 >= s.size() && word.compare(e + 1 - s.size(), s.size(), s) == 0) return true;
  }
  return false;
}

}  // namespace

LiveStream::LiveStream(Stream& stream, const LiveConfig& config)
    : s_(stream),
      c_(config),
      recognizer_(std::make_unique<npw::TranscriberRecognizer>(*stream.transcriber_)),
      transcript_(*recognizer_, transcript_settings(config.settings)),
      allowance_(live_step_ms(config.latency_ms->load()) / 1000.0) {
  if (c_.settings.vad) {
    npw::GateSettings g;
    g.start_ms = static_cast<int>(c_.settings.vad_start_ms);
    g.end_ms = static_cast<int>(c_.settings.vad_end_ms);
    g.padding_ms = static_cast<int>(c_.settings.vad_padding_ms);
    g.aggressiveness = c_.settings.vad_aggressiveness;
    gate_ = std::make_unique<npw::VoiceGate>(g);
  }
}

double LiveStream::step_seconds() const { return live_step_ms(c_.latency_ms->load()) / 1000.0; }

npw::LiveTiming LiveStream::timing() const {
  // The step a word may wait for is what a step really takes when that is longer than `latency`:
  // the same rule as the LATENCY answer, so the floor and the deadline keep its promise.
  const double step = std::max(step_seconds(), allowance_.seconds());
  return npw::LiveTiming{step, c_.settings.vad ? c_.settings.vad_start_ms / 1000.0 : 0.0};
}

void LiveStream::measure_step(double processing) {
  allowance_.set_step(step_seconds());
  if (!allowance_.add(processing)) return;
  const guint ms = static_cast<guint>(std::lround(allowance_.measured() * 1000.0));
  if (c_.step_allowance_ms) c_.step_allowance_ms->store(ms);
  GST_INFO_OBJECT(s_.element_,
                  "live steps take %.2f s (about their 95th percentile), more than the %.2f s step: latency now "
                  "allows %.2f s per step",
                  allowance_.estimate(), step_seconds(), allowance_.seconds());
  // Sinks re-query and re-schedule; until then a late caption is dropped or shown late, so this is
  // posted as soon as it is known.
  gst_element_post_message(s_.element_, gst_message_new_latency(GST_OBJECT(s_.element_)));
}

std::size_t LiveStream::pending_samples() const {
  if (!c_.pending_bytes) return 0;
  const bool live = c_.upstream_live && c_.upstream_live->load();
  if (!live && !behind_clock()) return 0;
  return c_.pending_bytes() / bytes_per_sample_;
}

bool LiveStream::behind_clock() const {
  GstClock* clock = gst_element_get_clock(s_.element_);
  if (!clock) return false;
  const GstClockTime now = gst_clock_get_time(clock);
  gst_object_unref(clock);
  const GstClockTime base = gst_element_get_base_time(s_.element_);
  if (GST_STATE(s_.element_) != GST_STATE_PLAYING || !GST_CLOCK_TIME_IS_VALID(base) || now < base) return false;
  const GstClockTime rt = gst_segment_to_running_time(&s_.in_segment_, GST_FORMAT_TIME, in_time(received_seconds()));
  if (!GST_CLOCK_TIME_IS_VALID(rt)) return false;
  // The text stream trails the audio we handled by latency - 2 steps; once that point is due on
  // the clock, downstream (textoverlay, a synced sink) is already waiting for us.
  const double trail = -timing().deadline(0.0);
  return static_cast<double>(now - base) / GST_SECOND > static_cast<double>(rt) / GST_SECOND - trail;
}

double LiveStream::received_seconds() const { return static_cast<double>(received_) / kRate; }

GstClockTime LiveStream::in_time(double seconds) const {
  if (!(seconds > 0.0)) return base_ts_;
  return base_ts_ + static_cast<GstClockTime>(std::llround(seconds * GST_SECOND));
}

GstClockTime LiveStream::shifted(GstClockTime t) const {
  return t + static_cast<GstClockTime>(c_.lateness_ms->load()) * GST_MSECOND;
}

void LiveStream::start_stretch(GstClockTime base) {
  base_ts_ = base;
  received_ = 0;
  since_step_ = 0;
  floor_ = 0.0;
  transcript_.reset();
  if (gate_) gate_->reset();
  if (!GST_CLOCK_TIME_IS_VALID(s_.out_pos_)) {
    // An empty GAP at the start lets sinks preroll without waiting for the first word.
    s_.out_pos_ = shifted(base);
    s_.push(gst_event_new_gap(s_.out_pos_, 0));
  }
}

void LiveStream::handle_buffer(GstBuffer* buffer) {
  const GstClockTime pts = GST_BUFFER_PTS(buffer);
  const bool discont = GST_BUFFER_IS_DISCONT(buffer);
  if (!GST_CLOCK_TIME_IS_VALID(base_ts_)) {
    start_stretch(GST_CLOCK_TIME_IS_VALID(pts) ? pts : s_.in_segment_.start);
  } else {
    const GstClockTime expected = in_time(received_seconds());
    const bool jumped = GST_CLOCK_TIME_IS_VALID(pts) && (pts > expected ? pts - expected : expected - pts) > GST_SECOND;
    if (discont || jumped) {
      GST_DEBUG_OBJECT(s_.element_, "live: discontinuity at %" GST_TIME_FORMAT, GST_TIME_ARGS(pts));
      end_stretch();
      start_stretch(GST_CLOCK_TIME_IS_VALID(pts) ? pts : expected);
    }
  }
  const std::size_t bytes = gst_buffer_get_size(buffer);
  const std::size_t n = s_.window_.push(buffer);
  if (n == 0) return;
  scratch_.resize(n);
  s_.window_.fill(scratch_.data(), n);
  s_.window_.flush(n);
  s_.received_samples_ += n;
  received_ += n;
  feed(scratch_.data(), n);
  bytes_per_sample_ = std::max<std::size_t>(1, bytes / n);
  maybe_step();
}

void LiveStream::feed(const float* samples, std::size_t n) {
  if (!gate_) {
    transcript_.append(samples, n);
    since_step_ += n;
    return;
  }
  std::vector<npw::GateChunk> chunks;
  gate_->push(samples, n, chunks);
  for (npw::GateChunk& c : chunks) {
    if (s_.flow_ != GST_FLOW_OK) return;
    if (c.speech) {
      transcript_.append(c.samples.data(), c.samples.size());
      since_step_ += c.samples.size();
      continue;
    }
    if (c.utterance_end) finish_utterance();
    if (c.samples.empty()) continue;
    // Nobody speaks: no decoding, and downstream learns that nothing is coming for this time.
    transcript_.skip(c.samples.size());
    push_gap_until(static_cast<double>(transcript_.end()) / kRate);
  }
}

void LiveStream::maybe_step() {
  if (transcript_.buffered() == 0 || s_.flow_ != GST_FLOW_OK) return;
  const std::size_t step = static_cast<std::size_t>(step_seconds() * kRate);
  if (since_step_ < step) return;
  const std::size_t pending = pending_samples();
  // More than a step already waits behind this buffer: take it in first, so one step covers all
  // the audio that arrived instead of a queue of stale steps (up to a full buffer).
  if (pending >= step && transcript_.buffered() < npw::LiveTranscript::kMaxBuffer) return;
  run_step(pending);
}

void LiveStream::run_step(std::size_t pending_samples) {
  const double covered = static_cast<double>(transcript_.buffered()) / kRate;
  const std::size_t overflows = transcript_.overflows();
  std::vector<npw::Word> words;
  const gint64 t0 = g_get_monotonic_time();
  try {
    words = transcript_.step();
  } catch (const std::exception& e) {
    GST_ELEMENT_ERROR(s_.element_, STREAM, FAILED, ("Live transcription failed: %s", e.what()),
                      ("%.2f s of audio at %" GST_TIME_FORMAT, covered,
                       GST_TIME_ARGS(in_time(static_cast<double>(transcript_.buffer_start()) / kRate))));
    s_.flow_ = GST_FLOW_ERROR;
    return;
  }
  const double processing = static_cast<double>(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
  s_.processing_seconds_ += processing;
  since_step_ = 0;
  measure_step(processing);

  // The audio that arrived while we worked is as old as the step is long; what still waits in the
  // queue is older than that.
  const double delay = processing + static_cast<double>(pending_samples) / kRate;
  if (c_.max_delay) {
    const auto d = static_cast<guint64>(delay * GST_SECOND);
    guint64 prev = c_.max_delay->load();
    while (d > prev && !c_.max_delay->compare_exchange_weak(prev, d)) {
    }
  }
  const double step = step_seconds();
  GST_DEBUG_OBJECT(s_.element_, "live step: %.2f s of audio in %.3f s, %zu word(s) committed, delay %.2f s", covered,
                   processing, words.size(), delay);
  const double bound = std::max(2.0, 2.0 * step);
  if (delay > bound || transcript_.overflows() != overflows) {
    // Behind: what the last hypothesis says is committed now rather than waiting for agreement.
    for (npw::Word& w : transcript_.commit_until(static_cast<double>(transcript_.end()) / kRate - kUnreliableTail))
      words.push_back(std::move(w));
    report_backlog(delay, processing, covered);
  } else if (delay < bound / 2) {
    behind_ = false;
  }

  // Audio that has arrived (received, or queued for us) - the announced latency bounds every PTS:
  // buffers pushed now (by the next step at the latest) keep PTS + latency ahead of the clock.
  const double arrived = received_seconds() + static_cast<double>(pending_samples) / kRate;
  const npw::LiveTiming timing = this->timing();
  floor_ = std::max(floor_, timing.floor_now(arrived));
  const double next_floor = timing.deadline(arrived);
  // The deadline commits without agreement, but not the hypothesis' unreliable last second: a word
  // there waits for agreement and is then placed at the floor (late, but never wrong).
  const double reliable = static_cast<double>(transcript_.end()) / kRate - kUnreliableTail;
  for (npw::Word& w : transcript_.commit_until(std::min(next_floor, reliable))) words.push_back(std::move(w));
  emit(words, true);
  if (c_.settings.partials && !transcript_.tentative().empty() && s_.flow_ == GST_FLOW_OK)
    push_text(transcript_.tentative(), false);
  push_gap_until(std::min(next_floor, received_seconds()));
}

void LiveStream::report_backlog(double delay, double processing, double covered) {
  if (behind_) return;
  behind_ = true;
  GST_ELEMENT_WARNING(s_.element_, STREAM, FAILED,
                      ("Live captions fell %.2f s behind the audio; committing what was heard and catching up", delay),
                      ("a step took %.2f s for %.2f s of audio (step %.2f s)", processing, covered, step_seconds()));
  const GstClockTime ts = in_time(received_seconds());
  GstMessage* qos = gst_message_new_qos(GST_OBJECT(s_.element_), TRUE,
                                        gst_segment_to_running_time(&s_.in_segment_, GST_FORMAT_TIME, ts),
                                        gst_segment_to_stream_time(&s_.in_segment_, GST_FORMAT_TIME, ts), ts,
                                        static_cast<GstClockTime>(covered * GST_SECOND));
  gst_message_set_qos_values(qos, static_cast<gint64>(delay * GST_SECOND), processing / step_seconds(), 1000000);
  gst_element_post_message(s_.element_, qos);
}

void LiveStream::finish_utterance() {
  if (transcript_.buffered() > 0) {
    // The last words get one more, final look with all the audio of the utterance.
    run_step(pending_samples());
    if (s_.flow_ != GST_FLOW_OK) return;
  }
  std::vector<npw::Word> tail = transcript_.finish();
  emit(tail, true);
  if (!tail.empty() && !sentence_final(tail.back().word) && s_.flow_ == GST_FLOW_OK)
    s_.push(gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM, gst_structure_new_empty("rstranscribe/final-transcript")));
}

void LiveStream::emit(const std::vector<npw::Word>& words, bool stable) {
  if (words.empty()) return;
  if (c_.settings.output == LIVE_OUTPUT_STEPS) {
    push_text(words, stable);
    if (sentence_final(words.back().word) && s_.flow_ == GST_FLOW_OK)
      s_.push(gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM, gst_structure_new_empty("rstranscribe/final-transcript")));
    return;
  }
  // Words that ended before the floor (committed late: a backlog, a deadline) would all be placed at
  // the floor with no time of their own; they go out as one buffer there instead of a burst of
  // zero-length ones nobody could read.
  std::vector<npw::Word> late;
  bool late_final = false;
  auto push_late = [&] {
    if (late.empty()) return;
    push_text(late, stable);
    if (late_final && s_.flow_ == GST_FLOW_OK)
      s_.push(gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM, gst_structure_new_empty("rstranscribe/final-transcript")));
    late.clear();
    late_final = false;
  };
  for (const npw::Word& w : words) {
    if (s_.flow_ != GST_FLOW_OK) return;
    if (w.end <= floor_) {
      late.push_back(w);
      late_final = late_final || sentence_final(w.word);
      continue;
    }
    push_late();
    if (s_.flow_ != GST_FLOW_OK) return;
    push_text({w}, stable);
    if (sentence_final(w.word) && s_.flow_ == GST_FLOW_OK)
      s_.push(gst_event_new_custom(GST_EVENT_CUSTOM_DOWNSTREAM, gst_structure_new_empty("rstranscribe/final-transcript")));
  }
  push_late();
}

void LiveStream::push_text(const std::vector<npw::Word>& words, bool stable) {
  npw::Segment seg;
  for (const npw::Word& w : words) {
    seg.text += w.word;
    seg.tokens.insert(seg.tokens.end(), w.tokens.begin(), w.tokens.end());
    seg.token_probs.insert(seg.token_probs.end(), w.tokens.size(), w.probability);
  }
  const std::string text = npw::caption_text(seg.text);
  if (text.empty()) return;
  seg.start = words.front().start;
  seg.end = words.back().end;
  seg.words = words;
  // Input time, kept inside the latency promise and after what was pushed, never past the audio.
  const double audio_end = received_seconds();
  const double start_s = std::min(std::max(seg.start, floor_), audio_end);
  // A word moved later by the floor keeps its own length.
  const double end_s = std::min(std::max(seg.end, start_s + (seg.end - seg.start)), audio_end);
  GstClockTime start = shifted(in_time(start_s));
  GstClockTime end = shifted(in_time(end_s));
  if (GST_CLOCK_TIME_IS_VALID(s_.out_pos_)) {
    start = std::max(start, s_.out_pos_);
    end = std::max(end, start);
  }
  if (stable && GST_CLOCK_TIME_IS_VALID(s_.out_pos_) && start > s_.out_pos_)
    s_.push(gst_event_new_gap(s_.out_pos_, start - s_.out_pos_));

  GstBuffer* buffer = gst_buffer_new_memdup(text.data(), text.size());
  GST_BUFFER_PTS(buffer) = start;
  GST_BUFFER_DURATION(buffer) = end - start;
  if (!stable) GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT);
  const SegmentTimes times{start, end};
  add_segment_meta(buffer, seg, times, s_.language_);
  if (GstCustomMeta* meta = gst_buffer_get_custom_meta(buffer, kSegmentMetaName))
    gst_structure_set(gst_custom_meta_get_structure(meta), "stable", G_TYPE_BOOLEAN, stable, nullptr);
  GstMessage* msg = segment_message(GST_OBJECT(s_.element_), seg, times, text, s_.language_, s_.in_segment_);
  gst_structure_set(const_cast<GstStructure*>(gst_message_get_structure(msg)), "stable", G_TYPE_BOOLEAN, stable,
                    nullptr);
  gst_element_post_message(s_.element_, msg);
  if (stable) {
    s_.out_pos_ = end;
    ++s_.segments_;
  }
  const GstFlowReturn ret = gst_pad_push(s_.srcpad_, buffer);
  if (ret != GST_FLOW_OK) {
    GST_DEBUG_OBJECT(s_.element_, "downstream returned %s", gst_flow_get_name(ret));
    s_.flow_ = ret;
  }
}

void LiveStream::push_gap_until(double seconds) {
  if (s_.flow_ != GST_FLOW_OK || !GST_CLOCK_TIME_IS_VALID(base_ts_)) return;
  // Nothing will be pushed before the floor any more.
  floor_ = std::max(floor_, std::min(seconds, received_seconds()));
  const GstClockTime to = shifted(in_time(floor_));
  if (!GST_CLOCK_TIME_IS_VALID(s_.out_pos_)) {
    s_.out_pos_ = to;
    return;
  }
  if (to <= s_.out_pos_) return;
  s_.push(gst_event_new_gap(s_.out_pos_, to - s_.out_pos_));
  s_.out_pos_ = to;
}

void LiveStream::end_stretch() {
  if (!GST_CLOCK_TIME_IS_VALID(base_ts_)) return;
  if (gate_) {
    std::vector<npw::GateChunk> chunks;
    gate_->drain(chunks);
    for (npw::GateChunk& c : chunks) {
      if (c.speech) {
        transcript_.append(c.samples.data(), c.samples.size());
      } else {
        if (c.utterance_end) finish_utterance();
        transcript_.skip(c.samples.size());
      }
    }
  }
  finish_utterance();
  push_gap_until(received_seconds());
  base_ts_ = GST_CLOCK_TIME_NONE;
}

void LiveStream::drain() { end_stretch(); }

void LiveStream::reset() {
  transcript_.reset();
  if (gate_) gate_->reset();
  base_ts_ = GST_CLOCK_TIME_NONE;
  received_ = 0;
  since_step_ = 0;
  floor_ = 0.0;
  behind_ = false;
}

}  // namespace npwgst
