// OpenAI's add_word_timestamps after find_alignment: the heuristics that turn raw DTW word times
// into the words of each segment, and the segment bounds they imply. The median word duration
// (capped at 0.7 s) and twice it bound long words at sentence ends; punctuation is merged; times
// become absolute and rounded to 10 ms; the first words after a long pause are shortened; a segment
// takes its start and end from its words unless they overshoot its timestamps by more than 0.5 s.
#pragma once

#include <string>
#include <vector>

#include "decode/transcriber.h"
#include "decode/word.h"

namespace npw {

// Python's round(x, 2): the double nearest to x correctly rounded to two decimals (half-even on
// exact ties).
double round_centis(double x);

struct WordTimingSettings {
  std::string prepend_punctuations;
  std::string append_punctuations;
};

// `segments` (absolute start/end, their tokens) are the window's segments in order; `alignment`
// is find_alignment's output for their text tokens concatenated (times from the window start at
// `time_offset` seconds). Fills each segment's words and may move its start/end.
// `last_speech_timestamp` is the end of the last speech before the window (the caller updates it
// afterwards, as transcribe() does, from last_word_end()).
void add_word_timestamps(std::vector<Segment>& segments, std::vector<Word> alignment, double time_offset,
                         const WordTimingSettings& settings, int eot, double last_speech_timestamp);

// Keeps a segment's words inside the segment (and before `limit`, the end of the audio), in order
// and not overlapping: OpenAI's heuristics can start a first word a little before its segment or
// end a last word after it; callers that place words on a timeline need them nested.
void keep_words_inside(Segment& segment, double limit);

// OpenAI's get_end: the end of the last word of the last segment that has words, else the last
// segment's end; false when there are no segments.
bool last_word_end(const std::vector<Segment>& segments, double& end);

}  // namespace npw
