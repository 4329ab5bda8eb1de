// The device ops' shapes as their contracts (kernels/<op>/contract.md) define them: padding multiples
// per generation, argument count and sizes, and the checks every kernel spec passes before it is
// loaded (on the emulator and on hardware alike), in one place so the host and the emulator cannot
// disagree about a layout.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "backend/npu/device.h"

namespace npw {
namespace npu {

// Multiples the run sizes Mp, Np, Kp of a gemm op must be (the contract's padding table).
struct GemmPadding {
  int m = 256;
  int n = 128;
  int k = 64;
};
GemmPadding gemm_padding(Generation g);

// The contract's largest run sizes.
constexpr int kMaxGemmM = 3072;
constexpr int kMaxGemmN = 6144;
constexpr int kMaxGemmK = 5120;

inline int round_up(int x, int multiple) { return (x + multiple - 1) / multiple * multiple; }

bool is_known_op(const std::string& op);  // "gemm_i8", "gemm_bf16"
int op_arg_count(const std::string& op);  // 3 for both
int op_input_bytes(const std::string& op);  // bytes per element of A and B
// Bytes each argument of a launch of `spec` covers, in argument order (a fixed array: launches
// check it in the steady state, which allocates nothing).
using ArgBytes = std::array<std::size_t, 3>;
ArgBytes op_arg_bytes(const KernelSpec& spec);
// "gemm_i8 1536x384x384" for messages.
std::string describe_kernel(const KernelSpec& spec);
// Throws npw::Error(InvalidArgument) naming the spec when its op is unknown or its dims break the
// contract for generation g (count, positivity, multiples, maxima).
void check_kernel_shape(const KernelSpec& spec, Generation g);

}  // namespace npu
}  // namespace npw
