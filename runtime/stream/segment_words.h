// The words of a hypothesis segment for the commit policy: the aligned words when word timestamps
// produced them, otherwise the segment's text cut at spaces with times shared out by length, so that
// live captions work (more coarsely timed) with any decoder output.
#pragma once

#include <vector>

#include "decode/transcriber.h"
#include "decode/word.h"

namespace npw {

// Words of `seg` with `offset` seconds added to their times.
std::vector<Word> segment_words(const Segment& seg, double offset);

}  // namespace npw
