// Where a stream's large per-window tensors live (the log-mel window, the encoder output). The
// runtime asks a BufferProvider for them instead of allocating them itself, so that whoever runs the
// stream can hand out memory from its own pool: the GStreamer element gives out GstBufferPool
// buffers, an accelerator could give device-visible memory. The default provider is the heap.
#pragma once

#include <cstddef>

namespace npw {

// Alignment of every provided buffer (as AlignedBuffer's): vector loads never straddle cache lines.
constexpr std::size_t kProvidedAlignment = 64;

class BufferProvider {
 public:
  virtual ~BufferProvider() = default;
  // `bytes` (> 0) of writable memory, kProvidedAlignment-aligned, contents unspecified, valid until
  // release(). Throws npw::Error (or std::bad_alloc) when it cannot.
  virtual void* acquire(std::size_t bytes) = 0;
  // Gives back memory that acquire() returned.
  virtual void release(void* data) noexcept = 0;
};

// Aligned heap memory: what the runtime uses when nobody supplies a provider. Thread-safe.
BufferProvider& heap_buffer_provider();

}  // namespace npw
