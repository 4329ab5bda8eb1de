// Writes whisper.cpp GGML Whisper files: the byte-for-byte inverse of what ggml_file.h parses. Used by
// npuwhisper-mkmodel and the tests to produce models of real dimensions without trained weights.
// Tensors are written one at a time so that a large-v3 sized file never has to exist in memory.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "model/ggml_types.h"
#include "model/hparams.h"

namespace npw {

inline constexpr int32_t kGgmlMelBins = 201;  // n_fft / 2 + 1 of Whisper's 400-point STFT

class GgmlWriter {
 public:
  // `what` names the destination in error messages (normally the path). `out` must outlive the writer.
  GgmlWriter(std::ostream& out, std::string what);

  // Magic, the eleven header integers (ftype written as 1000 * qntvr + ftype), the mel filters
  // ([hp.n_mels][n_fft] floats) and the vocabulary. Must come first, once.
  void write_header(const HParams& hp, int32_t n_fft, const std::vector<float>& mel_filters,
                    const std::vector<std::string>& vocab);

  // One tensor record: n_dims, name length, type, dims (ggml order, ne[0] first), name, then the
  // elements of `values` (product of ne[0..n_dims) floats) stored as `type` via quantize_row.
  void write_tensor(const std::string& name, GgmlType type, int n_dims, const int64_t* ne, const float* values);

  uint64_t bytes_written() const { return bytes_; }

 private:
  void put(const void* p, std::size_t n);
  void put_i32(int32_t v);

  std::ostream& out_;
  std::string what_;
  bool header_done_ = false;
  uint64_t bytes_ = 0;
};

// A tensor held in memory, for writing small models in one call.
struct TensorData {
  std::string name;
  GgmlType type = GgmlType::F32;
  std::vector<int64_t> ne;  // ggml order; size is n_dims
  std::vector<float> values;
};

void write_ggml_whisper(std::ostream& out, const std::string& what, const HParams& hp,
                        const std::vector<float>& mel_filters, const std::vector<std::string>& vocab,
                        const std::vector<TensorData>& tensors);

}  // namespace npw
