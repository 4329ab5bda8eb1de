// The element's pool for the runtime's per-window tensors, the log-mel window and the encoder
// output: a GstBufferPool, created at caps negotiation, that the Transcriber draws from through
// npw::BufferProvider. Each tensor is one pool buffer, acquired when the first window needs it,
// mapped for writing and held while the stream runs, so every window is computed in the same
// memory and nothing is allocated per window; release() returns it to the pool (flush, stop). The
// pool is published (the element's read-only "tensor-pool" property) for applications and tests.
#pragma once

#include <gst/gst.h>

#include <cstddef>
#include <mutex>
#include <vector>

#include "util/buffer_provider.h"

namespace npwgst {

class TensorPool : public npw::BufferProvider {
 public:
  TensorPool() = default;
  ~TensorPool() override;
  TensorPool(const TensorPool&) = delete;
  TensorPool& operator=(const TensorPool&) = delete;

  // Creates and activates the pool for tensors of these sizes in bytes (one buffer each; nothing to
  // do when it already serves them). Returns false when GStreamer refuses the configuration or
  // cannot allocate the buffers.
  bool configure(const std::vector<std::size_t>& sizes);
  // Deactivates and drops the pool (stop). Everything acquired must have been released.
  void clear();

  // A new reference to the pool, or nullptr before configure(). Any thread.
  GstBufferPool* ref_pool() const;

  // npw::BufferProvider, on the thread that runs the Transcriber. acquire() never blocks: it throws
  // npw::Error when the pool is not configured, the size is more than a buffer holds, or every
  // buffer is already out.
  void* acquire(std::size_t bytes) override;
  void release(void* data) noexcept override;

 private:
  struct Held {
    GstBuffer* buffer;
    GstMapInfo map;
  };

  mutable std::mutex mutex_;  // guards pool_ against ref_pool() from other threads
  GstBufferPool* pool_ = nullptr;
  std::size_t buffer_size_ = 0;
  guint n_buffers_ = 0;
  std::vector<Held> held_;  // capacity n_buffers_, reserved by configure()
};

}  // namespace npwgst
