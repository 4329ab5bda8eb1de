// What the benchmark ran on, so that figures from different machines are never compared blindly:
// online cores, the CPU model string, the BLAS build, and the process's peak resident memory.
#pragma once

#include <string>

namespace npw {

struct MachineInfo {
  int nproc = 0;             // online logical CPUs
  std::string cpu_model;     // "model name" of /proc/cpuinfo ("unknown" when absent)
  std::string blas_config;   // openblas_get_config()
  std::string blas_core;     // openblas_get_corename(): the kernel set OpenBLAS picked
};

MachineInfo machine_info();

// Peak resident set size of this process so far, in MiB (getrusage ru_maxrss).
double peak_rss_mb();

}  // namespace npw
