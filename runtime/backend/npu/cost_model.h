// The emulator's model of how long an XDNA device takes, so that the benchmark and the placement
// decision can reason about the NPU on machines without one. Every parameter is stated with where it
// comes from (the README repeats the table); the model is deliberately simple and is to be replaced by
// measurements (DeviceBooks::device_seconds from XRT) on hardware.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "backend/npu/device.h"

namespace npw {
namespace npu {

struct CostModel {
  Generation generation = Generation::Npu1;
  // Host overhead of one kernel launch on amdxdna, even when the kernel does nothing: 40-150 us as
  // measured by earlier public attempts (quoted in issue 11); we take 60 us for a launch that starts a
  // batch and 20 us for each further launch chained in the same runlist (a runlist saves the
  // per-run submission ioctl; assumption, to measure).
  double first_launch_s = 60e-6;
  double chained_launch_s = 20e-6;
  // Compute cores the whole_array designs use (kernels/gemm_i8/contract.md): npu1 4 x 4, npu2 4 x 8.
  int cores = 16;
  // Peak int8 and bf16 multiply-accumulates per cycle per core. AIE-ML (AIE2, npu1): 256 int8 and 128
  // bf16 MACs/cycle (AMD AM020, AIE-ML Architecture Manual, "Functional overview"). AIE2P (npu2): 512
  // int8 MACs/cycle, consistent with AMD's 50 TOPS for 32 cores at ~1.5 GHz; bf16 256 (assumption:
  // half the int8 rate, as on AIE2).
  double int8_macs_per_cycle = 256;
  double bf16_macs_per_cycle = 128;
  // Core clock. npu1: 1.25 GHz, AMD's 10 TOPS for Phoenix = 16 cores x 256 MACs x 2 ops x 1.22 GHz.
  // npu2: 1.53 GHz from AMD's 50 TOPS for Strix = 32 x 512 x 2 x 1.53 GHz.
  double clock_hz = 1.25e9;
  // Fraction of peak the whole_array GEMM sustains inside the array (mlir-aie's README for the
  // example reports well under peak for small K; 50 % is our assumption until measured).
  double compute_efficiency = 0.5;
  // Shim DMA bandwidth between DRAM and the array: 2 MM2S + 2 S2MM channels per shim column, each a
  // 32-bit stream per cycle (AM020, "Interface tile"): 4 B x 2 x columns x clock each way. npu1 4
  // columns: 10 GB/s per channel, 40 GB/s in; npu2 8 columns: 98 GB/s in, below LPDDR5X-7500's
  // 120 GB/s (the DRAM limit is applied too).
  double dma_in_bytes_per_s = 40e9;
  double dma_out_bytes_per_s = 40e9;
  // Host-side cost of syncing a buffer (cache writeback / invalidate of the range on x86, the buffers
  // being in host DRAM shared with the NPU): ~20 GB/s (assumption, to measure with xrt::bo::sync).
  double sync_bytes_per_s = 20e9;

  static CostModel for_generation(Generation g);

  // Seconds for one gemm launch of the kernel shape Mp x Np x Kp with `element_bytes` per input
  // element (1 int8, 2 bf16) and `out_bytes` per output element, excluding the launch overhead:
  // the larger of the array's compute time and its DMA time (the whole_array design streams A once
  // per group of columns of C and B once per group of rows of C).
  double gemm_seconds(std::int64_t Mp, std::int64_t Np, std::int64_t Kp, int element_bytes, int out_bytes) const;
  double sync_seconds(std::size_t bytes) const { return static_cast<double>(bytes) / sync_bytes_per_s; }
  double launch_seconds(bool first_in_batch) const { return first_in_batch ? first_launch_s : chained_launch_s; }

  // The parameters as one line, for the benchmark's report.
  std::string describe() const;
};

}  // namespace npu
}  // namespace npw
