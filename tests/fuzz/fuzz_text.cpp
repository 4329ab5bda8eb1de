// The text side of the runtime under arbitrary input: prompts (a user's initial-prompt property or
// --initial-prompt, turned into ids by the GPT-2 pre-tokeniser and the heap byte-pair merge) and
// token ids a model may emit in any order (decoded whole and token by token, split into words,
// punctuation merged). Besides ASan and UBSan, each unit checks the contracts callers rely on:
//  - prompt ids are text tokens whose bytes are the prompt's bytes, and they are the ids of
//    tiktoken's own algorithm, re-implemented here as its plain rescanning loop (the runtime's merge
//    is a heap of candidate pairs, easy to get subtly wrong on ties);
//  - decoded text is well-formed UTF-8 (checked here against Unicode's table 3-7, not with the
//    runtime's own assembler), the same whole or streamed, and nothing but U+FFFD replaces bytes;
//  - words keep the tokens in order and the text of the merged words is the text of the words;
//  - the words shaped into cues under limits of any kind, then written as SRT and WebVTT, read back
//    as exactly those cues (no blank line or "-->" inside a cue's text, times that do not go back).
// The first byte chooses the mode: even, the rest is prompt text; odd, the rest is 16-bit token ids
// (modulo the vocabulary) after one byte that picks the language and one that picks the cue limits.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "decode/byte_pair.h"
#include "decode/caption_cues.h"
#include "decode/pretokenize.h"
#include "decode/punctuation_merge.h"
#include "decode/text_metrics.h"
#include "decode/tokenizer.h"
#include "decode/utf8_assembler.h"
#include "decode/word.h"
#include "decode/word_split.h"
#include "model/model.h"
#include "util/error.h"

namespace {

[[noreturn]] void fail(const char* what) {
  std::fprintf(stderr, "fuzz_text: %s\n", what);
  std::abort();
}

struct Fixture {
  std::shared_ptr<const npw::Model> model;
  std::unique_ptr<npw::Tokenizer> tokenizer;
  std::unordered_map<std::string, int> rank;  // text token bytes -> lowest id (tiktoken's rank)
};

const Fixture& fixture() {
  static const Fixture f = [] {
    Fixture x;
    const char* path = std::getenv("NPW_FUZZ_TEXT_MODEL");
    x.model = npw::Model::load(path ? path : NPW_FUZZ_DEFAULT_MODEL);
    x.tokenizer = std::make_unique<npw::Tokenizer>(x.model->vocab());
    const npw::Vocab& v = x.model->vocab();
    for (int id = 0; id < v.eot(); ++id) {
      const std::string_view b = v.bytes(id);
      if (!b.empty()) x.rank.emplace(std::string(b), id);
    }
    return x;
  }();
  return f;
}

// Unicode 15, table 3-7: the well-formed UTF-8 byte sequences.
bool well_formed(const std::string& s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    auto at = [&](std::size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0u; };
    auto cont = [](unsigned c, unsigned lo = 0x80, unsigned hi = 0xBF) { return c >= lo && c <= hi; };
    if (b < 0x80) {
      i += 1;
    } else if (b >= 0xC2 && b <= 0xDF && cont(at(1))) {
      i += 2;
    } else if ((b == 0xE0 && cont(at(1), 0xA0) && cont(at(2))) ||
               (((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) && cont(at(1)) && cont(at(2))) ||
               (b == 0xED && cont(at(1), 0x80, 0x9F) && cont(at(2)))) {
      i += 3;
    } else if ((b == 0xF0 && cont(at(1), 0x90) && cont(at(2)) && cont(at(3))) ||
               (b >= 0xF1 && b <= 0xF3 && cont(at(1)) && cont(at(2)) && cont(at(3))) ||
               (b == 0xF4 && cont(at(1), 0x80, 0x8F) && cont(at(2)) && cont(at(3)))) {
      i += 4;
    } else {
      return false;
    }
  }
  return true;
}

// tiktoken's _byte_pair_merge as it is written: rescan every pair after every merge, lowest rank
// first, the leftmost on a tie. Cubic; only run on pieces of a few dozen bytes.
std::vector<int> reference_merge(const std::string& piece, const std::unordered_map<std::string, int>& rank) {
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i <= piece.size(); ++i) starts.push_back(i);
  for (;;) {
    int best = std::numeric_limits<int>::max();
    std::size_t at = 0;
    for (std::size_t p = 0; p + 2 < starts.size(); ++p) {
      const auto it = rank.find(piece.substr(starts[p], starts[p + 2] - starts[p]));
      if (it != rank.end() && it->second < best) {
        best = it->second;
        at = p;
      }
    }
    if (best == std::numeric_limits<int>::max()) break;
    starts.erase(starts.begin() + static_cast<std::ptrdiff_t>(at) + 1);
  }
  std::vector<int> ids;
  for (std::size_t p = 0; p + 1 < starts.size(); ++p) {
    const auto it = rank.find(piece.substr(starts[p], starts[p + 1] - starts[p]));
    if (it == rank.end()) fail("a single byte has no token");
    ids.push_back(it->second);
  }
  return ids;
}

