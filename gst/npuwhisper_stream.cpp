// See npuwhisper_stream.h. Timing model: every sample in the accumulator has a time, base_ts_ plus
// its offset from the base at 16 kHz, so captions inherit upstream's timeline (PTS in the input
// segment's time) without accumulating rounding; a discontinuity starts a new base.
#include "npuwhisper_stream.h"


#include <algorithm>
#include <cmath>
#include <exception>

#include "decode/options.h"
#include "model/model.h"
#include "util/error.h"
#include "npuwhisper_meta.h"
#include "decode/caption_cues.h"
#include "npuwhisper_props.h"

GST_DEBUG_CATEGORY_EXTERN(npuwhisper_debug);
#define GST_CAT_DEFAULT npuwhisper_debug

namespace npwgst {

namespace {

constexpr int kRate = 16000;
constexpr std::size_t kWindowSamples = 30 * kRate;  // Whisper's window
constexpr std::size_t kMinSamples = 160;            // one mel hop: less than this holds no frame
// A timestamp this far from where the audio so far says it should be is a discontinuity even when
// upstream did not flag it.
constexpr GstClockTime kJumpTolerance = GST_SECOND;

GstClockTime seconds_to_time(double s) {
  if (!std::isfinite(s) || s <= 0.0) return 0;
  return static_cast<GstClockTime>(std::llround(s * GST_SECOND));
}

}  // namespace

Stream::Stream(GstElement* element, GstPad* srcpad, std::unique_ptr<npw::Transcriber> transcriber,
               const std::atomic<guint>* latency_ms, TensorPool& tensors)
    : element_(element),
      srcpad_(srcpad),
      transcriber_(std::move(transcriber)),
      latency_ms_(latency_ms),
      tensors_(tensors),
      tensor_sizes_(transcriber_->buffer_sizes()) {
  transcriber_->set_buffer_provider(&tensors_);
  transcriber_->set_cancel(&cancel_);
  gst_segment_init(&in_segment_, GST_FORMAT_TIME);
  // What the model will actually use (an English-only model ignores another language).
  const std::string& lang = transcriber_->language();
  if (lang != "auto") language_ = lang;
}

Stream::~Stream() {
  if (transcriber_) {  // destroyed with the members, after the live stream that refers to it
    transcriber_->set_cancel(nullptr);
    transcriber_->set_buffer_provider(nullptr);  // the tensors go back to the pool
  }
  if (pool_) {
    gst_buffer_pool_set_active(pool_, FALSE);
    gst_object_unref(pool_);
  }
  if (upstream_tags_) gst_tag_list_unref(upstream_tags_);
}

std::unique_ptr<npw::Transcriber> Stream::take_transcriber() {
  transcriber_->set_cancel(nullptr);
  transcriber_->set_buffer_provider(nullptr);  // the tensors go back to the pool
  return std::move(transcriber_);
}

void Stream::forget_decoding_state() {
  try {
    transcriber_->reset();
  } catch (const std::exception& e) {
    GST_WARNING_OBJECT(element_, "resetting the transcriber failed: %s", e.what());
  }
}

void Stream::finish_and_forget() {
  drain_file_vad();
  process(true);
  forget_decoding_state();
}

void Stream::set_live_config(const LiveConfig& config, const std::atomic<bool>* upstream_live) {
  live_config_ = config;
  upstream_live_ = upstream_live;
}

bool Stream::live_active() {
  if (!live_decided_) {
    live_decided_ = true;
    const Mode mode = live_config_.settings.mode;
    const bool live = mode == MODE_LIVE || (mode == MODE_AUTO && upstream_live_ && upstream_live_->load());
    if (live && live_config_.latency_ms) {
      try {
        live_ = std::make_unique<LiveStream>(*this, live_config_);
        GST_INFO_OBJECT(element_, "live mode");
      } catch (const std::exception& e) {
        GST_ELEMENT_ERROR(element_, LIBRARY, INIT, ("Could not start live captions: %s", e.what()), (nullptr));
        flow_ = GST_FLOW_ERROR;
      }
    }
  }
  return live_ != nullptr;
}

void Stream::reset() {
  if (live_) live_->reset();
  if (file_vad_) file_vad_->reset();
  window_.clear();
  forget_decoding_state();
  transcriber_->release_buffers();
  base_ts_ = GST_CLOCK_TIME_NONE;
  flushed_ = 0;
  since_attempt_ = 0;
  out_pos_ = GST_CLOCK_TIME_NONE;
  flow_ = GST_FLOW_OK;
  cancel_ = false;
}

GstClockTime Stream::ts_at(std::size_t sample_offset) const {
  return base_ts_ + gst_util_uint64_scale_int(flushed_ + sample_offset, GST_SECOND, kRate);
}

GstClockTime Stream::expected_next_ts() const {
  return ts_at(window_.available() + (file_vad_ ? file_vad_->held() : 0));
}

void Stream::push(GstEvent* event) {
  if (!gst_pad_push_event(srcpad_, event)) GST_DEBUG_OBJECT(element_, "downstream refused an event");
}

// Sticky events in the order downstream expects them before any GAP or caption, even when
// upstream skipped one.
void Stream::ensure_output_started() {
  if (!sent_caps_) {
    GstCaps* text = gst_caps_new_simple("text/x-raw", "format", G_TYPE_STRING, "utf8", nullptr);
    push(gst_event_new_caps(text));
    gst_caps_unref(text);
    sent_caps_ = true;
  }
  if (!sent_segment_) {
    push(gst_event_new_segment(&in_segment_));
    sent_segment_ = true;
  }
}

// --- events ---------------------------------------------------------------------------------

void Stream::handle_event(GstEvent* event) {
  switch (GST_EVENT_TYPE(event)) {
    case GST_EVENT_CAPS: on_caps(event); break;
    case GST_EVENT_SEGMENT: on_segment(event); break;
    case GST_EVENT_TAG: on_tag(event); break;
    case GST_EVENT_EOS: on_eos(event); break;
    case GST_EVENT_GAP: {
      // No audio for a while: what came before is complete, and the text stream has nothing to say
      // for the gap either.
      GstClockTime ts, duration;
      gst_event_parse_gap(event, &ts, &duration);
      gst_event_unref(event);
      ensure_output_started();
      if (live_) live_->end_stretch();
      if (GST_CLOCK_TIME_IS_VALID(base_ts_)) {
        finish_and_forget();
        base_ts_ = GST_CLOCK_TIME_NONE;
      }
      if (!GST_CLOCK_TIME_IS_VALID(out_pos_)) out_pos_ = ts;
      push_gap_to(GST_CLOCK_TIME_IS_VALID(duration) ? ts + duration : ts);
      break;
    }
    default: push(event); break;
  }
}

void Stream::on_caps(GstEvent* event) {
  GstCaps* caps = nullptr;
  gst_event_parse_caps(event, &caps);
  GstAudioInfo info;
  if (gst_audio_info_from_caps(&info, caps)) {
    in_format_ = GST_AUDIO_INFO_FORMAT(&info);
    // Behind the file-mode gate the window holds the gate's f32 output.
    if (file_vad_) file_vad_->set_format(in_format_);
    else window_.set_format(in_format_);
  }
  gst_event_unref(event);
  ensure_pool();
  // The tensors depend on the model only, so a later format change keeps the pool and the buffers.
  if (!ensure_tensor_pool()) flow_ = GST_FLOW_ERROR;
  if (!sent_caps_) {
    GstCaps* text = gst_caps_new_simple("text/x-raw", "format", G_TYPE_STRING, "utf8", nullptr);
    push(gst_event_new_caps(text));
    gst_caps_unref(text);
    sent_caps_ = true;
  }
}

void Stream::on_segment(GstEvent* event) {
  GstSegment seg;
  gst_event_copy_segment(event, &seg);
  if (live_ && !(seg.format == GST_FORMAT_TIME && gst_segment_is_equal(&seg, &in_segment_))) {
    live_->end_stretch();
    out_pos_ = GST_CLOCK_TIME_NONE;
  }
  if (GST_CLOCK_TIME_IS_VALID(base_ts_) && !(seg.format == GST_FORMAT_TIME && gst_segment_is_equal(&seg, &in_segment_))) {
    // A new timeline without a flush: finish the old one first, its captions belong to it.
    finish_and_forget();
    base_ts_ = GST_CLOCK_TIME_NONE;
    out_pos_ = GST_CLOCK_TIME_NONE;
  }
  if (seg.format == GST_FORMAT_TIME) {
    in_segment_ = seg;
    push(event);
  } else {
    // Raw audio in another format (bytes, samples) carries no clock; captions count from zero.
    GST_DEBUG_OBJECT(element_, "non-TIME segment; captions are timed from 0");
    gst_segment_init(&in_segment_, GST_FORMAT_TIME);
    GstEvent* out = gst_event_new_segment(&in_segment_);
    gst_event_set_seqnum(out, gst_event_get_seqnum(event));
    gst_event_unref(event);
    push(out);
  }
  have_segment_ = true;
  sent_segment_ = true;
}

void Stream::on_tag(GstEvent* event) {
  GstTagList* tags = nullptr;
  gst_event_parse_tag(event, &tags);
  if (gst_tag_list_get_scope(tags) != GST_TAG_SCOPE_STREAM) {
    push(event);
    return;
  }
  // Stream tags replace each other downstream, so ours (the caption language) are merged in.
  if (upstream_tags_) gst_tag_list_unref(upstream_tags_);
  upstream_tags_ = gst_tag_list_copy(tags);
  gst_event_unref(event);
  push_stream_tags();
}

void Stream::on_eos(GstEvent* event) {
  if (live_) live_->drain();
  drain_file_vad();
  process(true);
  if (cancel_) {
    // Flushing or stopping: the EOS of an abandoned stream goes nowhere.
    gst_event_unref(event);
    return;
  }
  try {
    StreamTotals totals{static_cast<double>(received_samples_) / kRate, processing_seconds_, segments_,
                        static_cast<double>(skipped_samples_) / kRate};
    gst_element_post_message(element_, stats_message(GST_OBJECT(element_), transcriber_->stats(), totals,
                                                     transcriber_->model().path(), language_));
  } catch (const std::exception& e) {
    GST_WARNING_OBJECT(element_, "no statistics: %s", e.what());
  }
  push(event);
}

void Stream::push_stream_tags() {
  GstTagList* tags = upstream_tags_ ? gst_tag_list_copy(upstream_tags_) : gst_tag_list_new_empty();
  gst_tag_list_set_scope(tags, GST_TAG_SCOPE_STREAM);
  if (!language_.empty())
    gst_tag_list_add(tags, GST_TAG_MERGE_REPLACE, GST_TAG_LANGUAGE_CODE, language_.c_str(), nullptr);
  push(gst_event_new_tag(tags));
  sent_language_ = language_;
}

void Stream::update_language(const std::string& language) {
  if (!language.empty() && language != "auto") language_ = language;
  if (!language_.empty() && language_ != sent_language_) push_stream_tags();
}

void Stream::push_gap_to(GstClockTime ts) {
  if (!GST_CLOCK_TIME_IS_VALID(ts)) return;
  if (!GST_CLOCK_TIME_IS_VALID(out_pos_)) {
    out_pos_ = ts;
    return;
  }
  if (ts <= out_pos_) return;
  push(gst_event_new_gap(out_pos_, ts - out_pos_));
  out_pos_ = ts;
}

// --- audio ----------------------------------------------------------------------------------

void Stream::handle_buffer(GstBuffer* buffer) {
  if (flow_ != GST_FLOW_OK || cancel_ || gst_buffer_get_size(buffer) == 0) {
    gst_buffer_unref(buffer);
    return;
  }
  ensure_output_started();
  if (live_active()) {
    if (flow_ == GST_FLOW_OK) live_->handle_buffer(buffer);
    else gst_buffer_unref(buffer);
    return;
  }
  const GstClockTime pts = GST_BUFFER_PTS(buffer);
  if (!GST_CLOCK_TIME_IS_VALID(base_ts_)) {
    base_ts_ = GST_CLOCK_TIME_IS_VALID(pts) ? pts : in_segment_.start;
    flushed_ = 0;
    since_attempt_ = 0;
    if (!GST_CLOCK_TIME_IS_VALID(out_pos_)) {
      // An empty GAP at the start lets sinks preroll without waiting a window for the first caption.
      out_pos_ = base_ts_;
      push(gst_event_new_gap(base_ts_, 0));
    }
  } else {
    const GstClockTime expected = expected_next_ts();
    const bool jumped = GST_CLOCK_TIME_IS_VALID(pts) &&
                        (pts > expected ? pts - expected : expected - pts) > kJumpTolerance;
    if (GST_BUFFER_IS_DISCONT(buffer) || jumped) {
      GST_DEBUG_OBJECT(element_, "discontinuity at %" GST_TIME_FORMAT " (expected %" GST_TIME_FORMAT ")",
                       GST_TIME_ARGS(pts), GST_TIME_ARGS(expected));
      finish_and_forget();
      base_ts_ = GST_CLOCK_TIME_IS_VALID(pts) ? pts : expected;
      flushed_ = 0;
      since_attempt_ = 0;
      push_gap_to(base_ts_);
    }
  }
  if (file_vad_active()) {
    std::vector<npw::GateChunk> chunks;
    file_vad_->push(buffer, chunks);
    feed_file_vad(chunks);
    return;
  }
  const std::size_t n = window_.push(buffer);
  received_samples_ += n;
  since_attempt_ += n;
  process(false);
}

bool Stream::file_vad_active() {
  if (!file_vad_decided_) {
    file_vad_decided_ = true;
    const LiveSettings& ls = live_config_.settings;
    if (ls.vad && ls.vad_set) {
      npw::GateSettings g;
      g.start_ms = static_cast<int>(ls.vad_start_ms);
      g.end_ms = static_cast<int>(ls.vad_end_ms);
      g.padding_ms = static_cast<int>(ls.vad_padding_ms);
      g.aggressiveness = ls.vad_aggressiveness;
      try {
        file_vad_ = std::make_unique<FileVad>(g);
        file_vad_->set_format(in_format_);
        window_.set_format(GST_AUDIO_FORMAT_F32LE);
        GST_INFO_OBJECT(element_, "file mode with the voice gate: silence is skipped");
      } catch (const std::exception& e) {
        GST_ELEMENT_ERROR(element_, LIBRARY, INIT, ("Could not start the voice gate: %s", e.what()), (nullptr));
        flow_ = GST_FLOW_ERROR;
      }
    }
  }
  return file_vad_ != nullptr;
}

void Stream::feed_file_vad(std::vector<npw::GateChunk>& chunks) {
  for (npw::GateChunk& c : chunks) {
    if (flow_ != GST_FLOW_OK || c.samples.empty()) continue;
    received_samples_ += c.samples.size();
    if (c.speech) {
      since_attempt_ += window_.push(f32_buffer(c.samples));
      process(false);
      continue;
    }
    // Nobody speaks: the utterance before is transcribed to its end (the prompt is kept, as across
    // a pause in OpenAI's transcribe()), then the clock moves over the silence and a GAP covers it.
    if (window_.available() > 0) process(true);
    if (flow_ != GST_FLOW_OK) continue;
    flushed_ += c.samples.size();
    skipped_samples_ += c.samples.size();
    push_gap_to(ts_at(0));
  }
}

void Stream::drain_file_vad() {
  if (!file_vad_) return;
  std::vector<npw::GateChunk> chunks;
  file_vad_->drain(chunks);
  feed_file_vad(chunks);
}

void Stream::process(bool drain) {
  while (flow_ == GST_FLOW_OK) {
    const std::size_t avail = window_.available();
    if (avail == 0) break;
    if (avail >= kWindowSamples) {
      run_window(kWindowSamples, drain && avail == kWindowSamples);
      continue;
    }
    if (drain) {
      run_window(avail, true);
      continue;
    }
    const guint ms = latency_ms_->load();
    const std::size_t step = static_cast<std::size_t>(ms == 0 ? kFileLatencyMs : ms) * (kRate / 1000);
    if (step < kWindowSamples && since_attempt_ >= step) run_window(avail, false);
    break;
  }
}

bool Stream::ensure_pool() {
  if (pool_) return true;
  pool_ = gst_buffer_pool_new();
  GstStructure* config = gst_buffer_pool_get_config(pool_);
  GstCaps* caps = gst_caps_new_simple("audio/x-raw", "format", G_TYPE_STRING, "F32LE", "rate", G_TYPE_INT, kRate,
                                      "channels", G_TYPE_INT, 1, "layout", G_TYPE_STRING, "interleaved", nullptr);
  // One window in use by the runtime and one being filled at most; 64-byte alignment for SIMD loads.
  gst_buffer_pool_config_set_params(config, caps, kWindowSamples * sizeof(float), 1, 2);
  gst_caps_unref(caps);
  GstAllocationParams params;
  gst_allocation_params_init(&params);
  params.align = 63;
  gst_buffer_pool_config_set_allocator(config, nullptr, &params);
  if (!gst_buffer_pool_set_config(pool_, config) || !gst_buffer_pool_set_active(pool_, TRUE)) {
    GST_ELEMENT_ERROR(element_, RESOURCE, NO_SPACE_LEFT, ("Could not allocate the audio window pool"), (nullptr));
    gst_object_unref(pool_);
    pool_ = nullptr;
    return false;
  }
  return true;
}

bool Stream::ensure_tensor_pool() {
  if (tensors_.configure(tensor_sizes_)) return true;
  GST_ELEMENT_ERROR(element_, RESOURCE, NO_SPACE_LEFT, ("Could not allocate the mel and encoder tensor pool"),
                    ("%" G_GSIZE_FORMAT " tensors", tensor_sizes_.size()));
  return false;
}

void Stream::run_window(std::size_t n, bool final) {
  const GstClockTime window_start = ts_at(0);
  if (final && n < kMinSamples) {
    // Too short for a single mel frame: nothing to say, but the time is accounted for.
    window_.flush(n);
    flushed_ += n;
    since_attempt_ = 0;
    push_gap_to(ts_at(0));
    return;
  }
  if (!ensure_pool() || !ensure_tensor_pool()) {
    flow_ = GST_FLOW_ERROR;
    return;
  }
  GstBuffer* buf = nullptr;
  GstFlowReturn ret = gst_buffer_pool_acquire_buffer(pool_, &buf, nullptr);
  if (ret != GST_FLOW_OK) {
    flow_ = ret;
    return;
  }
  GstMapInfo map;
  if (!gst_buffer_map(buf, &map, GST_MAP_WRITE)) {
    gst_buffer_unref(buf);
    GST_ELEMENT_ERROR(element_, RESOURCE, FAILED, ("Could not map the audio window"), (nullptr));
    flow_ = GST_FLOW_ERROR;
    return;
  }
  auto* samples = reinterpret_cast<float*>(map.data);
  window_.fill(samples, n);

  npw::WindowResult result;
  bool ok = true;
  std::string what;
  const gint64 t0 = g_get_monotonic_time();
  bool cancelled = false;
  try {
    result = transcriber_->transcribe_window(samples, n, final);
  } catch (const npw::Error& e) {
    cancelled = e.kind() == npw::ErrorKind::Cancelled;
    ok = false;
    what = e.what();
  } catch (const std::exception& e) {
    ok = false;
    what = e.what();
  } catch (...) {
    ok = false;
    what = "unknown exception";
  }
  processing_seconds_ += static_cast<double>(g_get_monotonic_time() - t0) / G_USEC_PER_SEC;
  gst_buffer_unmap(buf, &map);
  gst_buffer_unref(buf);
  if (cancelled) {
    // A flush or a stop abandoned the window: nothing of it is output, and nothing more is done
    // until reset() (the accumulator is emptied there).
    GST_DEBUG_OBJECT(element_, "window of %" G_GSIZE_FORMAT " samples at %" GST_TIME_FORMAT " abandoned (%s) %.1f ms after the request", n,
                     GST_TIME_ARGS(window_start), what.c_str(),
                     static_cast<double>(g_get_monotonic_time() - cancel_requested_at_.load()) / 1000.0);
    flow_ = GST_FLOW_FLUSHING;
    return;
  }
  if (!ok) {
    GST_ELEMENT_ERROR(element_, STREAM, FAILED, ("Transcription failed: %s", what.c_str()),
                      ("window of %" G_GSIZE_FORMAT " samples at %" GST_TIME_FORMAT, n, GST_TIME_ARGS(window_start)));
    flow_ = GST_FLOW_ERROR;
    return;
  }

  std::size_t consumed = final ? n : std::min(result.consumed_samples, n);
  if (consumed == 0 && n >= kWindowSamples) {
    // A full window that consumes nothing would be transcribed forever; move on.
    GST_WARNING_OBJECT(element_, "the runtime consumed nothing of a full window; skipping it");
    consumed = n;
  }
  update_language(result.language);
  if (result.dropped_past_end > 0) {
    GST_DEBUG_OBJECT(element_, "dropped %d segment(s) timed at or after the end of the window's %" G_GSIZE_FORMAT
                     " samples", result.dropped_past_end, n);
  }
  const GstClockTime limit = ts_at(consumed);
  const double consumed_seconds = static_cast<double>(consumed) / kRate;
  // Caption cues are shaped over all of the window's segments at once, so that words flow from one
  // segment into the next cue as in OpenAI's subtitle writer; the last cue goes out with its window
  // (waiting for the next window would hold a caption past the latency the element reports).
  const bool cues = captions_.cues.any() && !captions_.words_output;
  std::vector<npw::Segment> to_shape;
  for (const npw::Segment& seg : result.segments) {
    if (flow_ != GST_FLOW_OK) break;
    // A segment starting after the consumed audio is transcribed again with the next window.
    if (!final && seg.start >= consumed_seconds) continue;
    if (cues) {
      to_shape.push_back(seg);
    } else {
      emit_segment(seg, window_start, limit);
    }
  }
  if (!to_shape.empty() && flow_ == GST_FLOW_OK) emit_cues(to_shape, window_start, limit);
  window_.flush(consumed);
  flushed_ += consumed;
  since_attempt_ = 0;
  if (consumed > 0 && flow_ == GST_FLOW_OK) push_gap_to(limit);
}

void Stream::emit_segment(const npw::Segment& seg, GstClockTime window_start, GstClockTime limit) {
  if (captions_.words_output && !seg.words.empty()) {
    emit_words(seg, window_start, limit);
    return;
  }
  emit_caption(seg, npw::caption_text(seg.text), seg.start, seg.end, seg.words, window_start, limit, true);
}

void Stream::emit_cues(const std::vector<npw::Segment>& segments, GstClockTime window_start, GstClockTime limit) {
  for (const npw::Cue& cue : npw::shape_cues(segments, captions_.cues)) {
    if (flow_ != GST_FLOW_OK) break;
    // The meta and the message carry the fields of the segment the cue starts in.
    emit_caption(segments[cue.segment], npw::caption_text(cue.text), cue.start, cue.end, cue.words, window_start, limit, true);
  }
}

std::vector<WordTimes> Stream::place_words(const std::vector<npw::Word>& words, GstClockTime window_start,
                                           GstClockTime start, GstClockTime end) const {
  std::vector<WordTimes> out;
  GstClockTime floor = start;
  for (const npw::Word& w : words) {
    GstClockTime ws = window_start + seconds_to_time(w.start);
    GstClockTime we = window_start + seconds_to_time(w.end);
    ws = std::min(std::max(ws, floor), end);
    we = std::min(std::max(we, ws), end);
    out.push_back(WordTimes{&w, ws, we});
    floor = we;
  }
  return out;
}

void Stream::push_text(const std::string& text, GstClockTime start, GstClockTime end, const npw::Segment& seg,
                       const std::vector<WordTimes>* words) {
  push_gap_to(start);
  GstBuffer* buffer = gst_buffer_new_memdup(text.data(), text.size());
  GST_BUFFER_PTS(buffer) = start;
  GST_BUFFER_DURATION(buffer) = end - start;
  add_segment_meta(buffer, seg, SegmentTimes{start, end}, language_, words);
  out_pos_ = end;
  const GstFlowReturn ret = gst_pad_push(srcpad_, buffer);
  if (ret != GST_FLOW_OK) {
    GST_DEBUG_OBJECT(element_, "downstream returned %s", gst_flow_get_name(ret));
    flow_ = ret;
  }
}

bool Stream::emit_caption(const npw::Segment& seg, const std::string& text, double start_s, double end_s,
                          const std::vector<npw::Word>& words, GstClockTime window_start, GstClockTime limit,
                          bool message) {
  if (text.empty()) return false;
  const GstClockTime lo = GST_CLOCK_TIME_IS_VALID(out_pos_) ? out_pos_ : window_start;
  limit = std::max(limit, lo);
  GstClockTime start = window_start + seconds_to_time(start_s);
  GstClockTime end = window_start + seconds_to_time(end_s);
  // Captions never overlap, never go back and never outlast the audio they describe.
  start = std::min(std::max(start, lo), limit);
  end = std::min(std::max(end, start), limit);
  if (end <= start) {
    // Nothing of it lies in audio not yet captioned: a caption without duration is no caption.
    GST_DEBUG_OBJECT(element_, "dropping \"%s\": no time left for it at %" GST_TIME_FORMAT, text.c_str(),
                     GST_TIME_ARGS(start));
    return false;
  }
  const std::vector<WordTimes> placed = place_words(words, window_start, start, end);
  const std::vector<WordTimes>* w = captions_.words_field ? &placed : nullptr;
  const SegmentTimes times{start, end};
  if (message)
    gst_element_post_message(element_, segment_message(GST_OBJECT(element_), seg, times, text, language_, in_segment_, w));
  ++segments_;
  push_text(text, start, end, seg, w);
  return true;
}

void Stream::emit_words(const npw::Segment& seg, GstClockTime window_start, GstClockTime limit) {
  const GstClockTime lo = GST_CLOCK_TIME_IS_VALID(out_pos_) ? out_pos_ : window_start;
  limit = std::max(limit, lo);
  // Words never overlap, never run backwards and stay inside the audio not yet captioned; a word
  // the model timed as instantaneous keeps its text, in a buffer without duration.
  const std::vector<WordTimes> placed = place_words(seg.words, window_start, lo, limit);
  const SegmentTimes times{placed.front().start, placed.back().end};
  const std::vector<WordTimes>* all = captions_.words_field ? &placed : nullptr;
  gst_element_post_message(element_,
                           segment_message(GST_OBJECT(element_), seg, times, npw::caption_text(seg.text), language_, in_segment_, all));
  ++segments_;
  for (const WordTimes& w : placed) {
    if (flow_ != GST_FLOW_OK) break;
    const std::string text = npw::caption_text(w.word->word);
    if (text.empty()) continue;
    const std::vector<WordTimes> one = {w};
    push_text(text, w.start, w.end, seg, captions_.words_field ? &one : nullptr);
  }
}

}  // namespace npwgst
