// Weight matrices as a model file would hold them, for the backend tests: a row-major f32 matrix
// stored as any GGML type (optionally at an odd offset, as tensors in a mapped file can be) and the
// TensorView a loader would hand to Backend::pack().
#pragma once

#include <cstdint>
#include <vector>

#include "model/ggml_file.h"
#include "model/quant.h"

namespace npw_test {

inline npw::TensorView view_of(const std::vector<uint8_t>& bytes, npw::GgmlType type, int n_in, int n_out,
                               std::size_t skip = 0) {
  npw::TensorView v;
  v.name = "test.weight";
  v.type = type;
  v.n_dims = 2;
  v.ne[0] = n_in;
  v.ne[1] = n_out;
  v.data = bytes.data() + skip;
  v.nbytes = bytes.size() - skip;
  return v;
}

// Stores w [n_out][n_in] as `type`, `skip` bytes into the buffer (to test unaligned data).
inline std::vector<uint8_t> store(const std::vector<float>& w, npw::GgmlType type, int n_in, int n_out,
                                  std::size_t skip = 0) {
  const std::size_t row = npw::ggml_row_bytes(type, n_in);
  std::vector<uint8_t> bytes(skip + row * n_out);
  for (int o = 0; o < n_out; ++o) npw::quantize_row(type, w.data() + o * n_in, bytes.data() + skip + o * row, n_in);
  return bytes;
}

}  // namespace npw_test