void check_prompt(const Fixture& f, const std::string& text) {
  const std::vector<std::string> words = npw::gpt2_pretokenize(text);
  std::string joined;
  for (const std::string& w : words) {
    if (w.empty()) fail("pre-tokeniser made an empty word");
    joined += w;
  }
  if (joined != text) fail("pre-tokenised words do not join to the text");

  const std::vector<int> ids = f.tokenizer->encode(text);
  std::string bytes;
  for (int id : ids) {
    if (!f.tokenizer->is_text(id)) fail("prompt id is not a text token");
    bytes += f.model->vocab().bytes(id);
  }
  if (bytes != text) fail("prompt ids do not spell the prompt's bytes");
  if (well_formed(text) && f.tokenizer->decode(ids) != text) fail("valid UTF-8 prompt does not round-trip");

  // The same ids as tiktoken: a word the vocabulary holds is its token, any other is merged.
  std::vector<int> expected;
  bool compared = true;
  for (const std::string& w : words) {
    const auto it = f.rank.find(w);
    if (it != f.rank.end()) {
      expected.push_back(it->second);
    } else if (w.size() <= 48) {
      const std::vector<int> part = reference_merge(w, f.rank);
      expected.insert(expected.end(), part.begin(), part.end());
    } else {
      compared = false;
      break;
    }
  }
  if (compared && expected != ids) fail("prompt ids differ from tiktoken's merge loop");

  // The merge on its own: offsets start at 0 and ascend, for any text (not only one word).
  const std::string piece = text.substr(0, 256);
  const std::vector<std::size_t> cut = npw::byte_pair_merge(piece, [&](std::string_view s) -> int64_t {
    const auto it = f.rank.find(std::string(s));
    return it == f.rank.end() ? -1 : it->second;
  });
  if (piece.empty() != cut.empty()) fail("byte_pair_merge: empty result for a non-empty piece");
  for (std::size_t i = 0; i < cut.size(); ++i) {
    if ((i == 0 && cut[i] != 0) || (i > 0 && cut[i] <= cut[i - 1]) || cut[i] >= piece.size())
      fail("byte_pair_merge: offsets do not ascend from 0 within the piece");
  }
}

void check_cues(const std::vector<npw::Word>& merged, unsigned limit_byte);

void check_tokens(const Fixture& f, const std::string& language, unsigned limit_byte, const std::vector<int>& ids) {
  const npw::Tokenizer& tok = *f.tokenizer;
  const std::string text = tok.decode(ids);
  if (!well_formed(text)) fail("decoded text is not well-formed UTF-8");

  npw::TokenTextStream stream(tok);
  std::string streamed;
  for (int id : ids) {
    const std::size_t before = streamed.size();
    stream.push(id, streamed);
    if (!well_formed(streamed.substr(before))) fail("a streamed piece is not whole characters");
  }
  stream.finish(streamed);
  if (streamed != text) fail("streamed text differs from the whole decode");

  std::string text_bytes;
  for (int id : ids)
    if (tok.is_text(id)) text_bytes += f.model->vocab().bytes(id);
  if (well_formed(text_bytes) && text != text_bytes) fail("valid token bytes were changed by the decode");

  const std::string with_specials = tok.decode_with_specials(ids);
  if (!well_formed(with_specials)) fail("decode_with_specials is not well-formed UTF-8");
  const float ratio = npw::compression_ratio(with_specials);
  if (!(ratio >= 0.0f) || ratio > 1e6f) fail("compression ratio out of range");

  const std::vector<npw::WordTokens> words = npw::split_to_word_tokens(tok, ids, language);
  std::vector<int> kept;
  std::vector<npw::Word> timed;
  std::string word_text;
  double t = 0.0;
  for (const npw::WordTokens& w : words) {
    if (w.tokens.empty()) fail("a word without tokens");
    if (!well_formed(w.word)) fail("a word is not well-formed UTF-8");
    kept.insert(kept.end(), w.tokens.begin(), w.tokens.end());
    word_text += w.word;
    npw::Word x;
    x.word = w.word;
    x.tokens = w.tokens;
    x.start = t;
    x.end = t += 0.02;
    timed.push_back(std::move(x));
  }
  if (kept.size() > ids.size() || !std::equal(kept.begin(), kept.end(), ids.begin()))
    fail("words do not keep the tokens in order");

  npw::merge_punctuations(timed, npw::kDefaultPrependPunctuations, npw::kDefaultAppendPunctuations);
  std::string merged;
  std::vector<int> merged_tokens;
  for (const npw::Word& w : timed) {
    if (!well_formed(w.word)) fail("a merged word is not well-formed UTF-8");
    if (w.end < w.start) fail("a merged word ends before it starts");
    merged += w.word;
    merged_tokens.insert(merged_tokens.end(), w.tokens.begin(), w.tokens.end());
  }
  if (merged != word_text) fail("merged words do not join to the words' text");
  if (merged_tokens != kept) fail("merging lost, made or moved tokens");
  check_cues(timed, limit_byte);
}

