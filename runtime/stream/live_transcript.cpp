// See live_transcript.h.
#include "stream/live_transcript.h"

#include <algorithm>
#include <cmath>

#include "stream/segment_words.h"

namespace npw {

namespace {

constexpr std::size_t kHistoryWords = 200;  // far more than 200 characters of prompt need

double to_seconds(std::uint64_t sample) { return static_cast<double>(sample) / LiveTranscript::kRate; }

std::uint64_t to_sample(double seconds) {
  return seconds <= 0.0 ? 0 : static_cast<std::uint64_t>(std::llround(seconds * LiveTranscript::kRate));
}

}  // namespace

LiveTranscript::LiveTranscript(Recognizer& recognizer, LiveSettings settings)
    : recognizer_(recognizer), s_(settings), agreement_(settings.agreement) {
  s_.trim_seconds = std::clamp(s_.trim_seconds, 1.0, 30.0);
}

void LiveTranscript::append(const float* samples, std::size_t n) { buffer_.insert(buffer_.end(), samples, samples + n); }

void LiveTranscript::skip(std::size_t n) {
  start_ = end() + n;
  buffer_.clear();
}

void LiveTranscript::reset() {
  agreement_.reset();
  buffer_.clear();
  start_ = 0;
  history_.clear();
  prompt_floor_ = -std::numeric_limits<double>::infinity();
  overflows_ = 0;
}

void LiveTranscript::trim_to(std::uint64_t sample) {
  if (sample <= start_) return;
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(sample - start_, buffer_.size()));
  buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(n));
  start_ += n;
}

void LiveTranscript::remember(const std::vector<Word>& words) {
  history_.insert(history_.end(), words.begin(), words.end());
  if (history_.size() > kHistoryWords)
    history_.erase(history_.begin(), history_.begin() + static_cast<std::ptrdiff_t>(history_.size() - kHistoryWords));
}

std::string LiveTranscript::prompt() const {
  const double buffer_start = to_seconds(start_);
  std::string text;
  for (const Word& w : history_) {
    if (w.end <= prompt_floor_ || w.end > buffer_start + 1e-6) continue;
    text += w.word;
  }
  if (text.size() <= s_.prompt_chars) return text;
  // The last prompt_chars characters, starting at a word (a space) and never inside a UTF-8 sequence.
  std::size_t from = text.size() - s_.prompt_chars;
  while (from < text.size() && text[from] != ' ') ++from;
  return text.substr(from);
}

std::vector<Word> LiveTranscript::step() {
  std::vector<Word> out;
  if (buffer_.size() > kMaxBuffer) {
    ++overflows_;
    out = agreement_.commit_until(std::numeric_limits<double>::infinity());
    remember(out);
    trim_to(std::max(to_sample(agreement_.last_committed_end()), end() - kMaxBuffer));
  }
  if (buffer_.empty()) return out;

  const double offset = to_seconds(start_);
  HypothesisOptions h;
  h.prompt = prompt();
  h.word_timestamps = s_.word_timestamps;
  h.greedy = s_.greedy;
  h.stream_sample = start_;
  const WindowResult r = recognizer_.recognize(buffer_.data(), buffer_.size(), h);
  std::vector<Word> hypothesis;
  std::vector<double> segment_ends;
  bool unreliable = false;
  for (const Segment& seg : r.segments) {
    std::vector<Word> words = segment_words(seg, offset);
    hypothesis.insert(hypothesis.end(), words.begin(), words.end());
    segment_ends.push_back(offset + seg.end);
    if (seg.temperature > s_.prompt_reset_temperature ||
        (s_.loop_compression_ratio > 0.0f && seg.compression_ratio > s_.loop_compression_ratio))
      unreliable = true;
  }
  agreement_.insert(std::move(hypothesis));
  std::vector<Word> committed = agreement_.flush();
  remember(committed);
  // Whatever was committed so far conditioned a decoding that went wrong: it stops being the prompt.
  if (unreliable) prompt_floor_ = agreement_.last_committed_end();
  out.insert(out.end(), committed.begin(), committed.end());
  trim_after_commit(segment_ends);
  return out;
}

void LiveTranscript::trim_after_commit(const std::vector<double>& segment_ends) {
  if (to_seconds(buffer_.size()) <= s_.trim_seconds) return;
  const double committed_end = agreement_.last_committed_end();
  double cut = -1.0;
  // The last segment may still be growing; the others closed where Whisper put a timestamp pair.
  for (std::size_t i = 0; i + 1 < segment_ends.size(); ++i)
    if (segment_ends[i] <= committed_end) cut = std::max(cut, segment_ends[i]);
  // Long speech without a closed segment: cut at the last committed word instead of letting the
  // buffer reach 30 s and commit by force.
  if (cut < 0.0) cut = committed_end;
  trim_to(to_sample(cut));
}

std::vector<Word> LiveTranscript::finish() {
  std::vector<Word> out = agreement_.commit_until(std::numeric_limits<double>::infinity());
  remember(out);
  start_ = end();
  buffer_.clear();
  return out;
}

}  // namespace npw
