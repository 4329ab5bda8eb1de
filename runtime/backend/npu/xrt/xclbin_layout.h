// Where an NPU kernel's arguments sit, as its xclbin declares them. mlir-aie's kernels take an
// opcode, the instruction buffer and its length in 32-bit words before their data buffers, but
// neither the positions nor the number of data buffers are promised; reading them from the xclbin
// keeps the module right for any toolchain version that keeps the names or the shape of the list.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include <xrt/experimental/xrt_xclbin.h>

namespace npw {
namespace npu {
namespace xrt_module {

struct KernelArgLayout {
  int opcode = -1;             // scalar: what the firmware is asked to do with the instructions
  std::size_t opcode_size = 8;
  int instructions = -1;       // buffer: the instruction stream
  int instruction_count = -1;  // scalar: its length in 32-bit words
  std::size_t instruction_count_size = 4;
  std::vector<int> data;       // the data buffers, in the order of the op's contract
};

// Throws std::runtime_error naming the xclbin, the kernel and what is missing.
KernelArgLayout read_kernel_layout(const xrt::xclbin& xclbin, const std::string& kernel_name,
                                   const std::string& xclbin_path);

// The kernels the xclbin holds, for "no kernel X; it has: ..." messages.
std::string kernel_names(const xrt::xclbin& xclbin);

}  // namespace xrt_module
}  // namespace npu
}  // namespace npw
