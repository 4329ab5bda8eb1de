// See npuwhisper_window.h.
#include "npuwhisper_window.h"

#include <algorithm>

#include "npuwhisper_samples.h"

namespace npwgst {

WindowAccumulator::WindowAccumulator() : adapter_(gst_adapter_new()) {}

WindowAccumulator::~WindowAccumulator() { g_object_unref(adapter_); }

void WindowAccumulator::set_format(GstAudioFormat format) {
  bytes_per_sample_ = format == GST_AUDIO_FORMAT_S16LE ? 2 : 4;
}

std::size_t WindowAccumulator::push(GstBuffer* buffer) {
  const gsize size = gst_buffer_get_size(buffer);
  const std::size_t n = size / bytes_per_sample_;
  if (n == 0) {
    gst_buffer_unref(buffer);
    return 0;
  }
  if (n * bytes_per_sample_ != size) {
    // Upstream broke the caps' framing; keep the whole samples so the stream stays aligned.
    GstBuffer* whole = gst_buffer_copy_region(buffer, GST_BUFFER_COPY_ALL, 0, n * bytes_per_sample_);
    gst_buffer_unref(buffer);
    buffer = whole;
  }
  gst_adapter_push(adapter_, buffer);
  if (!runs_.empty() && runs_.back().bytes_per_sample == bytes_per_sample_)
    runs_.back().samples += n;
  else
    runs_.push_back({bytes_per_sample_, n});
  samples_ += n;
  return n;
}

void WindowAccumulator::fill(float* dst, std::size_t n) {
  n = std::min(n, samples_);
  std::size_t done = 0;
  std::size_t byte_offset = 0;
  for (const Run& run : runs_) {
    if (done == n) break;
    const std::size_t k = std::min(run.samples, n - done);
    float* out = dst + done;
    if (run.bytes_per_sample == 4) {
      gst_adapter_copy(adapter_, out, byte_offset, k * 4);
      sanitize_f32(out, k);
    } else {
      gst_adapter_copy(adapter_, reinterpret_cast<guint8*>(out) + 2 * k, byte_offset, k * 2);
      widen_s16_upper_half_in_place(out, k);
    }
    done += k;
    byte_offset += k * run.bytes_per_sample;
  }
}

void WindowAccumulator::flush(std::size_t n) {
  n = std::min(n, samples_);
  std::size_t bytes = 0;
  std::size_t left = n;
  while (left > 0) {
    Run& run = runs_.front();
    const std::size_t k = std::min(run.samples, left);
    bytes += k * run.bytes_per_sample;
    run.samples -= k;
    left -= k;
    if (run.samples == 0) runs_.pop_front();
  }
  gst_adapter_flush(adapter_, bytes);
  samples_ -= n;
}

void WindowAccumulator::clear() {
  gst_adapter_clear(adapter_);
  runs_.clear();
  samples_ = 0;
}

}  // namespace npwgst
