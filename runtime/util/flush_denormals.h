// Subnormal floats flushed to zero for one computation on the calling thread. On Intel cores every
// operation that reads or makes a subnormal float is a microcode assist (~150 cycles): a log-mel of
// 30 s of audio whose samples are subnormal (a fade's tail in float audio) took 58 ms instead of 4.6
// on a Xeon. The front end's output cannot see the difference: such powers lie far below its log
// floor. Scoped, and restored on exit, because the calling thread is the application's (a GStreamer
// streaming thread) and its own float code must keep the mode it had.
#pragma once

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

namespace npw {

class ScopedFlushDenormals {
 public:
#if defined(__x86_64__) || defined(__i386__)
  // MXCSR's flush-to-zero (bit 15) and denormals-are-zero (bit 6).
  static constexpr unsigned kFlushBits = 0x8040u;
  ScopedFlushDenormals() : saved_(_mm_getcsr()) { _mm_setcsr(saved_ | kFlushBits); }
  ~ScopedFlushDenormals() { _mm_setcsr(saved_); }

 private:
  unsigned saved_;
#else
  ScopedFlushDenormals() = default;
#endif
 public:
  ScopedFlushDenormals(const ScopedFlushDenormals&) = delete;
  ScopedFlushDenormals& operator=(const ScopedFlushDenormals&) = delete;
};

}  // namespace npw
