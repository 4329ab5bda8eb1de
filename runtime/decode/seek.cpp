// Segment splitting and seek advance of OpenAI's transcribe(); see seek.h.
#include "decode/seek.h"

#include <algorithm>

namespace npw {

WindowSplit split_window(const std::vector<int>& tokens, int timestamp_begin, int64_t segment_frames,
                         double time_precision, int input_stride, bool keep_unfinished) {
  WindowSplit out;
  const std::size_t n = tokens.size();
  auto is_ts = [&](std::size_t i) { return tokens[i] >= timestamp_begin; };
  const bool single_timestamp_ending = n >= 2 && !is_ts(n - 2) && is_ts(n - 1);

  std::vector<std::size_t> slices;  // indices just after each consecutive pair's first timestamp
  for (std::size_t i = 0; i + 1 < n; ++i) {
    if (is_ts(i) && is_ts(i + 1)) slices.push_back(i + 1);
  }

  if (!slices.empty()) {
    if (single_timestamp_ending) slices.push_back(n);
    std::size_t last = 0;
    for (std::size_t cur : slices) {
      SegmentSpan s;
      s.begin = last;
      s.end = cur;
      s.start = (tokens[last] - timestamp_begin) * time_precision;
      s.stop = (tokens[cur - 1] - timestamp_begin) * time_precision;
      out.segments.push_back(s);
      last = cur;
    }
    if (single_timestamp_ending) {
      out.seek_frames = segment_frames;  // a lone final timestamp: nothing is said after it
    } else if (keep_unfinished && last < n) {
      SegmentSpan s;
      s.begin = last;
      s.end = n;
      s.start = (tokens[last] - timestamp_begin) * time_precision;
      s.stop = std::max(s.start, static_cast<double>(segment_frames * 160) / 16000.0);
      out.segments.push_back(s);
      out.seek_frames = segment_frames;
    } else {
      // Re-decode the unfinished tail from the last closing timestamp.
      out.seek_frames = static_cast<int64_t>(tokens[last - 1] - timestamp_begin) * input_stride;
    }
  } else {
    double duration = static_cast<double>(segment_frames * 160) / 16000.0;  // as OpenAI: frames * hop / rate
    int last_ts = -1;
    for (std::size_t i = n; i > 0; --i) {
      if (is_ts(i - 1)) {
        last_ts = tokens[i - 1];
        break;
      }
    }
    if (last_ts >= 0 && last_ts != timestamp_begin) duration = (last_ts - timestamp_begin) * time_precision;
    SegmentSpan s;
    s.begin = 0;
    s.end = n;
    s.start = 0.0;
    s.stop = duration;
    out.segments.push_back(s);
    out.seek_frames = segment_frames;
  }
  if (out.seek_frames <= 0) out.seek_frames = segment_frames;
  return out;
}

}  // namespace npw
