// The audio waiting to be transcribed: a GstAdapter holding upstream's buffers by reference (no
// copy on the streaming path), plus the sample format of each stretch so a mid-stream caps change
// (F32LE <-> S16LE) needs no conversion of what is already queued. fill() writes the first samples
// as f32 straight into a window buffer; flush() drops what the runtime consumed, the rest starts
// the next window. Owned and used by one thread (the worker).
#pragma once

#include <gst/audio/audio.h>
#include <gst/base/gstadapter.h>

#include <cstddef>
#include <deque>

namespace npwgst {

class WindowAccumulator {
 public:
  WindowAccumulator();
  ~WindowAccumulator();
  WindowAccumulator(const WindowAccumulator&) = delete;
  WindowAccumulator& operator=(const WindowAccumulator&) = delete;

  // Format of the buffers pushed from now on (GST_AUDIO_FORMAT_F32LE or GST_AUDIO_FORMAT_S16LE).
  void set_format(GstAudioFormat format);
  // Takes ownership of `buffer`. A trailing partial sample is dropped. Returns the samples added.
  std::size_t push(GstBuffer* buffer);

  std::size_t available() const { return samples_; }
  // Writes the first n (<= available()) samples as finite f32 into dst.
  void fill(float* dst, std::size_t n);
  void flush(std::size_t n);
  void clear();

 private:
  struct Run {
    std::size_t bytes_per_sample;
    std::size_t samples;
  };
  GstAdapter* adapter_;
  std::deque<Run> runs_;
  std::size_t bytes_per_sample_ = 4;
  std::size_t samples_ = 0;
};

}  // namespace npwgst
