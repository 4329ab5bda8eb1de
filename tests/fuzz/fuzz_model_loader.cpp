// libFuzzer target for the model loader: any bytes must give either a model or an npw::Error, never a
// crash, an out-of-bounds read (run under AddressSanitizer) or an unbounded allocation (-rss_limit_mb).
// The bytes go through the real entry point, Model::load, via an in-memory file.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "model/ggml_file.h"
#include "model/model.h"
#include "util/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The parser alone, straight from the fuzzer's buffer: the fast path that most inputs stop in.
  bool parses = false;
  try {
    npw::parse_ggml_file(data, size, "fuzz");
    parses = true;
  } catch (const npw::Error&) {
  }
  if (!parses) return 0;
  // A file the parser accepts goes through mmap and the architecture binding too.
  int fd = memfd_create("npw-fuzz-model", MFD_CLOEXEC);
  if (fd < 0) return 0;
  if (write(fd, data, size) == static_cast<ssize_t>(size)) {
    try {
      npw::Model::load("/proc/self/fd/" + std::to_string(fd));
    } catch (const npw::Error&) {
    }
  }
  close(fd);
  return 0;
}
