// The heap BufferProvider (see buffer_provider.h).
#include "util/buffer_provider.h"

#include <cstdlib>
#include <new>

#include "util/memory_ledger.h"

namespace npw {

namespace {

class HeapBufferProvider : public BufferProvider {
 public:
  void* acquire(std::size_t bytes) override {
    const std::size_t rounded = (bytes + kProvidedAlignment - 1) / kProvidedAlignment * kProvidedAlignment;
    void* p = std::aligned_alloc(kProvidedAlignment, rounded == 0 ? kProvidedAlignment : rounded);
    if (!p) throw std::bad_alloc();
    if (rounded >= kLedgerBytes) memory_ledger::enter(p, rounded, "stream buffers from the heap (log-mel windows, encoder outputs)");
    return p;
  }
  void release(void* data) noexcept override {
    memory_ledger::leave(data);
    std::free(data);
  }

 private:
  static constexpr std::size_t kLedgerBytes = std::size_t{1} << 20;
};

}  // namespace

BufferProvider& heap_buffer_provider() {
  static HeapBufferProvider provider;
  return provider;
}

}  // namespace npw
