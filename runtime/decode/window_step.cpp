// Per-window bookkeeping of OpenAI's transcribe(); see window_step.h.
#include "decode/window_step.h"

#include <algorithm>

#include "decode/seek.h"
#include "decode/text_metrics.h"

namespace npw {

std::vector<int> PromptState::prompt(int n_text_ctx) const {
  const std::size_t keep = static_cast<std::size_t>(std::max(0, n_text_ctx / 2 - 1));
  std::vector<int> full;
  if (carried > 0) {
    const std::size_t n_initial = std::min(carried, all_tokens.size());
    full.assign(all_tokens.begin(), all_tokens.begin() + static_cast<std::ptrdiff_t>(n_initial));
    std::size_t from = std::min(std::max(n_initial, reset_since), all_tokens.size());
    // Python's rest[-remaining:]: the last `remaining` when positive, all of it for 0 (-0 == 0),
    // and without the first |remaining| when negative (an initial prompt longer than the room).
    const long remaining = static_cast<long>(keep) - static_cast<long>(n_initial);
    const std::size_t rest = all_tokens.size() - from;
    if (remaining > 0 && rest > static_cast<std::size_t>(remaining)) {
      from = all_tokens.size() - static_cast<std::size_t>(remaining);
    }
    if (remaining < 0) from += std::min(rest, static_cast<std::size_t>(-remaining));
    full.insert(full.end(), all_tokens.begin() + static_cast<std::ptrdiff_t>(from), all_tokens.end());
  } else {
    const std::size_t from = std::min(reset_since, all_tokens.size());
    full.assign(all_tokens.begin() + static_cast<std::ptrdiff_t>(from), all_tokens.end());
  }
  if (full.size() > keep) full.erase(full.begin(), full.end() - static_cast<std::ptrdiff_t>(keep));
  return full;
}

WindowStep finish_window(const WindowDecode& d, int64_t segment_frames, int timestamp_begin, const TokenText& text,
                         const Options& o, PromptState& prompt, double time_offset, const WordStage& words,
                         bool keep_unfinished) {
  WindowStep step;
  if (should_skip_window(d, o)) {
    // Silence: jump to the next window; the prompt is left as it was (OpenAI `continue`s here).
    step.skipped_no_speech = true;
    step.seek_frames = segment_frames;
    return step;
  }
  const std::vector<int>& tokens = d.outcome.tokens;
  const WindowSplit split = split_window(tokens, timestamp_begin, segment_frames, 0.02, 2, keep_unfinished);
  step.seek_frames = split.seek_frames;
  std::vector<Segment> segments;
  for (const SegmentSpan& span : split.segments) {
    Segment s;
    s.start = time_offset + span.start;
    s.end = time_offset + span.stop;
    s.tokens.assign(tokens.begin() + static_cast<std::ptrdiff_t>(span.begin),
                    tokens.begin() + static_cast<std::ptrdiff_t>(span.end));
    s.token_probs.assign(d.outcome.token_probs.begin() + static_cast<std::ptrdiff_t>(span.begin),
                         d.outcome.token_probs.begin() + static_cast<std::ptrdiff_t>(span.end));
    s.text = text(s.tokens);
    s.avg_logprob = d.outcome.avg_logprob;
    s.compression_ratio = d.compression_ratio;
    s.no_speech_prob = d.outcome.no_speech_prob;
    s.temperature = d.outcome.temperature;
    segments.push_back(std::move(s));
  }
  if (words) {
    const std::size_t n = tokens.size();
    const bool single_timestamp_ending =
        n >= 2 && tokens[n - 2] < timestamp_begin && tokens[n - 1] >= timestamp_begin;
    if (!words(segments, single_timestamp_ending, step.seek_frames)) {
      step.segments.clear();
      return step;
    }
  }
  for (Segment& s : segments) {
    // OpenAI blanks instantaneous or empty segments (text and tokens); they then add nothing to the
    // prompt, and we do not report them at all.
    if (s.start == s.end || python_strip(s.text).empty()) continue;
    prompt.all_tokens.insert(prompt.all_tokens.end(), s.tokens.begin(), s.tokens.end());
    step.segments.push_back(std::move(s));
  }
  if (!o.condition_on_previous_text || d.outcome.temperature > 0.5f) prompt.reset_since = prompt.all_tokens.size();
  return step;
}

}  // namespace npw
