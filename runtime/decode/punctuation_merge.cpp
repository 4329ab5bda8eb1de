// merge_punctuations of whisper/timing.py; see punctuation_merge.h.
#include "decode/punctuation_merge.h"

#include "decode/text_metrics.h"

namespace npw {

const char kDefaultPrependPunctuations[] = "\"'\u201c\u00bf([{-";
const char kDefaultAppendPunctuations[] = "\"'.\u3002,\uff0c!\uff01?\uff1f:\uff1a\u201d)]}\u3001";

namespace {

bool starts_with_space(const std::string& s) { return !s.empty() && s.front() == ' '; }
bool ends_with_space(const std::string& s) { return !s.empty() && s.back() == ' '; }
bool contains(const std::string& set, const std::string& piece) { return set.find(piece) != std::string::npos; }

void move_into(Word& from, Word& to, bool before) {
  if (before) {
    to.word = from.word + to.word;
    to.tokens.insert(to.tokens.begin(), from.tokens.begin(), from.tokens.end());
  } else {
    to.word += from.word;
    to.tokens.insert(to.tokens.end(), from.tokens.begin(), from.tokens.end());
  }
  from.word.clear();
  from.tokens.clear();
}

}  // namespace

void merge_punctuations(std::vector<Word>& alignment, const std::string& prepended, const std::string& appended) {
  const long n = static_cast<long>(alignment.size());
  // Prepended: walk backwards, each opening mark joining the nearest following word still standing.
  long i = n - 2, j = n - 1;
  while (i >= 0) {
    Word& previous = alignment[static_cast<std::size_t>(i)];
    Word& following = alignment[static_cast<std::size_t>(j)];
    if (starts_with_space(previous.word) && contains(prepended, python_strip(previous.word))) {
      move_into(previous, following, true);
    } else {
      j = i;
    }
    --i;
  }
  // Appended: walk forwards, each closing mark joining the nearest preceding word still standing.
  i = 0;
  j = 1;
  while (j < n) {
    Word& previous = alignment[static_cast<std::size_t>(i)];
    Word& following = alignment[static_cast<std::size_t>(j)];
    if (!ends_with_space(previous.word) && contains(appended, following.word)) {
      move_into(following, previous, false);
    } else {
      i = j;
    }
    ++j;
  }
}

}  // namespace npw
