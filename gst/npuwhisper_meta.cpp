// See npuwhisper_meta.h.
#include "npuwhisper_meta.h"

#include <algorithm>

#include "decode/transcriber.h"

namespace npwgst {

void segment_meta_register() {
  static gsize done = 0;
  if (g_once_init_enter(&done)) {
    static const gchar* tags[] = {nullptr};  // no tags: the meta survives any transformation of the text
    gst_meta_register_custom(kSegmentMetaName, tags, nullptr, nullptr, nullptr);
    g_once_init_leave(&done, 1);
  }
}

namespace {

void set_array_fields(GstStructure* s, const npw::Segment& seg) {
  GValue tokens = G_VALUE_INIT;
  gst_value_array_init(&tokens, seg.tokens.size());
  for (int id : seg.tokens) {
    GValue v = G_VALUE_INIT;
    g_value_init(&v, G_TYPE_INT);
    g_value_set_int(&v, id);
    gst_value_array_append_and_take_value(&tokens, &v);
  }
  gst_structure_take_value(s, "tokens", &tokens);

  GValue probs = G_VALUE_INIT;
  gst_value_array_init(&probs, seg.token_probs.size());
  for (float p : seg.token_probs) {
    GValue v = G_VALUE_INIT;
    g_value_init(&v, G_TYPE_DOUBLE);
    g_value_set_double(&v, p);
    gst_value_array_append_and_take_value(&probs, &v);
  }
  gst_structure_take_value(s, "token-probs", &probs);
}

void set_segment_fields(GstStructure* s, const npw::Segment& seg, const SegmentTimes& t, const std::string& language) {
  gst_structure_set(s,
      "start", G_TYPE_UINT64, static_cast<guint64>(t.start),
      "end", G_TYPE_UINT64, static_cast<guint64>(t.end),
      "avg-logprob", G_TYPE_DOUBLE, static_cast<double>(seg.avg_logprob),
      "no-speech-prob", G_TYPE_DOUBLE, static_cast<double>(seg.no_speech_prob),
      "compression-ratio", G_TYPE_DOUBLE, static_cast<double>(seg.compression_ratio),
      "temperature", G_TYPE_DOUBLE, static_cast<double>(seg.temperature),
      "language", G_TYPE_STRING, language.c_str(),
      nullptr);
  set_array_fields(s, seg);
}

}  // namespace

void add_segment_meta(GstBuffer* buffer, const npw::Segment& seg, const SegmentTimes& t, const std::string& language) {
  GstCustomMeta* meta = gst_buffer_add_custom_meta(buffer, kSegmentMetaName);
  if (!meta) return;  // only when unregistered, which segment_meta_register() rules out
  set_segment_fields(gst_custom_meta_get_structure(meta), seg, t, language);
}

GstMessage* segment_message(GstObject* src, const npw::Segment& seg, const SegmentTimes& t,
                            const std::string& text, const std::string& language, const GstSegment& segment) {
  GstStructure* s = gst_structure_new_empty(kSegmentMessageName);
  set_segment_fields(s, seg, t, language);
  const GstClockTime duration = t.end - t.start;
  gst_structure_set(s,
      "text", G_TYPE_STRING, text.c_str(),
      "timestamp", G_TYPE_UINT64, static_cast<guint64>(t.start),
      "duration", G_TYPE_UINT64, static_cast<guint64>(duration),
      "stream-time", G_TYPE_UINT64,
      static_cast<guint64>(gst_segment_to_stream_time(&segment, GST_FORMAT_TIME, t.start)),
      "running-time", G_TYPE_UINT64,
      static_cast<guint64>(gst_segment_to_running_time(&segment, GST_FORMAT_TIME, t.start)),
      nullptr);
  return gst_message_new_element(src, s);
}

GstMessage* stats_message(GstObject* src, const npw::Stats& stats, const StreamTotals& totals,
                          const std::string& model, const std::string& language) {
  const double rtf = totals.audio_seconds > 0.0 ? totals.processing_seconds / totals.audio_seconds : 0.0;
  GstStructure* s = gst_structure_new(kStatsMessageName,
      "audio-seconds", G_TYPE_DOUBLE, totals.audio_seconds,
      "wall-seconds", G_TYPE_DOUBLE, totals.processing_seconds,
      "mel-seconds", G_TYPE_DOUBLE, stats.mel_seconds,
      "encoder-seconds", G_TYPE_DOUBLE, stats.encoder_seconds,
      "decoder-seconds", G_TYPE_DOUBLE, stats.decoder_seconds,
      "realtime-factor", G_TYPE_DOUBLE, rtf,
      "windows", G_TYPE_INT, stats.windows,
      "tokens", G_TYPE_INT, stats.tokens,
      "segments", G_TYPE_INT, static_cast<gint>(std::min<guint64>(totals.segments, G_MAXINT)),
      "backend", G_TYPE_STRING, stats.backend.c_str(),
      "model", G_TYPE_STRING, model.c_str(),
      "language", G_TYPE_STRING, language.c_str(),
      nullptr);
  return gst_message_new_element(src, s);
}

}  // namespace npwgst
