// The machine's own ceilings, independent of any library (issue 14): what the cores can compute from
// registers alone and what memory can deliver to a reader, measured in the same run as the stages so
// that each stage figure can be put over the one that bounds it:
//  - f32 FMA peak: a register-only loop of independent fused multiply-adds on every thread at the
//    widest vector level active (AVX-512, AVX2+FMA, or scalar), the bound for the encoder's GFLOP/s;
//  - int8 dot-product peak: the same with the widest int8 dot instruction the CPU has (AVX-512 VNNI,
//    AVX-VNNI, or AVX2's vpmaddubsw + vpmaddwd pair), the bound for cpu-int8's products;
//  - read bandwidth: every thread streaming its slice of a buffer far larger than the caches into
//    vector sums (reads only), the bound for a decoder step, which reads every weight once.
#pragma once

#include <cstddef>
#include <string>

#include "bench_stats.h"

namespace npw {

struct MachinePeaks {
  Summary fma_gflops;           // all threads together
  std::string fma_path;         // "avx512", "avx2+fma", "scalar"
  Summary int8_gops;            // 2 ops (multiply + add) per int8 multiply-accumulate, all threads
  std::string int8_path;        // "avx512-vnni", "avx-vnni", "avx2-maddubs", "scalar"
  Summary read_gbps;            // bytes read per second, all threads
  double read_buffer_mb = 0.0;
};

// `threads` threads, `repeat` timed passes of each after one warm-up.
MachinePeaks measure_peaks(int threads, int repeat, std::size_t read_buffer_bytes);

}  // namespace npw
