// The flags of npuwhisper-cli and the options they set. One place declares the flags (for parsing
// and --help alike); transcription flags (--language, --beam-size, --json, ...) are added here.
#pragma once

#include <string>

namespace npw {

struct CliOptions {
  bool help = false;
  std::string usage;  // the --help text

  std::string model;
  std::string audio;
  double offset_seconds = 0.0;  // start of the window to encode
  int threads = 1;
  std::string dump_mel;         // raw float32 [n_mels][3000], empty: not written
  std::string dump_encoder;     // raw float32 [n_audio_ctx][n_audio_state], empty: not written
};

// Parses argv. Throws npw::Error(InvalidArgument) naming the flag for unknown flags, missing or
// malformed values and missing required flags (unless --help is given).
CliOptions parse_cli_options(int argc, const char* const* argv);

}  // namespace npw
