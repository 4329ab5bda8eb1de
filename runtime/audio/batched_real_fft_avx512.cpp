// The batched real FFT's stages and split with all 16 frames in one AVX-512 register (the kernels of
// batched_real_fft_kernels.h inlined into functions compiled for AVX-512: util/simd_target.h); only
// called after the run-time check in batched_real_fft.cpp.
#include "audio/batched_real_fft_kernels.h"
#include "util/simd_target.h"

namespace npw {
namespace fft_kernels {

NPW_TARGET_AVX512 void power_avx512(const Plan& plan, Lanes a, Lanes b, float* power) {
  transform<f32x16>(plan, a, b, PowerOut<f32x16>{power});
}

NPW_TARGET_AVX512 void spectrum_avx512(const Plan& plan, Lanes a, Lanes b, float* re, float* im) {
  transform<f32x16>(plan, a, b, SpectrumOut<f32x16>{re, im});
}

}  // namespace fft_kernels
}  // namespace npw
