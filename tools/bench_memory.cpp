// /proc/self/status reader for the benchmark's resident-memory figures.
#include "bench_memory.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace npw {

double current_rss_mb() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0.0;
  char line[256];
  double kb = 0.0;
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, "VmRSS:", 6) == 0) {
      kb = std::strtod(line + 6, nullptr);
      break;
    }
  }
  std::fclose(f);
  return kb / 1024.0;
}

}  // namespace npw
