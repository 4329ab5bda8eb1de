// See npuwhisper_worker.h.
#include "npuwhisper_worker.h"

namespace npwgst {

Worker::Worker(Handler handle, std::size_t max_queued_bytes)
    : handle_(std::move(handle)), max_queued_bytes_(max_queued_bytes) {
  thread_ = std::thread([this] { run(); });
}

Worker::~Worker() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    flushing_ = true;
    drop_queue_locked();
  }
  cond_.notify_all();
  thread_.join();
}

bool Worker::push_buffer(GstBuffer* buffer) { return push(buffer, nullptr); }
bool Worker::push_event(GstEvent* event) { return push(nullptr, event); }

bool Worker::push(GstBuffer* buffer, GstEvent* event) {
  std::unique_lock<std::mutex> lock(mutex_);
  const std::size_t bytes = buffer ? gst_buffer_get_size(buffer) : 0;
  // An item larger than the whole budget still goes in once the queue is empty.
  cond_.wait(lock, [&] {
    return flushing_ || bytes == 0 || queued_bytes_ == 0 || queued_bytes_ + bytes <= max_queued_bytes_;
  });
  if (flushing_) {
    lock.unlock();
    if (buffer) gst_buffer_unref(buffer);
    if (event) gst_event_unref(event);
    return false;
  }
  queue_.push_back({buffer, event});
  queued_bytes_ += bytes;
  cond_.notify_all();
  return true;
}

void Worker::set_flushing(bool flushing) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    flushing_ = flushing;
    if (flushing) drop_queue_locked(true);
  }
  cond_.notify_all();
}

bool Worker::flushing() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return flushing_;
}

void Worker::wait_idle() {
  std::unique_lock<std::mutex> lock(mutex_);
  cond_.wait(lock, [&] { return !busy_ && (queue_.empty() || flushing_); });
}

// GStreamer's pads keep their sticky events across a flush except SEGMENT, EOS and
// STREAM_GROUP_DONE (FLUSH_STOP drops those); upstream will not send a kept one again, so one still
// queued here must outlive the flush too, or the audio after it arrives without its CAPS.
static bool survives_flush(GstEvent* event) {
  if (!event || !GST_EVENT_IS_STICKY(event)) return false;
  const GstEventType t = GST_EVENT_TYPE(event);
  return t != GST_EVENT_SEGMENT && t != GST_EVENT_EOS && t != GST_EVENT_STREAM_GROUP_DONE;
}

void Worker::drop_queue_locked(bool keep_sticky) {
  std::deque<Item> kept;
  for (Item& item : queue_) {
    if (keep_sticky && survives_flush(item.event)) {
      kept.push_back(item);
      continue;
    }
    if (item.buffer) gst_buffer_unref(item.buffer);
    if (item.event) gst_event_unref(item.event);
  }
  queue_ = std::move(kept);
  queued_bytes_ = 0;
}

void Worker::run() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    // Sticky events kept over a flush wait for its end (FLUSH_STOP resets the stream first).
    cond_.wait(lock, [&] { return stop_ || (!queue_.empty() && !flushing_); });
    if (stop_) break;
    Item item = queue_.front();
    queue_.pop_front();
    if (item.buffer) queued_bytes_ -= gst_buffer_get_size(item.buffer);
    busy_ = true;
    cond_.notify_all();  // room for a blocked producer
    lock.unlock();
    handle_(item.buffer, item.event);
    lock.lock();
    busy_ = false;
    cond_.notify_all();
  }
}

std::size_t Worker::queued_bytes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queued_bytes_;
}

}  // namespace npwgst
