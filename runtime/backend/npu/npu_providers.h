// The NPU backends' entries in the backend registry, kept here so that backend_factory.cpp only
// calls one function and the NPU's names, environment variables and fallbacks live with the NPU code.
#pragma once

#include <vector>

#include "backend/backend_registry.h"

namespace npw {
namespace npu {

// Adds "npu-emulator" (always) and "npu" (an accelerator tried by "auto"; only in builds that have
// the XRT module's loader).
void add_npu_providers(std::vector<BackendProvider>& providers);

}  // namespace npu
}  // namespace npw
