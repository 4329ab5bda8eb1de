// What each caption carries besides its text: a GstCustomMeta on the text buffer and an element
// message on the bus, both holding the same decoder facts (times, tokens, probabilities, quality
// measures, language), and the end-of-stream statistics message. Field names are the public
// interface (documented in examples/README.md), so they are defined once here.
#pragma once

#include <gst/gst.h>

#include <string>
#include <vector>

namespace npw {
struct Segment;
struct Stats;
struct Word;
}  // namespace npw

namespace npwgst {

// Name of the custom meta (and of its structure).
constexpr const char* kSegmentMetaName = "NpuWhisperSegmentMeta";
// Name of the per-segment element message structure.
constexpr const char* kSegmentMessageName = "npuwhisper";
// Name of the end-of-stream statistics message structure.
constexpr const char* kStatsMessageName = "npuwhisper-stats";

// Registers the meta once per process (idempotent, thread-safe).
void segment_meta_register();

struct SegmentTimes {
  GstClockTime start;  // buffer PTS, in the input segment's time
  GstClockTime end;
};

// A word placed on the output timeline (clock times in the same base as SegmentTimes).
struct WordTimes {
  const npw::Word* word;
  GstClockTime start;
  GstClockTime end;
};

// Adds the meta to `buffer` with: start, end (guint64 clock times), tokens (GstValueArray of gint),
// token-probs (GstValueArray of gdouble), avg-logprob, no-speech-prob, compression-ratio, temperature
// (gdouble), language (string, "" when unknown); with `words` (word-timestamps on) also words
// (GstValueArray of "word" structures: word (string), start, end (guint64), probability (gdouble)).
void add_segment_meta(GstBuffer* buffer, const npw::Segment& seg, const SegmentTimes& t, const std::string& language,
                      const std::vector<WordTimes>* words = nullptr);

// The "npuwhisper" element message: the meta's fields plus text, timestamp, duration, stream-time
// and running-time (the latter two from `segment`, GST_CLOCK_TIME_NONE when outside it).
GstMessage* segment_message(GstObject* src, const npw::Segment& seg, const SegmentTimes& t,
                            const std::string& text, const std::string& language, const GstSegment& segment,
                            const std::vector<WordTimes>* words = nullptr);

struct StreamTotals {
  double audio_seconds;       // audio received by the element
  double processing_seconds;  // wall time spent inside the runtime
  guint64 segments;           // captions emitted
  double skipped_silence_seconds = 0.0;  // file mode with vad=true: silence never transcribed
};

// The "npuwhisper-stats" element message posted at EOS.
GstMessage* stats_message(GstObject* src, const npw::Stats& stats, const StreamTotals& totals,
                          const std::string& model, const std::string& language);

}  // namespace npwgst
