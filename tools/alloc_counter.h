// A process-wide heap allocation counter for the benchmark and the zero-allocation tests. The
// steady state of the encoder and decoder must not touch the heap (an allocation per token is a lock,
// a page fault or a cache miss on every step, on every stream); this counter is how we know.
//
// How it counts: alloc_counter.c defines malloc, calloc, realloc, the memalign family and
// aligned_alloc in the executable that links it (link_whole), forwarding to glibc's __libc_*
// entry points. An executable's own definitions come first in the dynamic symbol lookup, so every
// shared library (libstdc++'s operator new, OpenBLAS, FFTW) allocates through them without any
// LD_PRELOAD in the environment of meson test / meson benchmark. Counting is one relaxed atomic
// increment per call, on every thread.
#pragma once

#ifdef __cplusplus
extern "C" {
#endif

// Allocation calls (malloc, calloc, realloc, posix_memalign, aligned_alloc, memalign, valloc,
// pvalloc; operator new reaches malloc) since the process started. Frees are not counted.
long long npw_alloc_count(void);

// 1 when the interposers are built in; 0 in sanitizer builds, where the sanitizer owns malloc and
// npw_alloc_count() stays 0.
int npw_alloc_counter_active(void);

#ifdef __cplusplus
}
#endif
