// The batched real FFT's stages and split compiled for AVX2 (16 frames in two registers) and AVX-512
// (in one): the kernels of batched_real_fft_kernels.h inlined into functions of those instruction
// sets (util/simd_target.h), only called after the run-time check in batched_real_fft.cpp.
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

NPW_TARGET_AVX512 void power_avx512(const Plan& plan, Lanes a, Lanes b, float* power) {
  transform<f32x16>(plan, a, b, PowerOut<f32x16>{power});
}

NPW_TARGET_AVX512 void spectrum_avx512(const Plan& plan, Lanes a, Lanes b, float* re, float* im) {
  transform<f32x16>(plan, a, b, SpectrumOut<f32x16>{re, im});
}

}  // namespace fft_kernels
}  // namespace npw
