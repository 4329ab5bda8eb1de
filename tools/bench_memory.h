// Resident memory of the benchmark's own process at the points issue 14 names (after the model is
// loaded, after its weights are packed, after a window), next to the model file's size, so that every
// MB above the file can be accounted for.
#pragma once

#include "util/memory_ledger.h"

namespace npw {

// VmRSS of /proc/self/status in MiB (0 when unreadable): what is resident now, where peak_rss_mb
// (bench_machine.h) is the high-water mark.
double current_rss_mb();

struct MemoryFigures {
  double model_file_mb = 0.0;
  double rss_after_load_mb = 0.0;    // Model::load: headers, vocabulary, small tensors widened
  double rss_after_pack_mb = 0.0;    // + the backend's packed weights and one stream's buffers
  double rss_after_window_mb = 0.0;  // + a realistic window decoded (5-beam caches touched)
  double peak_after_window_mb = 0.0; // high-water mark at that point
  MemoryReport after_window;         // what holds rss_after_window_mb, by buffer and by mapping
};

}  // namespace npw
