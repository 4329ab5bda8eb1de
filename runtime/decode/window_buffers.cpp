// See window_buffers.h.
#include "decode/window_buffers.h"

#include <cstdint>
#include <string>

#include "util/buffer_provider.h"
#include "util/error.h"

namespace npw {

WindowBuffers::WindowBuffers(std::size_t mel_floats, std::size_t encoder_floats)
    : provider_(&heap_buffer_provider()), mel_floats_(mel_floats), encoder_floats_(encoder_floats) {}

WindowBuffers::~WindowBuffers() { release(); }

void WindowBuffers::set_provider(BufferProvider* provider) {
  release();
  provider_ = provider ? provider : &heap_buffer_provider();
}

float* WindowBuffers::take(float*& slot, std::size_t floats) {
  if (slot) return slot;
  void* p = provider_->acquire(floats * sizeof(float));
  if (!p || reinterpret_cast<std::uintptr_t>(p) % kProvidedAlignment != 0) {
    if (p) provider_->release(p);
    throw Error(ErrorKind::Internal, "buffer provider: " + std::to_string(floats * sizeof(float)) +
                                         " bytes not " + std::to_string(kProvidedAlignment) + "-byte aligned");
  }
  slot = static_cast<float*>(p);
  return slot;
}

float* WindowBuffers::mel() { return take(mel_, mel_floats_); }
float* WindowBuffers::encoder_output() { return take(encoder_, encoder_floats_); }

void WindowBuffers::release() noexcept {
  if (mel_) provider_->release(mel_);
  if (encoder_) provider_->release(encoder_);
  mel_ = nullptr;
  encoder_ = nullptr;
}

}  // namespace npw
