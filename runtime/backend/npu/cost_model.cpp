// The two generations' cost parameters (sources in cost_model.h) and the gemm time formula.
#include "backend/npu/cost_model.h"

#include <algorithm>
#include <cstdio>

namespace npw {
namespace npu {

CostModel CostModel::for_generation(Generation g) {
  CostModel c;
  c.generation = g;
  if (g == Generation::Npu2) {
    c.cores = 32;
    c.int8_macs_per_cycle = 512;
    c.bf16_macs_per_cycle = 256;
    c.clock_hz = 1.53e9;
    c.dma_in_bytes_per_s = std::min(4.0 * 2 * 8 * c.clock_hz, 120e9);
    c.dma_out_bytes_per_s = c.dma_in_bytes_per_s;
  }
  return c;
}

double CostModel::gemm_seconds(std::int64_t Mp, std::int64_t Np, std::int64_t Kp, int element_bytes, int out_bytes) const {
  const double macs = static_cast<double>(Mp) * static_cast<double>(Np) * static_cast<double>(Kp);
  const double rate = (element_bytes == 1 ? int8_macs_per_cycle : bf16_macs_per_cycle) * cores * clock_hz *
                      compute_efficiency;
  const double compute = macs / rate;
  // Column groups of C (n x cols = 128 wide) and row groups (m x rows = 256 high), contract table.
  const double col_groups = static_cast<double>((Np + 127) / 128);
  const double row_groups = static_cast<double>((Mp + 255) / 256);
  const double in_bytes = (static_cast<double>(Mp) * Kp * col_groups + static_cast<double>(Np) * Kp * row_groups) *
                          element_bytes;
  const double out = static_cast<double>(Mp) * Np * out_bytes;
  const double dma = std::max(in_bytes / dma_in_bytes_per_s, out / dma_out_bytes_per_s);
  return std::max(compute, dma);
}

std::string CostModel::describe() const {
  char s[320];
  std::snprintf(s, sizeof s,
                "%s model: launch %.0f us (+%.0f us chained), %d cores x %.0f int8 MACs/cycle at %.2f GHz x %.0f %% "
                "efficiency, DMA %.0f GB/s in, sync %.0f GB/s",
                generation_name(generation), first_launch_s * 1e6, chained_launch_s * 1e6, cores, int8_macs_per_cycle,
                clock_hz / 1e9, compute_efficiency * 100, dma_in_bytes_per_s / 1e9, sync_bytes_per_s / 1e9);
  return s;
}

}  // namespace npu
}  // namespace npw
