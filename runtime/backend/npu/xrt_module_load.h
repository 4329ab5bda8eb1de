// Finding and loading the XRT module (libnpw-npu-xrt.so) at run time, apart from wrapping it into a
// Device, so that each refusal (no file, a loader error such as a too-old C library, a foreign or
// older module) is decided and worded in one place.
#pragma once

#include <string>

#include "backend/npu/xrt_module_abi.h"

namespace npw {
namespace npu {

struct XrtModule {
  const npw_xrt_api* api = nullptr;
  std::string path;  // the file that was loaded
};

// Looks for the module in $NPW_NPU_MODULE (only there when it is set), then next to the library or
// program this code is linked into, then in the installed module directory. Throws
// npw::Error(Unavailable) naming the paths tried, or the file and the loader's own words. A module
// once loaded stays loaded for the life of the process (XRT keeps threads and exit handlers that
// must not outlive its code).
XrtModule load_xrt_module();

}  // namespace npu
}  // namespace npw
