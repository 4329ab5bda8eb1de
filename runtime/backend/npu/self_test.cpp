// The self-test's data, run and comparison (see self_test.h).
#include "backend/npu/self_test.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <vector>

#include "backend/npu/emulated_ops.h"
#include "backend/npu/op_shapes.h"

namespace npw {
namespace npu {

namespace {

uint32_t next(uint32_t& s) {
  s ^= s << 13;
  s ^= s >> 17;
  s ^= s << 5;
  return s;
}

}  // namespace

SelfTestResult self_test_kernel(Device& device, const Kernel& kernel, unsigned timeout_ms) {
  const KernelSpec& spec = kernel.spec();
  const ArgBytes bytes = op_arg_bytes(spec);
  const int M = spec.dims[0], N = spec.dims[1], K = spec.dims[2];
  std::unique_ptr<DeviceBuffer> buf[3];
  for (int a = 0; a < 3; ++a) buf[a] = device.allocate(bytes[static_cast<std::size_t>(a)], kernel, a);
  uint32_t seed = 0x9e3779b9u ^ static_cast<uint32_t>(M * 131 + N * 17 + K);
  const bool bf16 = spec.op == "gemm_bf16";
  for (int a = 0; a < 2; ++a) {
    auto* p = static_cast<unsigned char*>(buf[a]->host());
    if (bf16) {
      auto* h = reinterpret_cast<uint16_t*>(p);
      for (std::size_t i = 0; i < bytes[static_cast<std::size_t>(a)] / 2; ++i) {
        const uint32_t r = next(seed);
        // One in 64 a subnormal (exponent 0), the rest within 2^-8 .. 2^8.
        const uint16_t sign = static_cast<uint16_t>((r >> 31) << 15);
        const uint16_t mant = static_cast<uint16_t>(r & 0x7f);
        const uint16_t exp = (r >> 8 & 63) == 0 ? 0 : static_cast<uint16_t>(127 - 8 + (r >> 16) % 17);
        h[i] = static_cast<uint16_t>(sign | exp << 7 | mant);
      }
    } else {
      for (std::size_t i = 0; i < bytes[static_cast<std::size_t>(a)]; ++i) p[i] = static_cast<unsigned char>(next(seed) >> 24);
    }
    buf[a]->sync_to_device(0, bytes[static_cast<std::size_t>(a)]);
  }
  std::memset(buf[2]->host(), 0xA5, bytes[2]);  // a canary the kernel must overwrite
  buf[2]->sync_to_device(0, bytes[2]);
  Launch l;
  l.kernel = &kernel;
  l.n_args = 3;
  for (int a = 0; a < 3; ++a) l.args[a] = buf[a].get();
  device.run(&l, 1, timeout_ms);
  buf[2]->sync_from_device(0, bytes[2]);

  const std::size_t n_out = static_cast<std::size_t>(M) * static_cast<std::size_t>(N);
  std::size_t differ = 0, zeros = 0;
  double worst = 0.0;
  if (bf16) {
    std::vector<float> want(n_out);
    const auto* A = static_cast<const uint16_t*>(buf[0]->host());
    const auto* B = static_cast<const uint16_t*>(buf[1]->host());
    emulate_gemm_bf16(A, B, want.data(), M, N, K, nullptr);
    const auto* got = static_cast<const float*>(buf[2]->host());
    // The bound's sum of |products|, itself by the emulated product of |A| and |B| (sign bits cleared;
    // its own rounding is covered by the 1 % slack on the factor 2).
    std::vector<uint16_t> absA(A, A + bytes[0] / 2), absB(B, B + bytes[1] / 2);
    for (uint16_t& h : absA) h &= 0x7fff;
    for (uint16_t& h : absB) h &= 0x7fff;
    std::vector<float> abs_sum(n_out);
    emulate_gemm_bf16(absA.data(), absB.data(), abs_sum.data(), M, N, K, nullptr);
    const double u = std::ldexp(1.0, -24);
    const double gamma = (K - 1) * u / (1 - (K - 1) * u);
    for (std::size_t i = 0; i < n_out; ++i) {
      const double d = std::fabs(static_cast<double>(got[i]) - want[i]);
      if (got[i] == 0.0f) ++zeros;
      if (!(d <= 2.02 * gamma * abs_sum[i])) {
        ++differ;
        worst = std::max(worst, std::isnan(d) ? INFINITY : d);
      }
    }
  } else {
    std::vector<int32_t> want(n_out);
    emulate_gemm_i8(static_cast<const int8_t*>(buf[0]->host()), static_cast<const int8_t*>(buf[1]->host()), want.data(),
                    M, N, K, nullptr);
    const auto* got = static_cast<const int32_t*>(buf[2]->host());
    for (std::size_t i = 0; i < n_out; ++i) {
      if (got[i] == 0) ++zeros;
      if (got[i] != want[i]) {
        ++differ;
        worst = std::max(worst, std::fabs(static_cast<double>(got[i]) - want[i]));
      }
    }
  }
  SelfTestResult r;
  if (differ == 0) return r;
  r.ok = false;
  char s[256];
  std::snprintf(s, sizeof s, "%zu of %zu outputs differ from the CPU emulation (max |difference| %.6g)%s", differ, n_out,
                worst, zeros == n_out ? "; the output is all zeros (the kernel completed without writing it)" : "");
  r.detail = s;
  return r;
}

}  // namespace npu
}  // namespace npw
