// See segment_words.h.
#include "stream/segment_words.h"

#include <algorithm>
#include <string>

namespace npw {

std::vector<Word> segment_words(const Segment& seg, double offset) {
  std::vector<Word> out;
  if (!seg.words.empty()) {
    for (Word w : seg.words) {
      w.start += offset;
      w.end += offset;
      out.push_back(std::move(w));
    }
    return out;
  }
  // Split before each space (Whisper's words carry their leading space).
  std::vector<std::string> parts;
  for (char c : seg.text) {
    if (c == ' ' && !parts.empty() && parts.back().find_first_not_of(' ') != std::string::npos) parts.emplace_back();
    if (parts.empty()) parts.emplace_back();
    parts.back() += c;
  }
  std::size_t total = 0;
  for (const std::string& p : parts) total += p.size();
  if (total == 0) return out;
  float prob = 0.0f;
  for (float p : seg.token_probs) prob += p;
  if (!seg.token_probs.empty()) prob /= static_cast<float>(seg.token_probs.size());
  const double span = std::max(0.0, seg.end - seg.start);
  std::size_t before = 0;
  for (const std::string& p : parts) {
    if (p.find_first_not_of(' ') == std::string::npos) {
      before += p.size();
      continue;
    }
    Word w;
    w.word = p;
    w.start = offset + seg.start + span * static_cast<double>(before) / static_cast<double>(total);
    before += p.size();
    w.end = offset + seg.start + span * static_cast<double>(before) / static_cast<double>(total);
    w.probability = prob;
    out.push_back(std::move(w));
  }
  return out;
}

}  // namespace npw
