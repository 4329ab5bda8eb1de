// Text and JSON output of npuwhisper-cli; see cli_output.h.
#include "cli_output.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "decode/text_metrics.h"

namespace npw {

namespace {

// The shortest digits that read back as the same number: as a float when the value is one (most
// fields are: 0.6f prints 0.6, not 0.600000024), else as a double.
std::string number(double v) {
  if (!std::isfinite(v)) return "null";  // JSON has no NaN/Infinity
  const bool is_float = static_cast<double>(static_cast<float>(v)) == v;
  char buf[32];
  for (int digits = 1; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof buf, "%.*g", digits, v);
    const double back = std::strtod(buf, nullptr);
    if (is_float ? static_cast<float>(back) == static_cast<float>(v) : back == v) break;
  }
  return buf;
}

// A JSON string literal. The text is valid UTF-8 (the tokenizer guarantees it), so only quotes,
// backslashes and control characters need escaping.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

}  // namespace

std::string format_timestamp(double seconds) {
  long long ms = std::isfinite(seconds) && seconds > 0.0 ? std::llround(seconds * 1000.0) : 0;
  const long long minutes = ms / 60000;
  ms -= minutes * 60000;
  const long long secs = ms / 1000;
  ms -= secs * 1000;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%02lld:%02lld.%03lld", minutes, secs, ms);
  return buf;
}

std::string segment_line(const Segment& s) {
  std::string text = python_strip(s.text);
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return "[" + format_timestamp(s.start) + " --> " + format_timestamp(s.end) + "] " + text;
}

std::string word_line(const Word& w) {
  std::string text = python_strip(w.word);
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return "[" + format_timestamp(w.start) + " --> " + format_timestamp(w.end) + "] " + text;
}

std::string words_dump_json(const std::vector<Word>& words) {
  std::string j = "{\"words\": [";
  for (std::size_t i = 0; i < words.size(); ++i) {
    const Word& w = words[i];
    j += i ? ",\n  " : "\n  ";
    j += "{\"word\": " + quoted(w.word) + ", \"tokens\": [";
    for (std::size_t k = 0; k < w.tokens.size(); ++k) j += (k ? ", " : "") + std::to_string(w.tokens[k]);
    j += "], \"start\": " + number(w.start) + ", \"end\": " + number(w.end) + ", \"probability\": " +
         number(w.probability) + "}";
  }
  j += words.empty() ? "]}\n" : "\n]}\n";
  return j;
}

std::string transcription_json(const TranscribeResult& r, const std::string& model, const std::string& audio,
                               bool with_words) {
  std::string j = "{\"model\": " + quoted(model) + ", \"audio\": " + quoted(audio) + ", \"language\": " + quoted(r.language);
  if (!r.language_probs.empty()) {
    j += ", \"language_probs\": {";
    for (std::size_t i = 0; i < r.language_probs.size(); ++i) {
      j += (i ? ", " : "") + quoted(r.language_probs[i].first) + ": " + number(r.language_probs[i].second);
    }
    j += "}";
  }
  j += ", \"segments\": [";
  for (std::size_t i = 0; i < r.segments.size(); ++i) {
    const Segment& s = r.segments[i];
    j += i ? ",\n  " : "\n  ";
    j += "{\"id\": " + std::to_string(i) + ", \"start\": " + number(s.start) + ", \"end\": " + number(s.end) +
         ", \"text\": " + quoted(s.text) + ", \"tokens\": [";
    for (std::size_t k = 0; k < s.tokens.size(); ++k) j += (k ? ", " : "") + std::to_string(s.tokens[k]);
    j += "], \"token_probs\": [";
    for (std::size_t k = 0; k < s.token_probs.size(); ++k) j += (k ? ", " : "") + number(s.token_probs[k]);
    j += "], \"avg_logprob\": " + number(s.avg_logprob) + ", \"compression_ratio\": " + number(s.compression_ratio) +
         ", \"no_speech_prob\": " + number(s.no_speech_prob) + ", \"temperature\": " + number(s.temperature);
    if (with_words) {
      j += ", \"words\": [";
      for (std::size_t k = 0; k < s.words.size(); ++k) {
        const Word& w = s.words[k];
        j += std::string(k ? ", " : "") + "{\"word\": " + quoted(w.word) + ", \"start\": " + number(w.start) +
             ", \"end\": " + number(w.end) + ", \"probability\": " + number(w.probability) + "}";
      }
      j += "]";
    }
    j += "}";
  }
  j += r.segments.empty() ? "]}\n" : "\n]}\n";
  return j;
}

}  // namespace npw
