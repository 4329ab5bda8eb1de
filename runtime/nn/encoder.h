// Whisper's audio encoder (OpenAI's AudioEncoder) for one stream: two convolutions with GELU, the
// sinusoidal positional embedding, n_audio_layer pre-norm transformer blocks and a final LayerNorm,
// turning one 30 s log-mel window [n_mels][3000] into [n_audio_ctx][n_audio_state].
// Every buffer is allocated at construction, so encoding a window allocates nothing. The packed
// weights come from the Model (made once per model and backend kind, under the key
// "<kind>/encoder") and are shared by every stream.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "nn/attention.h"
#include "util/aligned_buffer.h"

namespace npw {

class Backend;
class Model;
class PackedMatrix;
class ThreadPool;
struct EncoderPacked;

// Wall time per kind of work, added up over the windows encoded while a profile is attached.
struct EncoderProfile {
  double conv_ms = 0.0;        // both convolutions, their GELUs and the positional embedding
  double projection_ms = 0.0;  // q, k, v and output projections
  double attention_ms = 0.0;
  double mlp_ms = 0.0;         // both MLP products and the GELU between them
  double norm_ms = 0.0;        // LayerNorms and residual adds
  int windows = 0;
};

class Encoder {
 public:
  // The model, backend and pool must outlive the encoder. Element-wise passes and attention run on
  // `pool`; products run on the backend's own threads.
  Encoder(const Model& model, Backend& backend, ThreadPool& pool);
  ~Encoder();
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  // mel: n_mels rows of n_frames() floats, rows mel_ld floats apart (mel_ld >= n_frames(), so that a
  // window can be read in place from a whole-file spectrogram). Returns the encoder output,
  // [n_ctx()][n_state()], valid until the next encode.
  const float* encode(const float* mel, int64_t mel_ld);
  const float* encode(const float* mel) { return encode(mel, n_frames()); }

  int n_mels() const { return n_mels_; }
  int n_frames() const { return 2 * n_ctx_; }  // mel frames per window (3000)
  int n_ctx() const { return n_ctx_; }          // output rows (1500)
  int n_state() const { return n_state_; }
  const float* output() const { return x_; }

  // Where encode() writes from now on: `out` holds n_ctx() * n_state() floats, 64-byte aligned,
  // owned by the caller (a stream's pooled buffer) and valid while set; the residual stream is
  // computed in it, so it is the output. nullptr: the encoder's own buffer (made by the next
  // encode() that needs it).
  void set_output(float* out);

  // The encoder's widest activations (at least 2 n_ctx() n_state() floats, wide_), idle from the end
  // of one encode() to the start of the next, and never the output: a stream's decoder stages the
  // window's cross-attention keys and values in them (Decoder::set_audio) instead of holding 4.4
  // (tiny) to 5.9 MiB (base) of its own for it.
  float* idle_scratch() { return wide_.data(); }
  std::size_t idle_scratch_floats() const { return wide_.size(); }

  // Attaches a profile that encode() adds its stage times to (nullptr detaches). For benchmarks:
  // timing costs a clock read per stage.
  void set_profile(EncoderProfile* profile) { profile_ = profile; }

  // A stop flag polled between the convolutions, layers and each layer's products (nullptr: none);
  // when set, encode() throws npw::Error(Cancelled) and the output is undefined.
  void set_cancel(const std::atomic<bool>* flag) { cancel_ = flag; }

  // The row stride of the activations attention reads (q | k | v | output side by side): 4 n_state
  // plus 16 floats (see wide_). Public so that benchmarks lay their buffers out the same way.
  static constexpr int wide_stride(int n_state) { return 4 * n_state + 16; }

 private:
  void convolutions(const float* mel, int64_t mel_ld);
  // A kernel-3 convolution over time-major `in` whose frame -1 (zero padding) is row 0, then GELU and
  // (when `add` is given) + add: output frame t = GELU(W . rows [t * stride, t * stride + 3) + bias)
  // (+ add[t]), for n_out_frames frames into out [n_out_frames][n_state].
  void conv(const float* in, int channels, int stride, int n_out_frames, const PackedMatrix& w, const float* bias,
            const float* add, float* out);
  // Output frames per convolution product: bounds each thread's column buffer.
  static constexpr int kConvBlock = 256;
  void block(int layer);

  const Model& model_;
  Backend& backend_;
  const std::atomic<bool>* cancel_ = nullptr;
  ThreadPool& pool_;
  std::shared_ptr<const EncoderPacked> packed_;
  int n_mels_, n_ctx_, n_state_, n_head_, n_layer_;

  MultiHeadAttention attention_;
  EncoderProfile* profile_ = nullptr;
  AlignedBuffer<float> mel_t_{MemoryLabel{"encoder: time-major log-mel"}};  // [n_frames + 2][n_mels]: the window time-major between two zero frames
  float* x_ = nullptr;          // [n_ctx][n_state]: the residual stream, finally the output
  AlignedBuffer<float> own_x_{MemoryLabel{"encoder: activations"}};  // x_ when nobody supplied an output buffer
  AlignedBuffer<float> h_{MemoryLabel{"encoder: activations"}};      // [n_ctx][n_state]: LayerNorm output, then a block's projection
  // [n_ctx][4 n_state]: q | k | v | attention output side by side during attention, the MLP hidden
  // layer after it, and before the blocks the first convolution's output.
  AlignedBuffer<float> wide_{MemoryLabel{"encoder: activations"}};
  // wide_'s row stride: 4 n_state plus 16 floats. 4 n_state floats is a multiple of 4 KiB apart for
  // every Whisper width, which would put one head's slice of all rows into the same few L1 sets and
  // evict them while attention walks the keys.
  int ldw_ = 0;
  // Per pool thread, [kConvBlock][3 * max(n_mels, n_state)]: the im2col rows of the block it works on.
  std::size_t col_per_thread_ = 0;
  AlignedBuffer<float> col_{MemoryLabel{"encoder: convolution rows"}};
};

}  // namespace npw
