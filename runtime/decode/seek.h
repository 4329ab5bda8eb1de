// How OpenAI's transcribe() turns one window's tokens into segments and decides where the next
// window starts. Consecutive timestamp tokens close a segment; when the window ends in the middle
// of a segment (text after the last pair) the next window starts at that last timestamp so the
// unfinished speech is decoded again with its full context; otherwise the whole window is used.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace npw {

struct SegmentSpan {
  std::size_t begin = 0;  // token range [begin, end) of the window's tokens, timestamps included
  std::size_t end = 0;
  double start = 0.0;     // seconds from the window start
  double stop = 0.0;
};

struct WindowSplit {
  std::vector<SegmentSpan> segments;
  int64_t seek_frames = 0;  // mel frames (10 ms) the next window starts after this one's start
};

// tokens: the window's sampled tokens (EOT excluded); segment_frames: mel frames of real audio in
// the window (<= 3000); time_precision: seconds per timestamp step (0.02); input_stride: mel frames
// per timestamp step (2). A window whose last timestamp pair sits at 0 would not move; it then
// advances by the whole window instead of looping (OpenAI's rules make that unreachable).
// keep_unfinished (live hypotheses, whose buffer is all in this window): the text after the last
// pair is a last segment up to the end of the audio and the whole window is used, instead of being
// left for a window that starts at the last timestamp (one encode per hypothesis instead of two).
WindowSplit split_window(const std::vector<int>& tokens, int timestamp_begin, int64_t segment_frames,
                         double time_precision = 0.02, int input_stride = 2, bool keep_unfinished = false);

}  // namespace npw
