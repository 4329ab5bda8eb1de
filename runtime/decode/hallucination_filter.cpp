// The word-timestamp part of transcribe()'s window loop (whisper/transcribe.py); see
// hallucination_filter.h.
#include "decode/hallucination_filter.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "decode/word_timing.h"

namespace npw {

namespace {

constexpr double kFramesPerSecond = 100.0;
const char kPunctuation[] = "\"'\u201c\u00bf([{-\"'.\u3002,\uff0c!\uff01?\uff1f:\uff1a\u201d)]}\u3001";

int64_t to_frames(double seconds) { return static_cast<int64_t>(std::nearbyint(seconds * kFramesPerSecond)); }

const Segment* next_words_segment(const std::vector<Segment>& segments, std::size_t from) {
  for (std::size_t i = from; i < segments.size(); ++i)
    if (!segments[i].words.empty()) return &segments[i];
  return nullptr;
}

}  // namespace

double word_anomaly_score(const Word& w) {
  const double probability = w.probability;
  const double duration = w.end - w.start;
  double score = 0.0;
  if (probability < 0.15) score += 1.0;
  if (duration < 0.133) score += (0.133 - duration) * 15;
  if (duration > 2.0) score += duration - 2.0;
  return score;
}

bool is_segment_anomaly(const Segment* segment) {
  if (!segment || segment->words.empty()) return false;
  double score = 0.0;
  int counted = 0;
  for (const Word& w : segment->words) {
    if (std::string(kPunctuation).find(w.word) != std::string::npos) continue;
    if (counted == 8) break;
    score += word_anomaly_score(w);
    ++counted;
  }
  return score >= 3 || score + 0.01 >= counted;
}

WordSeek apply_word_seek(std::vector<Segment>& segments, int64_t seek, const WordSeekWindow& w) {
  WordSeek out;
  out.seek = seek;
  double end = 0.0;
  if (!w.single_timestamp_ending && last_word_end(segments, end) && end > w.time_offset) out.seek = to_frames(end);

  const double threshold = w.hallucination_silence_threshold;
  if (threshold < 0) return out;
  if (!w.single_timestamp_ending && last_word_end(segments, end) && end > w.time_offset) {
    const double remaining_duration = w.window_end_time - end;
    out.seek = remaining_duration > threshold ? to_frames(end) : w.previous_seek + w.segment_size;
  }
  // A suspicious first segment: skip the silence before it.
  const Segment* first = next_words_segment(segments, 0);
  if (first && is_segment_anomaly(first)) {
    const double gap = first->start - w.time_offset;
    if (gap > threshold) {
      out.seek = w.previous_seek + to_frames(gap);
      out.skip = true;
      return out;
    }
  }
  // A suspicious segment surrounded by silence or by more of the same: drop it and what follows.
  double hal_last_end = w.last_speech_timestamp;
  for (std::size_t si = 0; si < segments.size(); ++si) {
    const Segment& segment = segments[si];
    if (segment.words.empty()) continue;
    if (is_segment_anomaly(&segment)) {
      const Segment* next = next_words_segment(segments, si + 1);
      const double hal_next_start = next ? next->words.front().start : w.time_offset + w.segment_duration;
      const bool silence_before = segment.start - hal_last_end > threshold || segment.start < threshold ||
                                  segment.start - w.time_offset < 2.0;
      const bool silence_after = hal_next_start - segment.end > threshold || is_segment_anomaly(next) ||
                                 w.window_end_time - segment.end < 2.0;
      if (silence_before && silence_after) {
        out.seek = to_frames(std::max(w.time_offset + 1, segment.start));
        if (w.content_duration - segment.end < threshold) out.seek = w.content_frames;
        segments.erase(segments.begin() + static_cast<std::ptrdiff_t>(si), segments.end());
        break;
      }
    }
    hal_last_end = segment.end;
  }
  return out;
}

}  // namespace npw
