// Subnormal floats flushed to zero (MXCSR's FTZ and DAZ) for the runtime's arithmetic. On Intel cores
// every operation that reads or makes a subnormal float is a microcode assist (~150 cycles a vector):
// on a Xeon, a log-mel of 30 s of audio whose samples are subnormal (a fade's tail in float audio)
// took 58 ms instead of 4.6, and the f32 attention over sharp scores (a trained model's peaked heads:
// exps near the bottom of the range times values, rescaled partial sums) 116 ms a layer instead of 24.
// Nothing the runtime computes can see the difference: a subnormal is 1e-38 of a probability, a power
// far below the log-mel's floor. Scoped, and restored on exit, where the thread is the application's
// (a GStreamer streaming thread), whose own float code must keep the mode it had. Elsewhere than x86
// these do nothing.
#pragma once

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define NPW_HAS_MXCSR 1
#else
#define NPW_HAS_MXCSR 0
#endif

namespace npw {

#if NPW_HAS_MXCSR
// MXCSR's flush-to-zero (bit 15) and denormals-are-zero (bit 6).
constexpr unsigned kMxcsrFlushBits = 0x8040u;
#endif

// For threads that run nothing but the runtime's arithmetic (the pool's workers): flushed for good.
inline void set_flush_denormals() {
#if NPW_HAS_MXCSR
  _mm_setcsr(_mm_getcsr() | kMxcsrFlushBits);
#endif
}

class ScopedFlushDenormals {
 public:
#if NPW_HAS_MXCSR
  ScopedFlushDenormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | kMxcsrFlushBits); }
  ~ScopedFlushDenormals() { _mm_setcsr(saved_); }
#else
  ScopedFlushDenormals() = default;
#endif
  ScopedFlushDenormals(const ScopedFlushDenormals&) = delete;
  ScopedFlushDenormals& operator=(const ScopedFlushDenormals&) = delete;

  // Runs fn (a caller's callback from inside the scope) in the float mode the thread had before.
  template <typename Fn>
  void as_before(Fn&& fn) const {
#if NPW_HAS_MXCSR
    struct Back {
      unsigned csr;
      ~Back() { _mm_setcsr(csr); }
    } back{_mm_getcsr()};
    _mm_setcsr(saved_);
#endif
    fn();
  }

#if NPW_HAS_MXCSR
 private:
  unsigned saved_;
#endif
};

}  // namespace npw
