// OpenAI's iterate_result with a cue-duration limit, and the SRT / WebVTT writers; see caption_cues.h.
#include "decode/caption_cues.h"

#include <cmath>
#include <cstdio>

#include "decode/text_metrics.h"
#include "util/error.h"

namespace npw {

namespace {

// Python's len() of valid UTF-8: code points.
int code_points(const std::string& s) {
  int n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

Cue make_cue(std::vector<Word>& shown, std::vector<Word>& original, double max_duration, std::size_t segment) {
  Cue c;
  c.segment = segment;
  c.start = shown.front().start;
  c.end = shown.back().end;
  if (max_duration > 0 && c.end - c.start > max_duration) c.end = c.start + max_duration;
  for (const Word& w : shown) c.text += w.word;
  c.words = std::move(original);
  shown.clear();
  original.clear();
  return c;
}

}  // namespace

void validate_cue_limits(const CueLimits& l) {
  auto bad = [](const std::string& what) { throw Error(ErrorKind::InvalidArgument, what); };
  if (l.max_line_width < 0) bad("max_line_width must be >= 0 (0: no limit), got " + std::to_string(l.max_line_width));
  if (l.max_line_count < 0) bad("max_line_count must be >= 0 (0: no limit), got " + std::to_string(l.max_line_count));
  if (l.max_words_per_line < 0)
    bad("max_words_per_line must be >= 0 (0: no limit), got " + std::to_string(l.max_words_per_line));
  if (!std::isfinite(l.max_cue_duration) || l.max_cue_duration < 0)
    bad("max_cue_duration must be a finite number of seconds >= 0 (0: no limit)");
}

std::vector<Cue> shape_cues(const std::vector<Segment>& segments, const CueLimits& limits) {
  std::vector<Cue> cues;
  bool have_words = !segments.empty();
  for (const Segment& s : segments)
    if (s.words.empty() && !python_strip(s.text).empty()) have_words = false;
  if (!have_words) {
    for (std::size_t i = 0; i < segments.size(); ++i) {
      const Segment& s = segments[i];
      Cue c;
      c.segment = i;
      c.start = s.start;
      c.end = s.end;
      c.text = replace_all(python_strip(s.text), "-->", "->");
      cues.push_back(std::move(c));
    }
    return cues;
  }
  const bool has_count = limits.max_line_count > 0;
  const bool preserve_segments = !has_count || limits.max_line_width <= 0;
  const int max_line_width = limits.max_line_width > 0 ? limits.max_line_width : 1000;
  const std::size_t max_words = limits.max_words_per_line > 0 ? static_cast<std::size_t>(limits.max_words_per_line) : 1000;
  const double max_duration = limits.max_cue_duration;

  int line_len = 0, line_count = 1;
  std::vector<Word> subtitle, original;
  std::size_t first_segment = 0;  // of the cue being filled
  double last = 0.0;  // OpenAI's get_start
  {
    bool found = false;
    for (const Segment& s : segments) {
      if (!s.words.empty()) {
        last = s.words.front().start;
        found = true;
        break;
      }
    }
    if (!found) last = segments.front().start;
  }
  for (std::size_t seg_index = 0; seg_index < segments.size(); ++seg_index) {
    const Segment& segment = segments[seg_index];
    const std::size_t n = segment.words.size();
    std::size_t chunk = 0, words_count = max_words;
    while (chunk < n) {
      if (max_words > n - chunk) words_count = n - chunk;
      for (std::size_t i = 0; i < words_count && chunk + i < n; ++i) {
        Word timing = segment.words[chunk + i];
        const Word& source = segment.words[chunk + i];
        const bool long_pause = !preserve_segments && timing.start - last > 3.0;
        const bool has_room = line_len + code_points(timing.word) <= max_line_width;
        const bool seg_break = i == 0 && !subtitle.empty() && preserve_segments;
        const bool too_long = max_duration > 0 && !subtitle.empty() && timing.end - subtitle.front().start > max_duration;
        if (line_len > 0 && has_room && !long_pause && !seg_break && !too_long) {
          line_len += code_points(timing.word);
        } else {
          timing.word = python_strip(timing.word);
          if ((!subtitle.empty() && has_count && (long_pause || line_count >= limits.max_line_count)) || seg_break ||
              too_long) {
            cues.push_back(make_cue(subtitle, original, max_duration, first_segment));
            line_count = 1;
          } else if (line_len > 0) {
            ++line_count;
            timing.word = "\n" + timing.word;
          }
          line_len = code_points(python_strip(timing.word));
        }
        if (subtitle.empty()) first_segment = seg_index;
        subtitle.push_back(timing);
        original.push_back(source);
        last = timing.start;
      }
      chunk += max_words;
    }
  }
  if (!subtitle.empty()) cues.push_back(make_cue(subtitle, original, max_duration, first_segment));
  return cues;
}

std::string caption_text(const std::string& text) {
  std::string lf;
  lf.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\r') {
      lf += text[i];
    } else if (i + 1 >= text.size() || text[i + 1] != '\n') {
      lf += '\n';
    }
  }
  std::string out;
  for (std::size_t begin = 0; begin <= lf.size();) {
    std::size_t end = lf.find('\n', begin);
    if (end == std::string::npos) end = lf.size();
    std::string line = lf.substr(begin, end - begin);
    // A replacement can only make a new "-->" starting one character earlier ("--->" -> "-->").
    for (std::size_t at = line.find("-->"); at != std::string::npos; at = line.find("-->", at > 0 ? at - 1 : 0)) {
      line.replace(at, 3, "->");
    }
    if (!python_strip(line).empty()) {
      if (!out.empty()) out += '\n';
      out += line;
    }
    begin = end + 1;
  }
  return python_strip(out);
}

std::string caption_timestamp(double seconds, bool always_hours, char decimal_marker) {
  // round() in Python: to nearest, ties to even
  long long ms = std::isfinite(seconds) && seconds > 0 ? static_cast<long long>(std::nearbyint(seconds * 1000.0)) : 0;
  const long long hours = ms / 3600000;
  ms -= hours * 3600000;
  const long long minutes = ms / 60000;
  ms -= minutes * 60000;
  const long long secs = ms / 1000;
  ms -= secs * 1000;
  char buf[64];
  if (always_hours || hours > 0)
    std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld%c%03lld", hours, minutes, secs, decimal_marker, ms);
  else
    std::snprintf(buf, sizeof buf, "%02lld:%02lld%c%03lld", minutes, secs, decimal_marker, ms);
  return buf;
}

// A cue whose text is only white space is not written: it would show nothing, and its empty text
// line would read as the end of the cue, leaving a stray blank line.
std::string srt_document(const std::vector<Cue>& cues) {
  std::string out;
  std::size_t number = 0;
  for (const Cue& c : cues) {
    const std::string text = caption_text(c.text);
    if (text.empty()) continue;
    out += std::to_string(++number) + "\n" + caption_timestamp(c.start, true, ',') + " --> " +
           caption_timestamp(c.end, true, ',') + "\n" + text + "\n\n";
  }
  return out;
}

std::string vtt_document(const std::vector<Cue>& cues) {
  std::string out = "WEBVTT\n\n";
  for (const Cue& c : cues) {
    const std::string text = caption_text(c.text);
    if (text.empty()) continue;
    out += caption_timestamp(c.start, false, '.') + " --> " + caption_timestamp(c.end, false, '.') + "\n" + text + "\n\n";
  }
  return out;
}

}  // namespace npw
