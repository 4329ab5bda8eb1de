// The heap BufferProvider (see buffer_provider.h).
#include "util/buffer_provider.h"

#include <cstdlib>
#include <new>

namespace npw {

namespace {

class HeapBufferProvider : public BufferProvider {
 public:
  void* acquire(std::size_t bytes) override {
    const std::size_t rounded = (bytes + kProvidedAlignment - 1) / kProvidedAlignment * kProvidedAlignment;
    void* p = std::aligned_alloc(kProvidedAlignment, rounded == 0 ? kProvidedAlignment : rounded);
    if (!p) throw std::bad_alloc();
    return p;
  }
  void release(void* data) noexcept override { std::free(data); }
};

}  // namespace

BufferProvider& heap_buffer_provider() {
  static HeapBufferProvider provider;
  return provider;
}

}  // namespace npw
