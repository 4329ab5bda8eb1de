// libFuzzer target for the WAV reader used by the CLI and the tests: any bytes give samples or an
// npw::Error, never a crash or an out-of-bounds read.
#include <cstdint>

#include "audio/wav.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    npw::parse_wav(data, size, "fuzz.wav");
  } catch (const npw::Error&) {
  }
  return 0;
}
