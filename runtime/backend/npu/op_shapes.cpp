// The ops' shape rules (see op_shapes.h and kernels/gemm_i8/contract.md).
#include "backend/npu/op_shapes.h"

#include "util/error.h"

namespace npw {
namespace npu {

GemmPadding gemm_padding(Generation) {
  // npu1 (m, k, n) = (64, 64, 32) on 4 x 4 cores, npu2 (64, 64, 16) on 4 x 8: both give 256 / 128 / 64.
  return GemmPadding{};
}

bool is_known_op(const std::string& op) { return op == "gemm_i8" || op == "gemm_bf16"; }

int op_arg_count(const std::string& op) { return is_known_op(op) ? 3 : 0; }

int op_input_bytes(const std::string& op) { return op == "gemm_bf16" ? 2 : 1; }

ArgBytes op_arg_bytes(const KernelSpec& spec) {
  const std::size_t M = static_cast<std::size_t>(spec.dims.at(0)), N = static_cast<std::size_t>(spec.dims.at(1)),
                    K = static_cast<std::size_t>(spec.dims.at(2));
  const std::size_t e = static_cast<std::size_t>(op_input_bytes(spec.op));
  return {M * K * e, N * K * e, M * N * 4};
}

std::string describe_kernel(const KernelSpec& spec) {
  std::string s = spec.op;
  for (std::size_t i = 0; i < spec.dims.size(); ++i) s += (i ? "x" : " ") + std::to_string(spec.dims[i]);
  return s;
}

void check_kernel_shape(const KernelSpec& spec, Generation g) {
  if (!is_known_op(spec.op)) {
    throw Error(ErrorKind::InvalidArgument, "NPU kernel \"" + spec.op + "\": unknown op (known: gemm_i8, gemm_bf16)");
  }
  const std::string what = "NPU kernel " + describe_kernel(spec) + " for " + generation_name(g);
  if (spec.dims.size() != 3) throw Error(ErrorKind::InvalidArgument, what + ": expected 3 sizes (Mp, Np, Kp)");
  const GemmPadding p = gemm_padding(g);
  const int mult[3] = {p.m, p.n, p.k};
  const int max[3] = {kMaxGemmM, kMaxGemmN, kMaxGemmK};
  const char* names[3] = {"Mp", "Np", "Kp"};
  for (int i = 0; i < 3; ++i) {
    const int d = spec.dims[static_cast<std::size_t>(i)];
    if (d <= 0 || d % mult[i] != 0 || d > max[i]) {
      throw Error(ErrorKind::InvalidArgument, what + ": " + names[i] + " = " + std::to_string(d) +
                                                  " must be a positive multiple of " + std::to_string(mult[i]) +
                                                  " up to " + std::to_string(max[i]) + " (kernels/" + spec.op + "/contract.md)");
    }
  }
}

}  // namespace npu
}  // namespace npw
