// How a hardware NPU backend comes up, in the order a user's problems occur: open the device (absent:
// npw::Error(Unavailable), which "auto" reports as information), read the kernel directory, load and
// self-test the kernels (present but unusable: HardwareUnusable, which "auto" reports as a warning and
// "npu" as a resource error). The device opener is a parameter so that the same steps run over the
// XRT module and, in tests, over the emulator with injected faults.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "backend/backend.h"
#include "backend/npu/device.h"
#include "backend/npu/npu_context.h"

namespace npw {
namespace npu {

using DeviceOpener = std::function<std::unique_ptr<Device>()>;

// The process's context for `name` over the device `open` returns, with the kernels of the
// resolved kernel directory (use_manifest) or of the contract (emulated devices). Reused while any
// backend or packed matrix holds it; a context that failed is replaced on the next call.
std::shared_ptr<NpuContext> open_npu_context(const std::string& name, const DeviceOpener& open,
                                             const std::string& kernel_dir, bool use_manifest);

// A backend on that context (self-test included), errors classified as above.
std::unique_ptr<Backend> open_npu_backend(const std::string& name, const DeviceOpener& open,
                                          const BackendSettings& settings, bool use_manifest);

}  // namespace npu
}  // namespace npw
