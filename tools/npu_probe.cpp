// npuwhisper-npu-probe: opens the NPU through the XRT module exactly as the npu backend does and
// says what it found, or why there is none (no module, XRT's libraries refused by this system's C
// library, no driver, no device). The first thing to run, and to paste into a report, when
// backend=npu does not start.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "backend/npu/device.h"
#include "util/error.h"

namespace {

int usage(const char* self) {
  std::fprintf(stderr,
               "usage: %s [--device N]\n"
               "Opens NPU N (default 0) through libnpw-npu-xrt.so (NPW_NPU_MODULE, next to this program, or the\n"
               "installed module directory) and prints the device, or the reason it cannot be used.\n"
               "Exit status: 0 an NPU is usable, 2 it is not, 1 bad arguments.\n",
               self);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  unsigned index = 0;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--device") == 0 && i + 1 < argc) {
      char* end = nullptr;
      const unsigned long v = std::strtoul(argv[++i], &end, 10);
      if (!end || *end || v > 255) {
        std::fprintf(stderr, "%s: --device takes a number 0..255, not '%s'\n", argv[0], argv[i]);
        return 1;
      }
      index = static_cast<unsigned>(v);
    } else {
      return usage(argv[0]);
    }
  }
  try {
    auto dev = npw::npu::open_xrt_device(index);
    const npw::npu::DeviceInfo info = dev->info();
    std::printf("NPU %u: %s, %s, %d columns x %d rows of AIE cores\n", index, info.name.c_str(),
                npw::npu::generation_name(info.generation), info.columns, info.rows);
    return 0;
  } catch (const npw::Error& e) {
    std::printf("NPU %u unavailable (%s): %s\n", index, npw::error_kind_name(e.kind()), e.what());
    return 2;
  }
}
