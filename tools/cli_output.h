// What npuwhisper-cli prints for a transcription: one "[mm:ss.mmm --> mm:ss.mmm] text" line per
// segment (OpenAI's verbose format, minutes not wrapped at an hour), or one JSON object holding every
// field of every segment. Pure string building, so the formats are tested without running a model.
#pragma once

#include <string>

#include "decode/transcriber.h"

namespace npw {

// 75.5 -> "01:15.500"; 3725.25 -> "62:05.250". Negative and non-finite values print as 00:00.000.
std::string format_timestamp(double seconds);

// "[00:01.000 --> 00:02.500] text": the text Python-stripped, line breaks inside it made spaces.
std::string segment_line(const Segment& s);

// "[00:01.000 --> 00:01.420] word": one word of --words output, its text Python-stripped.
std::string word_line(const Word& w);

// {"model", "audio", "language", "language_probs" (when detected: {code: p}, best first),
//  "segments": [{"id", "start", "end", "text", "tokens", "token_probs", "avg_logprob",
//  "compression_ratio", "no_speech_prob", "temperature"(, "words": [{"word", "start", "end",
//  "probability"}] with `with_words`)}]}. Non-finite numbers become null.
std::string transcription_json(const TranscribeResult& r, const std::string& model, const std::string& audio,
                               bool with_words = false);

// {"words": [{"word", "tokens", "start", "end", "probability"}]}: the window-mode word dump.
std::string words_dump_json(const std::vector<Word>& words);

}  // namespace npw
