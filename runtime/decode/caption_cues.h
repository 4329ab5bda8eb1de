// Caption cues from word times, as OpenAI's subtitle writers shape them (whisper/utils.py
// SubtitlesWriter.iterate_result): words fill lines of at most max_line_width characters, cues of
// at most max_line_count lines (a pause over 3 s also starts a cue when both are set), or cues of
// max_words_per_line words; plus a limit OpenAI lacks, max_cue_duration, so no cue stays on screen
// longer than a style guide allows (a word that would stretch a cue past it starts a new one, and a
// single word longer than it is cut short). Without word times each segment is one cue. As in
// OpenAI's writer, words flow from one segment into the next cue when both max_line_width and
// max_line_count are given (a segment then ends a cue only through the limits or a pause over 3 s);
// otherwise every segment starts a cue. Shared by the CLI's SRT/WebVTT output (all segments of the
// file at once) and the element's caption splitting (the segments of each window).
#pragma once

#include <string>
#include <vector>

#include "decode/transcriber.h"

namespace npw {

struct CueLimits {
  int max_line_width = 0;        // characters (code points) per line; 0: no limit (OpenAI's None)
  int max_line_count = 0;        // lines per cue; 0: no limit
  int max_words_per_line = 0;    // words per cue when no line width is given; 0: no limit
  double max_cue_duration = 0.0; // seconds; 0: no limit

  bool any() const { return max_line_width > 0 || max_line_count > 0 || max_words_per_line > 0 || max_cue_duration > 0; }
};

struct Cue {
  double start = 0.0;
  double end = 0.0;
  std::string text;         // lines joined by '\n', as OpenAI joins the words
  std::vector<Word> words;  // the words it shows (their text as in the segment)
  std::size_t segment = 0;  // index (in the segments shaped) of the segment its first word is from
};

// Throws npw::Error(InvalidArgument) naming the limit for negative or non-finite values.
void validate_cue_limits(const CueLimits& limits);

// Cues of `segments` (words used when every segment with text has them; else one cue per segment,
// its text stripped and "-->" made "->", as OpenAI's writers do).
std::vector<Cue> shape_cues(const std::vector<Segment>& segments, const CueLimits& limits);

// OpenAI's format_timestamp: [HH:]MM:SS<marker>mmm, hours always with `always_hours`.
std::string caption_timestamp(double seconds, bool always_hours, char decimal_marker);
// A caption's text as a text buffer or a subtitle file can carry it. A blank line ends a cue in SRT
// and WebVTT (srtenc and webvttenc write a buffer's text as it is), and a line holding "-->" is taken
// for a timing line in WebVTT and by many SRT readers; a model can emit either ("\n\n" and " -->" are
// GPT-2 tokens), and OpenAI's writers let them through on the word path and leave "--->" as "-->" on
// the other. So: CR and CRLF become LF, lines of nothing but white space go, "-->" becomes "->" until
// none is left, and the whole is stripped (Python's str.strip). Other text is only stripped.
std::string caption_text(const std::string& text);

// Whole SRT / WebVTT documents of the cues, each cue's text as caption_text() makes it; a cue left
// with no text is not written (SRT numbers the cues written).
std::string srt_document(const std::vector<Cue>& cues);
std::string vtt_document(const std::vector<Cue>& cues);

}  // namespace npw
