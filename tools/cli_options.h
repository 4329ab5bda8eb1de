// The flags of npuwhisper-cli and the options they set. One place declares the flags (for parsing
// and --help alike) and decides the mode: window mode (--dump-mel, --dump-encoder, --tokens with
// --dump-logits or --greedy-plain/--dump-tokens) works on the one 30 s window at --offset; without
// any of those the whole file is transcribed with npw::Options built from the transcription flags.
#pragma once

#include <string>
#include <vector>

#include "decode/caption_cues.h"
#include "decode/options.h"

namespace npw {

struct CliOptions {
  bool help = false;
  std::string usage;  // the --help text

  std::string model;
  std::string audio;
  double offset_seconds = 0.0;  // start of the window to encode (window mode)
  int threads = 1;

  // window mode
  std::string dump_mel;         // raw float32 [n_mels][3000], empty: not written
  std::string dump_encoder;     // raw float32 [n_audio_ctx][n_audio_state], empty: not written
  std::vector<int> tokens;      // --tokens: fed after encoding the window
  std::string dump_logits;      // raw float32 [tokens.size()][n_vocab]
  int greedy_plain = 0;         // steps of plain argmax from `tokens` (0: none)
  std::string dump_tokens;      // raw int32, the generated tokens
  std::string dump_words;       // JSON, OpenAI's find_alignment + merge_punctuations of --tokens

  // transcription mode
  bool json = false;
  bool words = false;           // --words: one line per word
  bool memory_report = false;   // --memory-report: the resident memory by buffer and mapping, on stderr
  bool srt = false, vtt = false;  // subtitles on stdout
  CueLimits cues;               // caption shaping of srt/vtt
  Options transcribe;           // validated; n_threads = threads

  bool window_mode() const { return !dump_mel.empty() || !dump_encoder.empty() || !tokens.empty(); }
};

// Parses argv. Throws npw::Error(InvalidArgument) naming the flag for unknown flags, missing or
// malformed values, missing required flags (unless --help is given), flags that belong to the other
// mode, and invalid transcription settings.
CliOptions parse_cli_options(int argc, const char* const* argv);

}  // namespace npw
