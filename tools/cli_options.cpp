// Flag declarations of npuwhisper-cli and their checks; nothing here touches files. Every mistake a
// user can make on the command line is refused here with the flag named, before any work starts.
#include "cli_options.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <thread>

#include "cli_flags.h"
#include "util/error.h"

namespace npw {

namespace {

constexpr int kMaxThreads = 256;
constexpr int kMaxGreedySteps = 100000;  // bounded again by the model's text context at run time

int default_threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return static_cast<int>(std::clamp(hw == 0 ? 1u : hw, 1u, 8u));
}

[[noreturn]] void bad(const std::string& why) { throw Error(ErrorKind::InvalidArgument, why); }

// "50257,50362" -> ids. Range against the vocabulary is checked once the model is loaded.
std::vector<int> parse_token_list(const std::string& s) {
  std::vector<int> ids;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    const std::size_t comma = std::min(s.find(',', pos), s.size());
    const std::string item = s.substr(pos, comma - pos);
    errno = 0;
    char* end = nullptr;
    const long v = std::strtol(item.c_str(), &end, 10);
    if (item.empty() || end != item.c_str() + item.size() || errno == ERANGE || v < 0 || v > 0x7fffffffL) {
      bad("flag '--tokens': '" + item + "' is not a token id (expected ID,ID,... with non-negative integers)");
    }
    ids.push_back(static_cast<int>(v));
    pos = comma + 1;
  }
  return ids;
}

// Options::validate() names the field; the user typed a flag, so name that too.
void validate_transcription(const Options& o) {
  try {
    o.validate();
  } catch (const Error& e) {
    const std::string what = e.what();
    const char* flag = "";
    if (what.find("beam_size") != std::string::npos) flag = " (--beam-size)";
    else if (what.find("best_of") != std::string::npos) flag = " (--best-of)";
    else if (what.find("initial_prompt") != std::string::npos) flag = " (--initial-prompt)";
    else if (what.find("temperatures") != std::string::npos) flag = " (--temperature-increment)";
    else if (what.find("patience") != std::string::npos) flag = " (--patience)";
    else if (what.find("suppress_tokens") != std::string::npos) flag = " (--suppress-tokens)";
    else if (what.find("compression_ratio") != std::string::npos) flag = " (--compression-ratio-threshold)";
    else if (what.find("clip_timestamps") != std::string::npos) flag = " (--clip-timestamps)";
    else if (what.find("language") != std::string::npos) flag = " (--language)";
    else if (what.find("alignment heads") != std::string::npos) flag = " (--alignment-heads)";
    else if (what.find("punctuations") != std::string::npos) flag = " (--prepend-punctuations/--append-punctuations)";
    else if (what.find("backend") != std::string::npos) flag = " (--backend)";
    bad(what + flag);
  }
}

// A threshold flag of OpenAI's command, which takes "none" (any case) to turn its test off. Returns
// false for "none", else stores the number.
bool threshold_or_none(const FlagParser& flags, const char* name, float& value) {
  if (!flags.has(name)) return true;
  std::string v = flags.value_or(name, "");
  std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (v == "none") return false;
  value = static_cast<float>(flags.number_or(name, 0.0));
  return true;
}

