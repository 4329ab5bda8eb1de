// A word with its time, as OpenAI's word_timestamps gives it: the unit that captions are shaped from
// and that live captions commit. Shared by the alignment (which makes words), the transcriber's
// segments, the live commit policy and the element.
#pragma once

#include <string>
#include <vector>

namespace npw {

struct Word {
  std::string word;         // with its leading space and merged punctuation, valid UTF-8
  std::vector<int> tokens;  // the text tokens it was made of
  double start = 0.0;       // seconds, in the same time base as the segment that holds it
  double end = 0.0;
  float probability = 0.0f; // mean of its tokens' probabilities
};

}  // namespace npw
