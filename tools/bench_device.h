// The NPU figures of npuwhisper-bench: with --backend npu-emulator, one window (log-mel, encoder,
// cross-attention keys and values) on an emulated npu1 and an emulated npu2, read from the backend's
// books - launches, bytes each way, buffers allocated in the steady state, modelled device time - and
// the modelled time of the encoder and of the window on such a machine: the host's own work as
// measured here (attention, norms, GELU, quantisation; the emulator's CPU work on the products
// subtracted) plus the modelled device time.
#pragma once

#include <string>
#include <vector>

#include "bench_stats.h"

namespace npw {

class Model;

struct DeviceGeneration {
  std::string name;        // npu1, npu2
  std::string cost_model;  // CostModel::describe()
  Summary device_ms;       // modelled device time per window (all its products)
  Summary encoder_device_ms;
  Summary encoder_host_ms;  // measured encoder wall time minus the emulated products' CPU time
  Summary window_host_ms;   // the same for mel + encoder + cross K/V
  Summary encoder_ms;       // modelled: host + device
  Summary window_ms;
};

struct DeviceFigures {
  bool present = false;
  std::string device;
  double launches = 0, bytes_to_device = 0, bytes_from_device = 0, buffers_allocated = 0;  // per window
  double products_on_device = 0, products_on_cpu = 0;
  double batches = 0;  // device runs (one runlist each on XRT) per window
  std::vector<DeviceGeneration> generations;  // npu1, npu2
};

// Runs `repeat` timed windows (after one warm-up) per generation on `signal`.
DeviceFigures measure_device_windows(const Model& model, const std::vector<float>& signal, int threads, int repeat);

}  // namespace npw
