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

void set_words_field(GstStructure* s, const std::vector<WordTimes>& words) {
  GValue array = G_VALUE_INIT;
  gst_value_array_init(&array, words.size());
  for (const WordTimes& w : words) {
    GstStructure* ws = gst_structure_new("word",
        "word", G_TYPE_STRING, w.word->word.c_str(),
        "start", G_TYPE_UINT64, static_cast<guint64>(w.start),
        "end", G_TYPE_UINT64, static_cast<guint64>(w.end),
        "probability", G_TYPE_DOUBLE, static_cast<double>(w.word->probability),
        nullptr);
    GValue v = G_VALUE_INIT;
    g_value_init(&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed(&v, ws);
    gst_value_array_append_and_take_value(&array, &v);
  }
  gst_structure_take_value(s, "words", &array);
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

void add_segment_meta(GstBuffer* buffer, const npw::Segment& seg, const SegmentTimes& t, const std::string& language,
                      const std::vector<WordTimes>* words) {
  GstCustomMeta* meta = gst_buffer_add_custom_meta(buffer, kSegmentMetaName);
  if (!meta) return;  // only when unregistered, which segment_meta_register() rules out
  set_segment_fields(gst_custom_meta_get_structure(meta), seg, t, language);
  if (words) set_words_field(gst_custom_meta_get_structure(meta), *words);
}

GstMessage* segment_message(GstObject* src, const npw::Segment& seg, const SegmentTimes& t,
                            const std::string& text, const std::string& language, const GstSegment& segment,
                            const std::vector<WordTimes>* words) {
  GstStructure* s = gst_structure_new_empty(kSegmentMessageName);
  set_segment_fields(s, seg, t, language);
  if (words) set_words_field(s, *words);
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
      "skipped-silence-seconds", G_TYPE_DOUBLE, totals.skipped_silence_seconds,
      nullptr);
  if (stats.has_device) {
    // The accelerator's books (counts since the stream started; device-seconds modelled on the
    // emulator, measured on hardware).
    const npw::AcceleratorBooks& d = stats.device;
    gst_structure_set(s,
        "device", G_TYPE_STRING, d.device.c_str(),
        "device-launches", G_TYPE_UINT64, static_cast<guint64>(d.launches),
        "device-bytes-to-device", G_TYPE_UINT64, static_cast<guint64>(d.bytes_to_device),
        "device-bytes-from-device", G_TYPE_UINT64, static_cast<guint64>(d.bytes_from_device),
        "device-buffers-allocated", G_TYPE_UINT64, static_cast<guint64>(d.buffers_allocated),
        "device-products", G_TYPE_UINT64, static_cast<guint64>(d.products_on_device),
        "cpu-products", G_TYPE_UINT64, static_cast<guint64>(d.products_on_cpu),
        "device-seconds", G_TYPE_DOUBLE, d.device_seconds,
        nullptr);
  }
  return gst_message_new_element(src, s);
}

}  // namespace npwgst
