/* The interposed allocation entry points behind npw_alloc_count(); see alloc_counter.h for why
 * link-time interposition (and not an LD_PRELOAD library) and what is counted. Written in C so that
 * the definitions match glibc's declarations exactly (C++ would add exception specifications). */
#include "alloc_counter.h"

#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define NPW_ALLOC_COUNTER_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define NPW_ALLOC_COUNTER_SANITIZED 1
#endif

/* Statically initialised: usable by allocations made before any constructor runs. */
static atomic_llong g_count = 0;

long long npw_alloc_count(void) { return atomic_load_explicit(&g_count, memory_order_relaxed); }

#ifdef NPW_ALLOC_COUNTER_SANITIZED

int npw_alloc_counter_active(void) { return 0; }

#else

void* __libc_malloc(size_t n);
void* __libc_calloc(size_t n, size_t size);
void* __libc_realloc(void* p, size_t n);
void __libc_free(void* p);
void* __libc_memalign(size_t alignment, size_t n);
/* Not declared by every glibc's headers any more; still exported. */
void* memalign(size_t alignment, size_t n);
void* valloc(size_t n);
void* pvalloc(size_t n);

int npw_alloc_counter_active(void) { return 1; }

static inline void count(void) { atomic_fetch_add_explicit(&g_count, 1, memory_order_relaxed); }
static inline size_t page_size(void) { return (size_t)sysconf(_SC_PAGESIZE); }

void* malloc(size_t n) {
  count();
  return __libc_malloc(n);
}

void* calloc(size_t n, size_t size) {
  count();
  return __libc_calloc(n, size);
}

/* realloc(p, 0) frees; every other call may move the block and is counted. */
void* realloc(void* p, size_t n) {
  if (p == NULL || n != 0) count();
  return __libc_realloc(p, n);
}

void free(void* p) { __libc_free(p); }

void* memalign(size_t alignment, size_t n) {
  count();
  return __libc_memalign(alignment, n);
}

void* aligned_alloc(size_t alignment, size_t n) {
  count();
  return __libc_memalign(alignment, n);
}

int posix_memalign(void** out, size_t alignment, size_t n) {
  if (alignment < sizeof(void*) || (alignment & (alignment - 1)) != 0) return EINVAL;
  count();
  void* p = __libc_memalign(alignment, n);
  if (p == NULL && n != 0) return ENOMEM;
  *out = p;
  return 0;
}

void* valloc(size_t n) {
  count();
  return __libc_memalign(page_size(), n);
}

void* pvalloc(size_t n) {
  count();
  const size_t page = page_size();
  return __libc_memalign(page, (n + page - 1) / page * page);
}

#endif
