// See npuwhisper_samples.h.
#include "npuwhisper_samples.h"

#include <cmath>

namespace npwgst {

void sanitize_f32(float* samples, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) {
    if (!std::isnormal(samples[i])) samples[i] = 0.0f;  // zero stays zero; NaN, Inf, subnormal -> 0
  }
}

void widen_s16_upper_half_in_place(float* dst, std::size_t n) {
  auto* bytes = reinterpret_cast<unsigned char*>(dst);
  const unsigned char* src = bytes + 2 * n;
  // Writing f32 i covers bytes [4i, 4i+4), which never reaches an S16 sample j > i at 2n + 2j,
  // so a forward pass reads every sample before it is overwritten.
  for (std::size_t i = 0; i < n; ++i) {
    const auto s = static_cast<int16_t>(src[2 * i] | (src[2 * i + 1] << 8));  // S16LE on any host
    dst[i] = static_cast<float>(s) / 32768.0f;
  }
}

}  // namespace npwgst
