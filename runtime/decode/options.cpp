// Options::validate(): every field checked here, once, so the CLI and the element report the same
// message for the same mistake. Model-dependent checks (a suppressed id beyond the vocabulary) are
// made when a Transcriber binds the options to a model.
#include "decode/options.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <string>
#include <vector>

#include "backend/backend_registry.h"
#include "decode/language.h"
#include "decode/suppress_tokens.h"
#include "decode/token_search.h"
#include "util/error.h"

namespace npw {

namespace {

constexpr std::size_t kMaxTemperatures = 64;
constexpr int kMaxThreads = 1024;

[[noreturn]] void invalid(const std::string& field, const std::string& why) {
  throw Error(ErrorKind::InvalidArgument, "option " + field + ": " + why);
}

std::string num(double v) {
  std::string s = std::to_string(v);
  while (s.size() > 1 && s.back() == '0' && s[s.size() - 2] != '.') s.pop_back();
  return s;
}

bool valid_utf8(const std::string& s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    int n = 0;
    uint32_t cp = 0;
    if (b < 0x80) {
      ++i;
      continue;
    } else if (b >= 0xC2 && b <= 0xDF) {
      n = 1;
      cp = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
      n = 2;
      cp = b & 0x0F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      n = 3;
      cp = b & 0x07;
    } else {
      return false;
    }
    if (i + static_cast<std::size_t>(n) >= s.size()) return false;  // truncated sequence
    for (int k = 1; k <= n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
      if ((c & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (c & 0x3F);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += static_cast<std::size_t>(n) + 1;
  }
  return true;
}

}  // namespace

std::vector<float> temperature_ladder(double start, double increment) {
  if (!(increment > 0.0)) return {static_cast<float>(start)};
  // numpy's length: ceil((stop - start) / step), the values start + i * step, in double.
  const double n = std::ceil((1.0 + 1e-6 - start) / increment);
  std::vector<float> t;
  for (long i = 0; i < n && t.size() <= kMaxTemperatures; ++i) {
    t.push_back(static_cast<float>(start + static_cast<double>(i) * increment));
  }
  return t;
}

std::vector<std::pair<int64_t, int64_t>> seek_clips(const std::string& clip_timestamps, int64_t content_frames) {
  std::vector<int64_t> points;
  std::size_t pos = 0;
  while (!clip_timestamps.empty() && pos <= clip_timestamps.size()) {
    const std::size_t comma = std::min(clip_timestamps.find(',', pos), clip_timestamps.size());
    const std::string item = clip_timestamps.substr(pos, comma - pos);
    errno = 0;
    char* end = nullptr;
    const double t = std::strtod(item.c_str(), &end);
    // Leading and trailing blanks as Python's float() allows them.
    while (end && *end != '\0' && std::isspace(static_cast<unsigned char>(*end))) ++end;
    if (item.empty() || *end != '\0' || errno == ERANGE || !std::isfinite(t) || t < 0.0 || t > 1e9) {
      invalid("clip_timestamps", "'" + item + "' is not a time in seconds >= 0 (expected START,END,...)");
    }
    points.push_back(static_cast<int64_t>(std::nearbyint(t * 100.0)));
    pos = comma + 1;
  }
  if (points.empty()) points.push_back(0);
  if (points.size() % 2 == 1) points.push_back(content_frames);
  std::vector<std::pair<int64_t, int64_t>> clips;
  for (std::size_t i = 0; i + 1 < points.size(); i += 2) {
    clips.emplace_back(points[i], std::min(points[i + 1], content_frames));
  }
  return clips;
}

void Options::validate() const {
  canonical_language(language);  // throws with the value named

  if (beam_size < 0 || beam_size > kMaxBeamSize) {
    invalid("beam_size", "must be 0 (greedy) or 1.." + std::to_string(kMaxBeamSize) + ", got " +
                             std::to_string(beam_size));
  }
  if (!std::isfinite(patience) || patience <= 0.0) {
    invalid("patience", "must be a finite number > 0, got " + num(patience));
  }
  if (beam_size > 0 && BeamSearch::max_candidates(beam_size, patience) < 1) {
    invalid("patience", "beam_size * patience rounds to 0 finished candidates (beam_size " +
                            std::to_string(beam_size) + ", patience " + num(patience) + ")");
  }
  if (std::isnan(length_penalty) || length_penalty > 1.0f) {
    invalid("length_penalty", "must be in [0, 1] (Google NMT alpha) or negative for plain length "
                              "normalisation, got " + num(length_penalty));
  }
  if (best_of < 1 || best_of > kMaxBestOf) {
    invalid("best_of", "must be 1.." + std::to_string(kMaxBestOf) + ", got " + std::to_string(best_of));
  }
  if (temperatures.empty()) invalid("temperatures", "must hold at least one temperature");
  if (temperatures.size() > kMaxTemperatures) {
    invalid("temperatures", "at most " + std::to_string(kMaxTemperatures) + " temperatures");
  }
  for (std::size_t i = 0; i < temperatures.size(); ++i) {
    const float t = temperatures[i];
    if (!std::isfinite(t) || t < 0.0f || t > 1.0f) {
      invalid("temperatures", "entry " + std::to_string(i) + " is " + num(t) + ", must be in [0, 1]");
    }
  }
  if (!std::isfinite(compression_ratio_threshold)) {
    invalid("compression_ratio_threshold", "must be finite (<= 0 disables it), got " + num(compression_ratio_threshold));
  }
  if (!std::isfinite(logprob_threshold)) {
    invalid("logprob_threshold", "must be finite (use logprob_threshold_enabled = false to disable), got " +
                                     num(logprob_threshold));
  }
  if (!std::isfinite(no_speech_threshold) || no_speech_threshold < 0.0f) {
    invalid("no_speech_threshold", "must be a probability >= 0 (> 1 disables it), got " + num(no_speech_threshold));
  }
  if (!valid_utf8(initial_prompt)) invalid("initial_prompt", "is not valid UTF-8");
  parse_suppress_tokens(suppress_tokens);  // throws naming suppress_tokens and the bad item
  if (!std::isfinite(max_initial_timestamp) || max_initial_timestamp < 0.0f || max_initial_timestamp > 30.0f) {
    invalid("max_initial_timestamp", "must be in [0, 30] seconds (0 disables it), got " + num(max_initial_timestamp));
  }
  if (n_threads < 0 || n_threads > kMaxThreads) {
    invalid("n_threads", "must be 0 (all cores) or 1.." + std::to_string(kMaxThreads) + ", got " +
                             std::to_string(n_threads));
  }
  if (!valid_utf8(prepend_punctuations)) invalid("prepend_punctuations", "is not valid UTF-8");
  if (!valid_utf8(append_punctuations)) invalid("append_punctuations", "is not valid UTF-8");
  if (std::isnan(hallucination_silence_threshold) || std::isinf(hallucination_silence_threshold)) {
    invalid("hallucination_silence_threshold", "must be a finite number of seconds (< 0: off), got " +
                                                   num(hallucination_silence_threshold));
  }
  seek_clips(clip_timestamps, 0);  // throws naming clip_timestamps and the bad item
  if (hallucination_silence_threshold >= 0.0f && !word_timestamps) {
    invalid("hallucination_silence_threshold", "needs word_timestamps (it judges words)");
  }
  const std::vector<std::string> names = backend_names();  // the registry's: auto, cpu, ..., npu-emulator
  if (std::find(names.begin(), names.end(), backend) == names.end()) {
    std::string list;
    for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
    invalid("backend", "'" + backend + "' is not one of " + list);
  }
}

}  // namespace npw
