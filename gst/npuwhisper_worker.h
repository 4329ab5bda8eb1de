// The thread that runs inference, and the ordered queue that feeds it. The streaming thread only
// enqueues (audio buffers by reference, serialized events) and returns, so a live source waits at
// most for queue space, never for a transcription; everything leaves the element from this thread,
// in arrival order. Flushing empties the queue and releases a blocked producer; wait_idle() lets the
// streaming thread synchronise with the consumer (EOS drain, FLUSH_STOP reset).
#pragma once

#include <gst/gst.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace npwgst {

class Worker {
 public:
  // `handle` gets each item on the worker thread and owns it (exactly one of buffer/event is set).
  using Handler = std::function<void(GstBuffer* buffer, GstEvent* event)>;

  // `max_queued_bytes` bounds the audio waiting in the queue (the producer blocks beyond it).
  Worker(Handler handle, std::size_t max_queued_bytes);
  ~Worker();  // stops and joins
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Enqueue; takes ownership. Blocks while the queue is full. Returns false (and drops the item)
  // when flushing or stopped.
  bool push_buffer(GstBuffer* buffer);
  bool push_event(GstEvent* event);

  // While flushing, the queue is emptied (except sticky events a flush keeps, handled after it) and
  // pushes are refused.
  void set_flushing(bool flushing);
  bool flushing() const;

  // Waits until the queue is empty and no item is being handled (returns early when flushing and the
  // current item is done).
  void wait_idle();

  // Audio bytes queued and not yet handed to the handler (live mode: how far behind it is).
  std::size_t queued_bytes() const;

 private:
  bool push(GstBuffer* buffer, GstEvent* event);
  void run();
  // Unrefs the queued items (keep_sticky: except the sticky events a flush keeps).
  void drop_queue_locked(bool keep_sticky = false);

  struct Item {
    GstBuffer* buffer;
    GstEvent* event;
  };

  Handler handle_;
  const std::size_t max_queued_bytes_;

  // queue lock
  mutable std::mutex mutex_;
  std::condition_variable cond_;
  std::deque<Item> queue_;
  std::size_t queued_bytes_ = 0;
  bool busy_ = false;
  bool flushing_ = false;
  bool stop_ = false;

  std::thread thread_;
};

}  // namespace npwgst
