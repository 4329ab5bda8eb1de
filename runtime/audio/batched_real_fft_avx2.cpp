// The batched real FFT's stages and split in two AVX2 registers for the 16 frames (the kernels of
// batched_real_fft_kernels.h inlined into functions compiled for AVX2: util/simd_target.h); only
// called after the run-time check in batched_real_fft.cpp.
#include "audio/batched_real_fft_kernels.h"
#include "util/simd_target.h"

namespace npw {
namespace fft_kernels {

NPW_TARGET_AVX2 void power_avx2(const Plan& plan, Lanes a, Lanes b, float* power) {
  transform<f32x8>(plan, a, b, PowerOut<f32x8>{power});
}

NPW_TARGET_AVX2 void spectrum_avx2(const Plan& plan, Lanes a, Lanes b, float* re, float* im) {
  transform<f32x8>(plan, a, b, SpectrumOut<f32x8>{re, im});
}

}  // namespace fft_kernels
}  // namespace npw
