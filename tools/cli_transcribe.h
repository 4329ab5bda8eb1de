// npuwhisper-cli's transcription mode: the whole file through npw::Transcriber (OpenAI's
// transcribe()), segments printed to stdout as they are decided, or one JSON object at the end.
#pragma once

#include "cli_options.h"

namespace npw {

// Returns the exit code; throws npw::Error for anything the user can fix.
int run_transcription(const CliOptions& o);

}  // namespace npw
