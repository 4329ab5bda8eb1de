// Software prefetches a few bytes past a pointer, shared by the kernels of nn/ and backend/ that
// stream their operands (attention's next key block, the skinny products' weight rows). The address
// is formed with integer arithmetic: near the end of a buffer it may lie past it, which a prefetch,
// never faulting, may name, but pointer arithmetic may not.
#pragma once

#include <cstddef>
#include <cstdint>

namespace npw {

// Where the line should go: L1 (also L2), or L2 only.
enum class PrefetchTo { L1, L2 };

template <PrefetchTo kTo>
inline void prefetch_bytes_past(const void* p, std::size_t bytes) {
  const void* a = reinterpret_cast<const void*>(reinterpret_cast<std::uintptr_t>(p) + bytes);
  // Locality 3 is prefetcht0 (L1); 2 is prefetcht1 (L2 and outward).
  __builtin_prefetch(a, 0, kTo == PrefetchTo::L1 ? 3 : 2);
}

}  // namespace npw
