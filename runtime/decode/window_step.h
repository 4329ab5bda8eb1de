// What OpenAI's transcribe() does with one window's decoding, apart from the decoding itself:
// the silence skip, cutting the tokens into segments, dropping segments that are instantaneous or
// carry no text, advancing the seek position, and keeping the previous-text prompt (reset after a
// high-temperature window). Shared by the whole-file loop and the streaming window entry point, so
// both follow the same rules; pure, so the rules are tested on crafted token lists.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "decode/fallback.h"
#include "decode/options.h"
#include "decode/transcriber.h"

namespace npw {

// The previous-text prompt: every token of the kept segments so far (timestamps included), and the
// index from which they are still used (OpenAI's all_tokens / prompt_reset_since).
struct PromptState {
  std::vector<int> all_tokens;
  std::size_t reset_since = 0;
  // carry_initial_prompt: the first `carried` tokens of all_tokens are the initial prompt, put in
  // front of every window's prompt (0: not carried).
  std::size_t carried = 0;

  // The tokens to condition the next window on: OpenAI passes all_tokens[reset_since:] (carrying:
  // the initial prompt, then all_tokens[max(carried, reset_since):][-(n_text_ctx / 2 - 1 - carried):]
  // with Python's slice semantics) and the decoder keeps the last n_text_ctx / 2 - 1 of them.
  std::vector<int> prompt(int n_text_ctx) const;
  void clear() {
    all_tokens.clear();
    reset_since = 0;
    carried = 0;
  }
};

struct WindowStep {
  std::vector<Segment> segments;  // times in seconds from the window start
  int64_t seek_frames = 0;        // how far the next window starts after this one
  bool skipped_no_speech = false;
};

using TokenText = std::function<std::string(const std::vector<int>&)>;

// OpenAI's word-timestamp block, run on all of a window's segments (times absolute) before the
// instantaneous and empty ones are dropped: it fills words, may move segment bounds, drop a tail of
// segments and change where the next window starts (seek_frames, from this window's start).
// Returns false to drop the whole window (nothing reported, the prompt unchanged).
using WordStage = std::function<bool(std::vector<Segment>& segments, bool single_timestamp_ending, int64_t& seek_frames)>;

// Applies the rules above to decoding `d` of a window holding `segment_frames` frames of audio and
// starting `time_offset` seconds into the audio (segment times include it). `text` turns tokens
// into text (non-text ids ignored). Updates `prompt` in place. keep_unfinished: see split_window.
WindowStep finish_window(const WindowDecode& d, int64_t segment_frames, int timestamp_begin, const TokenText& text,
                         const Options& o, PromptState& prompt, double time_offset = 0.0,
                         const WordStage& words = {}, bool keep_unfinished = false);

}  // namespace npw
