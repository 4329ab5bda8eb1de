// A weight matrix as the NPU backend keeps it: quantised (int8, one scale per output) or rounded
// (bf16) once at model load into the device kernel's B layout ([Np][Kp], zero padded), in a device
// buffer synced to the device once and shared by every stream of the model; plus, for matrices that
// also multiply a decoder step's few rows, the CPU backend's own packing of the same weights.
#pragma once

#include <cstddef>
#include <memory>

#include "backend/backend.h"
#include "backend/npu/device.h"
#include "backend/npu/npu_context.h"
#include "util/aligned_buffer.h"

namespace npw {
namespace npu {

class NpuPackedMatrix : public PackedMatrix {
 public:
  int n_out() const override { return n_out_; }
  int n_in() const override { return n_in_; }
  std::size_t bytes() const override;
  bool copy_row(int o, float* out) const override { return cpu && cpu->copy_row(o, out); }

  // Set by the backend's pack functions.
  int n_out_ = 0, n_in_ = 0;
  Op op = Op::GemmI8;
  int Np = 0, Kp = 0;
  std::shared_ptr<NpuContext> context;      // declared before `weights`: outlives it
  std::unique_ptr<DeviceBuffer> weights;    // null when the product cannot go to the device
  AlignedBuffer<float> scales;              // gemm_i8: s_w per output (Np, zero past n_out)
  std::unique_ptr<PackedMatrix> cpu;        // the CPU form, or null (only many-row products)
  const void* owner = nullptr;              // the backend configuration that packed it
};

}  // namespace npu
}  // namespace npw
