// add_word_timestamps of whisper/timing.py; see word_timing.h.
#include "decode/word_timing.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "decode/punctuation_merge.h"

namespace npw {

namespace {

bool contains(const char* set, const std::string& piece) { return std::string(set).find(piece) != std::string::npos; }

const char kSentenceEndMarks[] = ".\u3002!\uff01?\uff1f";

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

}  // namespace

double round_centis(double x) {
  if (!std::isfinite(x) || std::fabs(x) > 1e13) return x;
  // printf rounds the exact binary value to nearest, ties to even, as Python's round(x, 2) does;
  // the two-decimal result, read as an integer number of hundredths and divided by 100, is then
  // the double nearest to that decimal (independent of the locale's decimal mark).
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", x);
  long long hundredths = 0;
  bool negative = false;
  for (const char* p = buf; *p; ++p) {
    if (*p == '-') negative = true;
    else if (*p >= '0' && *p <= '9') hundredths = hundredths * 10 + (*p - '0');
  }
  const double v = static_cast<double>(hundredths) / 100.0;
  return negative ? -v : v;
}

void keep_words_inside(Segment& segment, double limit) {
  const double hi = std::min(segment.end, limit);
  double floor = std::min(std::max(segment.start, 0.0), hi);
  for (Word& w : segment.words) {
    w.start = std::min(std::max(w.start, floor), hi);
    w.end = std::min(std::max(w.end, w.start), hi);
    floor = w.end;
  }
}

bool last_word_end(const std::vector<Segment>& segments, double& end) {
  for (auto s = segments.rbegin(); s != segments.rend(); ++s) {
    if (!s->words.empty()) {
      end = s->words.back().end;
      return true;
    }
  }
  if (segments.empty()) return false;
  end = segments.back().end;
  return true;
}

void add_word_timestamps(std::vector<Segment>& segments, std::vector<Word> alignment, double time_offset,
                         const WordTimingSettings& settings, int eot, double last_speech_timestamp) {
  if (segments.empty()) return;
  std::vector<double> durations;
  for (const Word& w : alignment)
    if (w.end - w.start != 0.0) durations.push_back(w.end - w.start);
  double median_duration = durations.empty() ? 0.0 : median(durations);
  median_duration = std::min(0.7, median_duration);
  const double max_duration = median_duration * 2;

  // Words at sentence boundaries no longer than twice the median word duration.
  if (!durations.empty()) {
    for (std::size_t i = 1; i < alignment.size(); ++i) {
      if (alignment[i].end - alignment[i].start > max_duration) {
        if (contains(kSentenceEndMarks, alignment[i].word))
          alignment[i].end = alignment[i].start + max_duration;
        else if (contains(kSentenceEndMarks, alignment[i - 1].word))
          alignment[i].start = alignment[i].end - max_duration;
      }
    }
  }
  merge_punctuations(alignment, settings.prepend_punctuations, settings.append_punctuations);

  std::size_t word_index = 0;
  for (Segment& segment : segments) {
    std::size_t n_text = 0;
    for (int t : segment.tokens)
      if (t < eot) ++n_text;
    std::size_t saved_tokens = 0;
    std::vector<Word> words;
    while (word_index < alignment.size() && saved_tokens < n_text) {
      const Word& timing = alignment[word_index];
      if (!timing.word.empty()) {
        Word w = timing;
        w.start = round_centis(time_offset + timing.start);
        w.end = round_centis(time_offset + timing.end);
        words.push_back(std::move(w));
      }
      saved_tokens += timing.tokens.size();
      ++word_index;
    }
    if (!words.empty()) {
      // The first and second word after a pause no longer than twice the median word duration.
      if (words[0].end - last_speech_timestamp > median_duration * 4 &&
          (words[0].end - words[0].start > max_duration ||
           (words.size() > 1 && words[1].end - words[0].start > max_duration * 2))) {
        if (words.size() > 1 && words[1].end - words[1].start > max_duration) {
          const double boundary = std::max(words[1].end / 2, words[1].end - max_duration);
          words[0].end = words[1].start = boundary;
        }
        words[0].start = std::max(0.0, words[0].end - max_duration);
      }
      // The segment's own start when the first word is too long, else the first word's start.
      if (segment.start < words[0].end && segment.start - 0.5 > words[0].start) {
        words[0].start = std::max(0.0, std::min(words[0].end - median_duration, segment.start));
      } else {
        segment.start = words[0].start;
      }
      // Likewise at the end.
      if (segment.end > words.back().start && segment.end + 0.5 < words.back().end) {
        words.back().end = std::max(words.back().start + median_duration, segment.end);
      } else {
        segment.end = words.back().end;
      }
      last_speech_timestamp = segment.end;
    }
    segment.words = std::move(words);
  }
}

}  // namespace npw
