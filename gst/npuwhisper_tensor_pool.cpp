// See npuwhisper_tensor_pool.h. One plain GstBufferPool whose buffers are as large as the largest
// tensor (the encoder output; the mel window uses the front of one), with exactly as many buffers
// as tensors, all allocated when the pool activates, and 64-byte aligned through the allocation
// parameters.
#include "npuwhisper_tensor_pool.h"

#include <algorithm>
#include <string>

#include "util/error.h"

namespace npwgst {

TensorPool::~TensorPool() { clear(); }

bool TensorPool::configure(const std::vector<std::size_t>& sizes) {
  const std::size_t size = sizes.empty() ? 0 : *std::max_element(sizes.begin(), sizes.end());
  const guint count = static_cast<guint>(sizes.size());
  if (pool_ && size == buffer_size_ && count == n_buffers_) return true;
  if (size == 0 || !held_.empty()) return false;
  clear();

  GstBufferPool* pool = gst_buffer_pool_new();
  GstStructure* config = gst_buffer_pool_get_config(pool);
  gst_buffer_pool_config_set_params(config, nullptr, static_cast<guint>(size), count, count);
  GstAllocationParams params;
  gst_allocation_params_init(&params);
  params.align = npw::kProvidedAlignment - 1;
  gst_buffer_pool_config_set_allocator(config, nullptr, &params);
  if (!gst_buffer_pool_set_config(pool, config) || !gst_buffer_pool_set_active(pool, TRUE)) {
    gst_object_unref(pool);
    return false;
  }
  held_.reserve(count);
  std::lock_guard<std::mutex> lock(mutex_);
  pool_ = pool;
  buffer_size_ = size;
  n_buffers_ = count;
  return true;
}

void TensorPool::clear() {
  for (Held& h : held_) {
    gst_buffer_unmap(h.buffer, &h.map);
    gst_buffer_unref(h.buffer);
  }
  held_.clear();
  GstBufferPool* pool = nullptr;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    pool = pool_;
    pool_ = nullptr;
    buffer_size_ = 0;
    n_buffers_ = 0;
  }
  if (pool) {
    gst_buffer_pool_set_active(pool, FALSE);
    gst_object_unref(pool);
  }
}

GstBufferPool* TensorPool::ref_pool() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return pool_ ? GST_BUFFER_POOL(gst_object_ref(pool_)) : nullptr;
}

void* TensorPool::acquire(std::size_t bytes) {
  if (!pool_) throw npw::Error(npw::ErrorKind::Internal, "tensor pool: used before caps negotiation");
  if (bytes > buffer_size_) {
    throw npw::Error(npw::ErrorKind::Internal, "tensor pool: " + std::to_string(bytes) + " bytes asked, buffers hold " +
                                                   std::to_string(buffer_size_));
  }
  GstBufferPoolAcquireParams params = {};
  params.flags = GST_BUFFER_POOL_ACQUIRE_FLAG_DONTWAIT;
  GstBuffer* buffer = nullptr;
  const GstFlowReturn ret = gst_buffer_pool_acquire_buffer(pool_, &buffer, &params);
  if (ret != GST_FLOW_OK || !buffer) {
    throw npw::Error(npw::ErrorKind::Internal, std::string("tensor pool: no buffer (") + gst_flow_get_name(ret) +
                                                   "): all " + std::to_string(n_buffers_) + " are in use");
  }
  Held h{buffer, GST_MAP_INFO_INIT};
  if (!gst_buffer_map(buffer, &h.map, GST_MAP_WRITE)) {
    gst_buffer_unref(buffer);
    throw npw::Error(npw::ErrorKind::Internal, "tensor pool: could not map a buffer for writing");
  }
  held_.push_back(h);
  return h.map.data;
}

void TensorPool::release(void* data) noexcept {
  for (auto it = held_.begin(); it != held_.end(); ++it) {
    if (it->map.data != data) continue;
    gst_buffer_unmap(it->buffer, &it->map);
    gst_buffer_unref(it->buffer);  // back into the pool
    held_.erase(it);
    return;
  }
}

}  // namespace npwgst
