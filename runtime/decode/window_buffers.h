// The two tensors a stream writes every window and reads where they lie: the log-mel window
// [n_mels][3000] (written by the mel, read by the encoder) and the encoder output
// [n_audio_ctx][n_audio_state] (written by the encoder, read by the decoder's cross-attention
// set-up). They come from a BufferProvider the first time a window needs them and are then held,
// so every window reuses the same memory; release() gives them back (a flush, a stop), and the next
// window acquires them again.
#pragma once

#include <cstddef>

namespace npw {

class BufferProvider;

class WindowBuffers {
 public:
  WindowBuffers(std::size_t mel_floats, std::size_t encoder_floats);
  ~WindowBuffers();  // releases
  WindowBuffers(const WindowBuffers&) = delete;
  WindowBuffers& operator=(const WindowBuffers&) = delete;

  // Where the buffers come from from now on (nullptr: the heap). Releases what the previous provider
  // gave. The provider must stay alive while it holds buffers of ours (until release(), another
  // set_provider() or our destruction).
  void set_provider(BufferProvider* provider);

  // The buffers, acquired on first use after construction or release(). Throws npw::Error when the
  // provider fails or gives memory that is not 64-byte aligned.
  float* mel();
  float* encoder_output();

  void release() noexcept;

  std::size_t mel_bytes() const { return mel_floats_ * sizeof(float); }
  std::size_t encoder_bytes() const { return encoder_floats_ * sizeof(float); }

 private:
  float* take(float*& slot, std::size_t floats);

  BufferProvider* provider_;
  std::size_t mel_floats_, encoder_floats_;
  float* mel_ = nullptr;
  float* encoder_ = nullptr;
};

}  // namespace npw
