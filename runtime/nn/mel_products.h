// The log-mel front end as two products on a backend, for accelerators (issue 11: "the log-mel as
// two device products"): the frames times a Hann-windowed DFT basis ([402][400]: the cosine and sine
// rows of the 201 bins, each operand split into a bf16 head and its rest so that a bf16 device keeps
// ~16 bits), |X|^2 on the CPU, then the power times the mel filter bank. The definition is OpenAI's,
// as in MelSpectrogram; only the arithmetic differs (an NPU runs both products in bf16 with f32
// accumulation). The CPU FFT stays the default: see the README for the accuracy against
// the golden log-mel and the modelled device cost.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "audio/mel.h"
#include "backend/backend.h"
#include "util/aligned_buffer.h"

namespace npw {

class MelProducts : public LogMelFrontEnd {
 public:
  // filters: [n_mels][201] float32 (the model file's); `backend` (not owned, outlives this) runs
  // both products and packs their matrices here, once. Use Backend::wide_range_products() of the
  // stream's backend: per-row int8 would lose the quiet bins of the power spectrum.
  MelProducts(const float* filters, int n_mels, Backend& backend);
  ~MelProducts() override;

  int64_t compute_raw(const float* samples, int64_t n, int64_t n_zeros, float* out, int64_t out_stride) override;

  // Frames per product: a window's 3000, so that a window is one product of each kind.
  static constexpr int kChunkFrames = 3000;
  // A file's pieces one product each, margins included (LogMelFrontEnd::piece_frames).
  int64_t piece_frames() const override { return kChunkFrames - kMelPieceMargin; }

 private:
  Backend& backend_;
  std::vector<float> basis_, filters_;  // the f32 sources of the packed matrices (kept: packs may view them)
  std::unique_ptr<PackedMatrix> dft_, mel_;
  AlignedBuffer<float> signal_{MemoryLabel{"log-mel products scratch"}};   // one chunk's samples, reflect-padded: (frames - 1) * 160 + 400
  AlignedBuffer<float> frames_{MemoryLabel{"log-mel products scratch"}};   // [frames][1200]: each frame split into bf16 head and rest (see .cpp)
  AlignedBuffer<float> spectrum_{MemoryLabel{"log-mel products scratch"}}; // [frames][402]
  AlignedBuffer<float> power_{MemoryLabel{"log-mel products scratch"}};    // [frames][201]
  AlignedBuffer<float> mel_out_{MemoryLabel{"log-mel products scratch"}};  // [frames][n_mels]
};

}  // namespace npw
