// What transcribe() does with a window once its words are timed: with timestamps not closed by a
// lone final timestamp, the next window starts at the last word's end; with
// hallucination_silence_threshold set, windows whose words look hallucinated (improbable, very
// short or very long words: the anomaly score) are cut where silence surrounds them, and leading
// silence before a suspicious first segment is skipped.
#pragma once

#include <cstdint>
#include <vector>

#include "decode/transcriber.h"

namespace npw {

// OpenAI's word_anomaly_score: +1 below probability 0.15, +15 per second under 0.133 s, +1 per
// second over 2 s.
double word_anomaly_score(const Word& w);
// OpenAI's is_segment_anomaly over the first 8 words that are not punctuation; false for no segment
// or no words.
bool is_segment_anomaly(const Segment* segment);

struct WordSeekWindow {
  int64_t previous_seek = 0;     // mel frames: where this window started
  int64_t segment_size = 0;      // mel frames of audio in the window
  int64_t content_frames = 0;    // mel frames of all the audio
  double time_offset = 0.0;      // seconds: previous_seek * 0.01
  double window_end_time = 0.0;  // (previous_seek + 3000) * 0.01
  double segment_duration = 0.0; // segment_size * 0.01
  double content_duration = 0.0; // content_frames * 0.01
  bool single_timestamp_ending = false;
  float hallucination_silence_threshold = -1.0f;  // < 0: off
  double last_speech_timestamp = 0.0;
};

struct WordSeek {
  int64_t seek = 0;      // mel frames: where the next window starts
  bool skip = false;     // the window is dropped entirely (leading silence before a hallucination)
};

// `seek` is where the next window would start without word timestamps; `segments` (absolute times,
// words filled) may lose a tail judged hallucinated.
WordSeek apply_word_seek(std::vector<Segment>& segments, int64_t seek, const WordSeekWindow& w);

}  // namespace npw