// The decoding policy's flags, with the names and meanings of OpenAI's `whisper` command.
void read_decoding_flags(const FlagParser& flags, Options& t) {
  if (flags.has("no-fallback") && flags.has("temperature-increment")) {
    bad("flags '--no-fallback' and '--temperature-increment' both set the fallback: give one");
  }
  const double start = flags.number_or("temperature", 0.0);
  if (start < 0.0 || start > 1.0) bad("flag '--temperature': must be in [0, 1], got " + flags.value_or("temperature", ""));
  const double increment = flags.has("no-fallback") ? 0.0 : flags.number_or("temperature-increment", 0.2);
  if (increment < 0.0 || increment > 1.0) {
    bad("flag '--temperature-increment': must be in [0, 1] (0: no fallback), got " +
        flags.value_or("temperature-increment", ""));
  }
  t.temperatures = temperature_ladder(start, increment);
  if (!threshold_or_none(flags, "compression-ratio-threshold", t.compression_ratio_threshold)) {
    t.compression_ratio_threshold = 0.0f;  // <= 0: off
  }
  t.logprob_threshold_enabled = threshold_or_none(flags, "logprob-threshold", t.logprob_threshold);
  if (!threshold_or_none(flags, "no-speech-threshold", t.no_speech_threshold)) {
    t.no_speech_threshold = 2.0f;  // > 1: off
  } else if (flags.has("no-speech-threshold") && !(t.no_speech_threshold >= 0.0f && t.no_speech_threshold <= 1.0f)) {
    bad("flag '--no-speech-threshold': must be a probability in [0, 1] (none: off), got " +
        flags.value_or("no-speech-threshold", ""));
  }
  t.condition_on_previous_text = !flags.has("no-condition-on-previous-text");
  t.patience = flags.number_or("patience", t.patience);
  if (flags.has("patience") && t.patience == 0.0) t.patience = 1.0;  // OpenAI: `patience or 1.0`
  t.length_penalty = static_cast<float>(flags.number_or("length-penalty", t.length_penalty));
  if (flags.has("length-penalty") && !(t.length_penalty >= 0.0f && t.length_penalty <= 1.0f)) {
    bad("flag '--length-penalty': must be in [0, 1], got " + flags.value_or("length-penalty", ""));
  }
  t.suppress_tokens = flags.value_or("suppress-tokens", t.suppress_tokens);
  t.clip_timestamps = flags.value_or("clip-timestamps", t.clip_timestamps);
}

}  // namespace

