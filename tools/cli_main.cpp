// npuwhisper-cli: the command-line front door to the runtime. Without a window flag it transcribes
// a WAV file (cli_transcribe.h); with --dump-mel, --dump-encoder or --tokens it runs the stages that
// have golden data on one window and dumps them (cli_window.h), so the runtime can be checked against
// OpenAI's reference from a shell. Every failure ends with a message on stderr naming the file or
// flag and exit code 1.
#include <cstdio>
#include <exception>
#include <new>

#include "cli_options.h"
#include "cli_transcribe.h"
#include "cli_window.h"
#include "util/error.h"

int main(int argc, char** argv) {
  try {
    const npw::CliOptions o = npw::parse_cli_options(argc, argv);
    if (o.help) {
      std::fputs(o.usage.c_str(), stdout);
      return 0;
    }
    return o.window_mode() ? npw::run_window(o) : npw::run_transcription(o);
  } catch (const npw::Error& e) {
    std::fprintf(stderr, "npuwhisper-cli: error: %s\n", e.what());
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "npuwhisper-cli: error: out of memory\n");
  } catch (const std::exception& e) {
    std::fprintf(stderr, "npuwhisper-cli: error: %s\n", e.what());
  }
  return 1;
}
