// Rows of floats to and from IEEE half floats (the decoder's half KV cache, f16 weight rows widened at
// load): F16C at SimdLevel::Avx2 and above, quant.h's scalar conversions otherwise; both round to
// nearest even, so the results are the same bits whatever the level. Here, beside quant.h, because
// both nn/ and backend/ use them.
#pragma once

#include <cstddef>
#include <cstdint>

namespace npw {

void floats_to_halves(const float* src, uint16_t* dst, std::size_t n);
void halves_to_floats(const uint16_t* src, float* dst, std::size_t n);

}  // namespace npw
