// A vector value made to live in a register. GCC folds a load that several multiply-adds use into each
// of them as a memory operand, so one vector that feeds B FMAs is read B times: in the skinny products
// at 5 rows (AVX2) that was 12 loads per 10 FMAs, and a Zen 3 ran them at half its FMA rate. Shared by
// the kernels of backend/ and nn/, so it lives below both.
#pragma once

namespace npw {

// Makes v's value come from a register: the empty asm takes and gives it back in one ("+v": any vector
// register of the active width), which a load folded into its users cannot satisfy. By reference, so
// that it has no vector ABI of its own and serves every target's kernels.
template <typename R>
__attribute__((always_inline)) inline void in_register(R& v) {
  __asm__("" : "+v"(v));
}

}  // namespace npw