// Reads a subtitle document back the way players do (a cue is an optional number line, a timing
// line, then text lines up to a blank line) and checks it holds `cues` in order: every one with text
// to show (one of only white space is left out, and SRT numbers the rest).
void check_document(const std::string& doc, const std::vector<npw::Cue>& cues, bool vtt) {
  std::vector<std::string> lines;
  for (std::size_t b = 0; b <= doc.size();) {
    std::size_t e = doc.find('\n', b);
    if (e == std::string::npos) e = doc.size();
    lines.push_back(doc.substr(b, e - b));
    b = e + 1;
  }
  std::size_t i = 0;
  if (vtt) {
    if (lines.size() < 2 || lines[0] != "WEBVTT" || !lines[1].empty()) fail("WebVTT header");
    i = 2;
  }
  std::size_t number = 0;
  for (std::size_t k = 0; k < cues.size(); ++k) {
    if (npw::python_strip(cues[k].text).empty()) continue;
    if (!vtt) {
      if (i >= lines.size() || lines[i] != std::to_string(++number)) fail("SRT cue number");
      ++i;
    }
    const bool hours = !vtt;
    const char mark = vtt ? '.' : ',';
    if (i >= lines.size() || lines[i] != npw::caption_timestamp(cues[k].start, hours, mark) + " --> " +
                                             npw::caption_timestamp(cues[k].end, hours, mark))
      fail("timing line");
    ++i;
    if (i >= lines.size() || lines[i].empty()) fail("a cue with text written without it");
    while (i < lines.size() && !lines[i].empty()) {
      if (lines[i].find("-->") != std::string::npos) fail("a cue's text line holds -->");
      if (!well_formed(lines[i])) fail("a cue's text is not well-formed UTF-8");
      ++i;
    }
    if (i >= lines.size()) fail("cue not ended by a blank line");
    ++i;
  }
  // What is left is the end of the document: the final newline's empty line.
  if (i + 1 != lines.size() || !lines[i].empty()) fail("text after the last cue");
}

void check_cues(const std::vector<npw::Word>& merged, unsigned limit_byte) {
  npw::Segment seg;
  for (const npw::Word& w : merged) {
    if (w.tokens.empty()) continue;  // merged away, as the transcriber drops them
    seg.text += w.word;
    seg.words.push_back(w);
  }
  if (seg.words.empty()) return;
  seg.start = seg.words.front().start;
  seg.end = seg.words.back().end;
  // A second segment of the same words after the first, so that cues flow across segments or stop
  // at them (after a pause of over 3 s, which starts a cue when lines are counted).
  npw::Segment next = seg;
  const double shift = seg.end + 3.5;
  for (npw::Word& w : next.words) {
    w.start += shift;
    w.end += shift;
  }
  next.start += shift;
  next.end += shift;
  static const int kWidths[] = {0, 1, 7, 42};
  static const int kCounts[] = {0, 1, 2};
  static const double kDurations[] = {0.0, 0.01, 0.07, 2.0};
  npw::CueLimits limits;
  limits.max_line_width = kWidths[limit_byte % 4];
  limits.max_line_count = kCounts[(limit_byte / 4) % 3];
  limits.max_words_per_line = static_cast<int>((limit_byte / 12) % 4);
  limits.max_cue_duration = kDurations[(limit_byte / 48) % 4];
  npw::validate_cue_limits(limits);
  const std::vector<npw::Cue> cues = npw::shape_cues({seg, next}, limits);
  double last_start = 0.0;
  for (const npw::Cue& c : cues) {
    if (!(c.end >= c.start) || c.start < last_start) fail("cue times go back");
    if (limits.max_cue_duration > 0 && c.end - c.start > limits.max_cue_duration + 1e-9) fail("cue past max_cue_duration");
    last_start = c.start;
  }
  check_document(npw::srt_document(cues), cues, false);
  check_document(npw::vtt_document(cues), cues, true);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Fixture& f = fixture();
  if (data[0] % 2 == 0) {
    check_prompt(f, std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
    return 0;
  }
  static const char* const kLanguages[] = {"en", "ja", "zh", "th", "de", "yue"};
  const std::string language = size > 1 ? kLanguages[data[1] % 6] : "en";
  const int n_vocab = f.model->vocab().n_vocab();
  std::vector<int> ids;
  const unsigned limit_byte = size > 2 ? data[2] : 0;
  for (std::size_t i = 3; i + 1 < size; i += 2) ids.push_back((data[i] | (data[i + 1] << 8)) % n_vocab);
  check_tokens(f, language, limit_byte, ids);
  return 0;
}
