// Machine facts from the kernel and OpenBLAS (which asking for its build opens: util/openblas.h).
#include "bench_machine.h"

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>

#include "util/openblas.h"

namespace npw {

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t");
  const auto e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return trim(line.substr(colon + 1));
    }
  }
  return "unknown";
}

}  // namespace

MachineInfo machine_info() {
  MachineInfo m;
  m.nproc = static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
  m.cpu_model = cpu_model();
  const char* config = openblas::config();
  const char* core = openblas::corename();
  m.blas_config = config ? trim(config) : "";
  m.blas_core = core ? trim(core) : "";
  return m;
}

double peak_rss_mb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // Linux reports KiB
}

}  // namespace npw
