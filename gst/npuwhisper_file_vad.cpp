// See npuwhisper_file_vad.h.
#include "npuwhisper_file_vad.h"

namespace npwgst {

FileVad::FileVad(const npw::GateSettings& settings) : gate_(settings) {}

void FileVad::push(GstBuffer* buffer, std::vector<npw::GateChunk>& out) {
  const std::size_t n = in_.push(buffer);
  if (n == 0) return;
  scratch_.resize(n);
  in_.fill(scratch_.data(), n);
  in_.flush(n);
  gate_.push(scratch_.data(), n, out);
}

void FileVad::reset() {
  in_.clear();
  gate_.reset();
}

GstBuffer* f32_buffer(const std::vector<float>& samples) {
  return gst_buffer_new_memdup(samples.data(), samples.size() * sizeof(float));
}

}  // namespace npwgst