CliOptions parse_cli_options(int argc, const char* const* argv) {
  FlagParser flags("npuwhisper-cli",
                   "Transcribes a 16 kHz mono WAV file with a whisper.cpp GGML model and prints one line per\n"
                   "segment, \"[mm:ss.mmm --> mm:ss.mmm] text\" (--json: every field as JSON). The log-mel is\n"
                   "clamped over the whole file, as OpenAI's transcribe().\n"
                   "Window mode (any of --dump-mel, --dump-encoder, --tokens) instead works on the 30 s window\n"
                   "at --offset: dumps its log-mel and encoder output, and feeds --tokens to the decoder to\n"
                   "dump their logits or N steps of plain argmax. Dumps are raw little-endian, C order.");
  flags.add_value("model", "FILE", "whisper.cpp GGML model file", true);
  flags.add_value("audio", "FILE", "WAV file, 16 kHz mono, 16-bit PCM or 32-bit float", true);
  flags.add_value("threads", "N", "CPU threads (default " + std::to_string(default_threads()) + ")");
  flags.add_value("backend", "NAME", "where the products run: auto (default), cpu, cpu-int8, npu, npu-emulator");
  flags.add_value("kernel-dir", "DIR", "NPU kernel directory (default $NPW_KERNEL_DIR, else the installed one)");
  flags.add_switch("mel-on-device", "log-mel as two products on the backend's accelerator (bf16 on an NPU), not the CPU FFT");
  flags.add_value("language", "LANG", "spoken language: auto (detect; default) or a code/name (en, de-AT, german)");
  flags.add_switch("translate", "translate into English instead of transcribing (multilingual models)");
  flags.add_value("beam-size", "N", "beams at temperature 0 (default 5; 0: greedy)");
  flags.add_value("best-of", "N", "candidates sampled at temperature > 0 (default 5)");
  flags.add_switch("no-timestamps", "decode without timestamps (one segment per 30 s window)");
  flags.add_value("initial-prompt", "TEXT", "text given to the decoder as if it preceded the audio");
  flags.add_switch("carry-initial-prompt", "with --initial-prompt: put it in front of every window's prompt, not only "
                                           "the first windows'");
  flags.add_switch("no-fallback", "decode at --temperature only (no temperature fallback)");
  flags.add_value("temperature", "T", "temperature of the first decoding (default 0: beam search or greedy)");
  flags.add_value("temperature-increment", "X", "added to the temperature for each fallback, up to 1 (default 0.2; "
                                                "0: no fallback)");
  flags.add_value("compression-ratio-threshold", "R", "decode again when the text's gzip compression ratio is above "
                                                      "this (default 2.4; none: never)");
  flags.add_value("logprob-threshold", "L", "decode again when the average log-probability of the tokens is below "
                                            "this (default -1; none: never)");
  flags.add_value("no-speech-threshold", "P", "skip a window as silence when its no-speech probability is above this "
                                              "and its average log-probability below --logprob-threshold (default "
                                              "0.6; none: never)");
  flags.add_switch("no-condition-on-previous-text", "do not give the previous window's text to the decoder as a prompt");
  flags.add_value("patience", "F", "beam search: finished candidates to collect, as a multiple of --beam-size "
                                   "(default 1)");
  flags.add_value("length-penalty", "A", "rank finished candidates by sum of log-probabilities / ((5 + length) / 6)^A "
                                         "(Google NMT, A in [0, 1]; default: / length)");
  flags.add_value("suppress-tokens", "IDS", "comma-separated token ids never sampled; -1: the default set of "
                                            "non-speech symbols (default -1; empty: none)");
  flags.add_value("clip-timestamps", "T,T,...", "transcribe only these stretches: START,END,... in seconds (an odd "
                                                "count ends at the end of the audio; default 0: all of it)");
  flags.add_switch("json", "print the language and every segment field as one JSON object");
  flags.add_switch("word-timestamps", "time every word from the decoder's cross-attention (OpenAI's word_timestamps)");
  flags.add_switch("words", "with --word-timestamps: print one \"[start --> end] word\" line per word");
  flags.add_switch("srt", "print SubRip subtitles");
  flags.add_switch("vtt", "print WebVTT subtitles");
  flags.add_value("max-line-width", "N", "with --word-timestamps and --srt/--vtt: at most N characters per line");
  flags.add_value("max-line-count", "N", "with --word-timestamps and --srt/--vtt: at most N lines per cue");
  flags.add_value("max-words-per-line", "N", "with --word-timestamps and --srt/--vtt: at most N words per cue "
                                             "(no effect with --max-line-width)");
  flags.add_value("max-cue-duration", "SECONDS", "with --word-timestamps and --srt/--vtt: no cue longer than this");
  flags.add_value("prepend-punctuations", "CHARS", "with --word-timestamps: marks merged into the next word "
                                                   "(default \"'\u201c\u00bf([{-)");
  flags.add_value("append-punctuations", "CHARS", "with --word-timestamps: marks merged into the previous word "
                                                  "(default \"'.\u3002,\uff0c!\uff01?\uff1f:\uff1a\u201d)]}\u3001)");
  flags.add_value("hallucination-silence-threshold", "SECONDS",
                  "with --word-timestamps: skip silences longer than this around likely hallucinations (default off)");
  flags.add_value("alignment-heads", "HEADS", "cross-attention heads for word times: auto (default), default, a preset "
                                              "(tiny.en .. large-v3-turbo) or LAYER:HEAD,...");
  flags.add_value("offset", "SECONDS", "window mode: start of the window (default 0; frame = round(100 s))");
  flags.add_value("dump-mel", "OUT", "window mode: write the window's log-mel, float32 [n_mels][3000]");
  flags.add_value("dump-encoder", "OUT", "window mode: write the encoder output, float32 [n_audio_ctx][n_audio_state]");
  flags.add_value("tokens", "ID,ID,...", "window mode: tokens fed to the decoder after encoding the window");
  flags.add_value("dump-logits", "OUT", "with --tokens: logits at every fed position, float32 [n_tokens][n_vocab]");
  flags.add_value("greedy-plain", "N", "with --tokens: N steps of plain argmax (no filters; stops after <|endoftext|>)");
  flags.add_value("dump-tokens", "OUT", "with --greedy-plain: the generated tokens, int32");
  flags.add_value("dump-words", "OUT", "with --tokens SOT...,<|notimestamps|>,TEXT...,<|endoftext|>: OpenAI's word "
                                       "alignment of TEXT as JSON (seconds from the window start)");
  flags.add_switch("memory-report", "after transcribing, print on stderr which buffers and mappings hold the resident memory");
  flags.add_switch("help", "show this text");

  flags.parse(argc, argv);
  CliOptions o;
  o.usage = flags.usage();
  o.help = flags.has("help");
  if (o.help) return o;

  o.model = flags.required("model");
  o.audio = flags.required("audio");
  o.threads = flags.integer_or("threads", default_threads(), 1, kMaxThreads);
  for (const char* f : {"model", "audio", "dump-mel", "dump-encoder", "dump-logits", "dump-tokens", "dump-words"}) {
    if (flags.has(f) && flags.value_or(f, "").empty()) {
      bad(std::string("flag '--") + f + "': empty file name");
    }
  }
  for (const char* f : {"backend", "kernel-dir"}) {
    if (flags.has(f) && flags.value_or(f, "").empty()) bad(std::string("flag '--") + f + "': empty value");
  }

  // window mode
  o.offset_seconds = flags.number_or("offset", 0.0);
  if (o.offset_seconds < 0.0) bad("flag '--offset': " + flags.value_or("offset", "") + " is negative");
  o.dump_mel = flags.value_or("dump-mel", "");
  o.dump_encoder = flags.value_or("dump-encoder", "");
  if (flags.has("tokens")) {
    o.tokens = parse_token_list(flags.value_or("tokens", ""));
    if (!flags.has("dump-logits") && !flags.has("greedy-plain") && !flags.has("dump-words")) {
      bad("flag '--tokens' needs --dump-logits OUT, --dump-words OUT or --greedy-plain N --dump-tokens OUT");
    }
  }
  for (const char* f : {"dump-logits", "greedy-plain", "dump-words"}) {
    if (flags.has(f) && !flags.has("tokens")) bad(std::string("flag '--") + f + "' needs --tokens ID,ID,...");
  }
  o.dump_logits = flags.value_or("dump-logits", "");
  o.greedy_plain = flags.integer_or("greedy-plain", 0, 1, kMaxGreedySteps);
  o.dump_tokens = flags.value_or("dump-tokens", "");
  o.dump_words = flags.value_or("dump-words", "");
  if (flags.has("greedy-plain") != flags.has("dump-tokens")) {
    bad("flags '--greedy-plain N' and '--dump-tokens OUT' go together");
  }
  if (!o.window_mode() && flags.has("offset")) {
    bad("flag '--offset' selects a window for --dump-mel, --dump-encoder or --tokens; a transcription covers the whole file");
  }

  // transcription mode
  const char* transcription_flags[] = {"language", "translate", "beam-size", "best-of", "no-timestamps",
                                       "initial-prompt", "carry-initial-prompt", "no-fallback", "temperature", "temperature-increment",
                                       "compression-ratio-threshold", "logprob-threshold", "no-speech-threshold",
                                       "no-condition-on-previous-text", "patience", "length-penalty",
                                       "suppress-tokens", "clip-timestamps", "json", "word-timestamps", "words", "srt",
                                       "vtt", "max-line-width", "max-line-count", "max-words-per-line",
                                       "max-cue-duration", "hallucination-silence-threshold", "memory-report"};
  if (o.window_mode()) {
    for (const char* f : transcription_flags) {
      if (flags.has(f)) bad(std::string("flag '--") + f + "' applies to transcription, not to window mode (dumps, --tokens)");
    }
  }
  Options& t = o.transcribe;
  t.language = flags.value_or("language", "auto");
  t.translate = flags.has("translate");
  t.beam_size = flags.integer_or("beam-size", t.beam_size, 0, 1 << 20);
  t.best_of = flags.integer_or("best-of", t.best_of, 1, 1 << 20);
  t.timestamps = !flags.has("no-timestamps");
  t.initial_prompt = flags.value_or("initial-prompt", "");
  t.carry_initial_prompt = flags.has("carry-initial-prompt");
  if (t.carry_initial_prompt && !flags.has("initial-prompt")) bad("flag '--carry-initial-prompt' needs --initial-prompt TEXT");
  read_decoding_flags(flags, t);
  t.n_threads = o.threads;
  t.backend = flags.value_or("backend", "auto");
  t.kernel_dir = flags.value_or("kernel-dir", "");
  t.mel_on_device = flags.has("mel-on-device");
  o.json = flags.has("json");
  // Word timestamps (window mode's --dump-words uses the punctuation and head settings too).
  t.word_timestamps = flags.has("word-timestamps");
  t.prepend_punctuations = flags.value_or("prepend-punctuations", t.prepend_punctuations);
  t.append_punctuations = flags.value_or("append-punctuations", t.append_punctuations);
  t.alignment_heads = flags.value_or("alignment-heads", t.alignment_heads);
  if (flags.has("hallucination-silence-threshold")) {
    const double v = flags.number_or("hallucination-silence-threshold", 0.0);
    if (v < 0) bad("flag '--hallucination-silence-threshold': must be >= 0 seconds, got " + flags.value_or("hallucination-silence-threshold", ""));
    t.hallucination_silence_threshold = static_cast<float>(v);
  }
  o.words = flags.has("words");
  o.memory_report = flags.has("memory-report");
  o.srt = flags.has("srt");
  o.vtt = flags.has("vtt");
  if (int(o.json) + int(o.words) + int(o.srt) + int(o.vtt) > 1) bad("flags '--json', '--words', '--srt' and '--vtt' choose the output: give one");
  o.cues.max_line_width = flags.integer_or("max-line-width", 0, 1, 100000);
  o.cues.max_line_count = flags.integer_or("max-line-count", 0, 1, 100000);
  o.cues.max_words_per_line = flags.integer_or("max-words-per-line", 0, 1, 100000);
  o.cues.max_cue_duration = flags.number_or("max-cue-duration", 0.0);
  if (flags.has("max-cue-duration") && !(o.cues.max_cue_duration > 0))
    bad("flag '--max-cue-duration': must be > 0 seconds, got " + flags.value_or("max-cue-duration", ""));
  for (const char* f : {"words", "max-line-width", "max-line-count", "max-words-per-line", "max-cue-duration",
                        "hallucination-silence-threshold"}) {
    if (flags.has(f) && !t.word_timestamps) bad(std::string("flag '--") + f + "' needs --word-timestamps");
  }
  for (const char* f : {"max-line-width", "max-line-count", "max-words-per-line", "max-cue-duration"}) {
    if (flags.has(f) && !o.srt && !o.vtt) bad(std::string("flag '--") + f + "' shapes subtitles: add --srt or --vtt");
  }
  // The settings of the alignment itself: for --dump-words in window mode, --word-timestamps otherwise.
  for (const char* f : {"prepend-punctuations", "append-punctuations", "alignment-heads"}) {
    if (!flags.has(f)) continue;
    if (o.window_mode() && o.dump_words.empty()) bad(std::string("flag '--") + f + "' needs --dump-words in window mode");
    if (!o.window_mode() && !t.word_timestamps) bad(std::string("flag '--") + f + "' needs --word-timestamps");
  }
  validate_transcription(t);
  return o;
}

}  // namespace npw
