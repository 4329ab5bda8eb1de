// npuwhisper-cli's window mode: the 30 s window at --offset of the whole-file log-mel (clamped over
// the whole file, as OpenAI's transcribe()), its encoder output, and the decoder fed exactly the
// --tokens given - the stages that have golden data, dumped so they can be checked from a shell.
#pragma once

#include "cli_options.h"

namespace npw {

// Returns the exit code; throws npw::Error for anything the user can fix.
int run_window(const CliOptions& o);

}  // namespace npw
