// Where a product runs, decided in this one place. The device pays a launch (40-150 us on amdxdna,
// cost_model.h) and pads rows to 256, so a decoder step of 1-5 rows would be >98 % padding and cost
// more in launch overhead alone than the CPU's int8 kernels take for the whole product (about 2-60 us
// from tiny to large-v3 per matrix, README); from a few dozen rows on (prompt prefill, the encoder,
// cross-attention keys and values) the device wins.
#pragma once

namespace npw {
namespace npu {

// Rows up to this many run on the CPU when the matrix has a CPU form.
constexpr int kCpuMaxRows = 16;

inline bool place_on_device(int M, bool has_device_form, bool has_cpu_form) {
  if (!has_device_form) return false;
  if (!has_cpu_form) return true;
  return M > kCpuMaxRows;
}

}  // namespace npu
}  // namespace npw
