// Sample-format plumbing between what upstream sends (F32LE or S16LE) and what the runtime reads
// (finite f32). The element does no signal processing; this is the one place that touches sample
// values, and only to change their representation and to turn values the model must never see
// (NaN, Inf, denormals) into silence.
#pragma once

#include <cstddef>
#include <cstdint>

namespace npwgst {

// Replaces non-finite and subnormal samples by 0 (a denormal would slow the FFT and means nothing).
void sanitize_f32(float* samples, std::size_t n);

// Converts n S16 samples stored at the upper half of `dst` (bytes [2n, 4n) of the 4n-byte region)
// into f32 in place over the whole region. Lets the caller copy S16 audio straight into the window
// buffer and widen it there, without a scratch allocation.
void widen_s16_upper_half_in_place(float* dst, std::size_t n);

}  // namespace npwgst
