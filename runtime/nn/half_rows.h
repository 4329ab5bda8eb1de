// Rows of floats to and from IEEE half floats for the decoder's half KV cache: F16C at SimdLevel::Avx2
// and above, quant.h's scalar conversions otherwise; both round to nearest even, so the cache holds
// the same bits whatever the level.
#pragma once

#include <cstddef>
#include <cstdint>

namespace npw {

void floats_to_halves(const float* src, uint16_t* dst, std::size_t n);
void halves_to_floats(const uint16_t* src, float* dst, std::size_t n);

}  // namespace npw
