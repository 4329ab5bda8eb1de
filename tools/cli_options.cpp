// Flag declarations of npuwhisper-cli and their checks; nothing here touches files.
#include "cli_options.h"

#include <algorithm>
#include <thread>

#include "cli_flags.h"
#include "util/error.h"

namespace npw {

namespace {

constexpr int kMaxThreads = 256;

int default_threads() {
  const unsigned hw = std::thread::hardware_concurrency();
  return static_cast<int>(std::clamp(hw == 0 ? 1u : hw, 1u, 8u));
}

}  // namespace

CliOptions parse_cli_options(int argc, const char* const* argv) {
  FlagParser flags("npuwhisper-cli",
                   "Runs Whisper's front end on a 16 kHz mono WAV file with a whisper.cpp GGML model: the\n"
                   "log-mel of the whole file (clamped over the whole file, as OpenAI's transcribe()) and the\n"
                   "encoder on the 30 s window starting at --offset. Dumps are raw little-endian float32.");
  flags.add_value("model", "FILE", "whisper.cpp GGML model file", true);
  flags.add_value("audio", "FILE", "WAV file, 16 kHz mono, 16-bit PCM or 32-bit float", true);
  flags.add_value("offset", "SECONDS", "start of the window, in seconds (default 0; frame = round(100 s))");
  flags.add_value("threads", "N", "CPU threads (default " + std::to_string(default_threads()) + ")");
  flags.add_value("dump-mel", "OUT", "write the window's log-mel, float32 [n_mels][3000]");
  flags.add_value("dump-encoder", "OUT", "write the encoder output, float32 [n_audio_ctx][n_audio_state]");
  flags.add_switch("help", "show this text");

  flags.parse(argc, argv);
  CliOptions o;
  o.usage = flags.usage();
  o.help = flags.has("help");
  if (o.help) return o;

  o.model = flags.required("model");
  o.audio = flags.required("audio");
  o.offset_seconds = flags.number_or("offset", 0.0);
  if (o.offset_seconds < 0.0) {
    throw Error(ErrorKind::InvalidArgument, "flag '--offset': " + flags.value_or("offset", "") + " is negative");
  }
  o.threads = flags.integer_or("threads", default_threads(), 1, kMaxThreads);
  o.dump_mel = flags.value_or("dump-mel", "");
  o.dump_encoder = flags.value_or("dump-encoder", "");
  for (const char* f : {"model", "audio", "dump-mel", "dump-encoder"}) {
    if (flags.has(f) && flags.value_or(f, "").empty()) {
      throw Error(ErrorKind::InvalidArgument, std::string("flag '--") + f + "': empty file name");
    }
  }
  return o;
}

}  // namespace npw
