// A fixed-size, 64-byte aligned array of trivially copyable values. Used for every buffer the hot
// paths read (weights, activations, pools) so that vector loads never straddle cache lines and the
// steady state reuses memory instead of allocating. Buffers of a MiB or more are anonymous mappings,
// zero without being written: their pages become resident only where they are used, so that a KV
// cache sized for 448 positions of 5 beams costs the memory of the positions decoded, not of all.
// Those mappings, and labelled buffers of any size, are entered in the memory ledger under the
// buffer's label, so that a resident-memory figure can say which buffers hold it. Each mapping is
// backed as its Pages say (below), whatever the kernel's default for transparent huge pages.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

#include "util/memory_ledger.h"

namespace npw {

// How a mapped buffer's pages are backed.
// Small (every buffer unless it asks otherwise): 4 KiB pages only (MADV_NOHUGEPAGE), so that a buffer
// sized for the worst case (a KV cache for 448 positions of 5 beams, attention scratch) is resident
// only where it is used, also where the kernel backs every anonymous mapping with 2 MiB pages
// (transparent_hugepage=always; a throwaway driver of base f16 `cpu-int8` 5-beam steps with every
// mapping of 4 MiB or more on huge pages: 154 -> 182 MB resident).
// Huge: 2 MiB pages asked for (MADV_HUGEPAGE), for a buffer written whole once and streamed whole on
// every use, the weights packed for few rows: a decoder step streams every weight through the TLB,
// one miss per 4 KiB of each stream otherwise (Xeon, `cpu-int8`, 64 steps, 4 alternations: base f16
// 5-beam step 1.64-1.73 -> 1.53-1.55 ms, one-token 1.25 -> 1.23; base q8_0 5-beam 1.57-1.66 -> 1.51,
// 2 alternations; resident memory the same). Not the weights packed for many rows (panels): their
// products read each panel block from cache for many rows, and on a Zen 5 guest they ran slower on
// huge pages (README, thirty-fourth session).
enum class Pages { Small, Huge };

template <typename T>
class AlignedBuffer {
  static_assert(std::is_trivially_copyable<T>::value, "AlignedBuffer holds plain values only");

 public:
  static constexpr std::size_t kAlignment = 64;

  AlignedBuffer() = default;
  explicit AlignedBuffer(std::size_t n) { resize(n); }
  // A buffer whose mappings the memory ledger reports under `label`, backed as `pages` says.
  explicit AlignedBuffer(MemoryLabel label, Pages pages = Pages::Small) : label_(label.name), pages_(pages) {}
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  AlignedBuffer(AlignedBuffer&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)), label_(o.label_), pages_(o.pages_) {}
  AlignedBuffer& operator=(AlignedBuffer&& o) noexcept {
    if (this != &o) {
      release();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
      // The buffer keeps its own label, if it has one, for the memory it takes over (and its own
      // Pages for its next allocation).
      if (!label_) {
        label_ = o.label_;
        pages_ = o.pages_;
      } else if (data_ && o.label_ != label_) {
        memory_ledger::leave(data_);
        memory_ledger::enter(data_, bytes_for(size_), label_);
      }
    }
    return *this;
  }
  ~AlignedBuffer() { release(); }

  // Discards the contents; new contents are zero.
  void resize(std::size_t n) {
    release();
    if (n == 0) return;
    const std::size_t bytes = bytes_for(n);
    if (bytes >= kMapBytes) {
      void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED) throw std::bad_alloc();
#if defined(MADV_HUGEPAGE) && defined(MADV_NOHUGEPAGE)
      // Advice only: a kernel without transparent huge pages refuses it and the pages stay 4 KiB.
      madvise(p, bytes, pages_ == Pages::Huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
#endif
      data_ = static_cast<T*>(p);  // page-aligned and zero
      memory_ledger::enter(p, bytes, label_);
    } else {
      data_ = static_cast<T*>(std::aligned_alloc(kAlignment, bytes));
      if (!data_) throw std::bad_alloc();
      std::memset(static_cast<void*>(data_), 0, bytes);
      // Small labelled buffers too (in the malloc heap): a model's small matrices add up.
      if (label_) memory_ledger::enter(data_, bytes, label_);
    }
    size_ = n;
  }
  // Grows only: keeps the allocation when it is already large enough (contents unspecified).
  void reserve_at_least(std::size_t n) {
    if (n > size_) resize(n);
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  std::size_t size() const { return size_; }
  T& operator[](std::size_t i) { return data_[i]; }
  const T& operator[](std::size_t i) const { return data_[i]; }

 private:
  static constexpr std::size_t kMapBytes = std::size_t{1} << 20;
  static std::size_t bytes_for(std::size_t n) { return (n * sizeof(T) + kAlignment - 1) / kAlignment * kAlignment; }
  void release() {
    if (data_) {
      const std::size_t bytes = bytes_for(size_);
      if (bytes >= kMapBytes) {
        memory_ledger::leave(data_);
        munmap(static_cast<void*>(data_), bytes);
      } else {
        if (label_) memory_ledger::leave(data_);
        std::free(data_);
      }
    }
    data_ = nullptr;
    size_ = 0;
  }

  T* data_ = nullptr;
  std::size_t size_ = 0;
  const char* label_ = nullptr;
  Pages pages_ = Pages::Small;
};

}  // namespace npw
