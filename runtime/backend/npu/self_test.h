// The start-up self-test: a kernel runs once on random data and its output is compared with the CPU's
// emulation of its contract before the backend trusts it. It exists because kernels on this NPU have
// been seen to report COMPLETED while writing nothing (all zeros); such a kernel disables the NPU
// instead of producing garbage captions.
#pragma once

#include <string>

#include "backend/npu/device.h"

namespace npw {
namespace npu {

struct SelfTestResult {
  bool ok = true;
  std::string detail;  // for a failure: how many outputs differ, by how much, whether all are zero
};

// Runs `kernel` on `device` once with random inputs covering the int8 range (-128..127; bf16:
// normal values of mixed magnitude and some subnormals) and compares every output: exactly for
// gemm_i8, within the contract's bound for gemm_bf16. Allocates its own three buffers (freed on
// return). Device failures propagate as npw::Error.
SelfTestResult self_test_kernel(Device& device, const Kernel& kernel, unsigned timeout_ms);

}  // namespace npu
}  // namespace npw
