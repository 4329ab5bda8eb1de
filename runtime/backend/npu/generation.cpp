// The generations' names as users, stats and kernel manifests spell them; one place so that the
// emulator, the XRT loader and the kernel directory agree.
#include "backend/npu/device.h"

namespace npw {
namespace npu {

const char* generation_name(Generation g) {
  switch (g) {
    case Generation::Npu1:
      return "npu1";
    case Generation::Npu2:
      return "npu2";
  }
  return "unknown";
}

}  // namespace npu
}  // namespace npw
