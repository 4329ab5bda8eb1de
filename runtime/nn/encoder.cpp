// The encoder's forward pass. The convolutions are im2col + one backend product per block of output
// frames: with the weights packed tap-major ([out][tap][in]) and the activations time-major, the im2col
// row of output frame t is three consecutive input frames, i.e. one contiguous copy, and a small column
// buffer serves every block (BLAS does not accept the overlapping rows that would avoid even that copy).
#include "nn/encoder.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <initializer_list>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "model/model.h"
#include "model/quant.h"
#include "nn/ops.h"
#include "nn/transpose_rows.h"
#include "util/aligned_buffer.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace npw {

struct EncoderPacked {
  std::unique_ptr<PackedMatrix> conv1, conv2;  // [n_state][3 * n_in], tap-major columns
  struct Block {
    // q, k and v as one [3 n_state][n_state] matrix when the file stores them alike (it always does
    // in whisper.cpp's files): one product of N = 3 n_state instead of three narrow ones, writing
    // q | k | v side by side exactly where attention reads them. Otherwise qkv is null and the three
    // are packed apart.
    std::unique_ptr<PackedMatrix> qkv;
    std::vector<float> qkv_bias;  // query bias | zeros (the key has none) | value bias
    std::unique_ptr<PackedMatrix> q, k, v, o, mlp0, mlp2;
  };
  std::vector<Block> blocks;
};

namespace {

// Packs a conv weight [n_out][n_in][3] as the matrix [n_out][3][n_in]. Halves (every f16 and
// quantised whisper.cpp file keeps its 3-D conv kernels f16) are reordered as they are: widening
// is exact, so the backend gets the same values at half the bytes (conv2 of base: 1.5 MiB less in a
// CPU backend's f32-or-f16 panels); other types are widened to f32 first.
std::unique_ptr<PackedMatrix> pack_conv(const Backend& backend, const Model& model, const TensorView& t, int n_out,
                                        int n_in, const char* name) {
  const std::size_t n = static_cast<std::size_t>(n_out) * 3 * static_cast<std::size_t>(n_in);
  const auto reorder = [&](const auto* w, auto* out) {
    for (int o = 0; o < n_out; ++o) {
      for (int i = 0; i < n_in; ++i) {
        for (int k = 0; k < 3; ++k) {
          out[(static_cast<std::size_t>(o) * 3 + k) * n_in + i] = w[(static_cast<std::size_t>(o) * n_in + i) * 3 + k];
        }
      }
    }
  };
  TensorView view;
  view.name = name;
  view.n_dims = 2;
  view.ne[0] = 3 * static_cast<int64_t>(n_in);
  view.ne[1] = n_out;
  // The temporaries are AlignedBuffers (mappings of their own from 1 MiB, returned when freed): as
  // vectors they stayed in the malloc heap after packing. The file's pages are released once read,
  // as every repacked weight's are.
  if (t.type == GgmlType::F16) {
    AlignedBuffer<uint16_t> reordered(n);
    reorder(reinterpret_cast<const uint16_t*>(t.data), reordered.data());
    model.release_pages(t);
    view.type = GgmlType::F16;
    view.data = reinterpret_cast<const uint8_t*>(reordered.data());
    view.nbytes = n * sizeof(uint16_t);
    return backend.pack_for_many_rows(view);
  }
  AlignedBuffer<float> w(n);
  dequantize_row(t.type, t.data, w.data(), static_cast<int64_t>(n));
  model.release_pages(t);
  AlignedBuffer<float> reordered(n);
  reorder(w.data(), reordered.data());
  view.type = GgmlType::F32;
  view.data = reinterpret_cast<const uint8_t*>(reordered.data());
  view.nbytes = n * sizeof(float);
  return backend.pack_for_many_rows(view);
}

// The rows of several weights of one type and row length, one after the other, packed as one
// matrix; nullptr when their types or row lengths differ.
std::unique_ptr<PackedMatrix> pack_stacked(const Backend& backend, std::initializer_list<const TensorView*> parts,
                                           const std::string& name) {
  const TensorView& first = **parts.begin();
  std::size_t bytes = 0;
  int64_t rows = 0;
  for (const TensorView* t : parts) {
    if (t->type != first.type || t->ne[0] != first.ne[0] || t->ne[2] != 1 || t->ne[3] != 1 || !t->data) return nullptr;
    bytes += t->nbytes;
    rows += t->ne[1];
  }
  AlignedBuffer<uint8_t> stacked(bytes);  // not a vector: see pack_conv
  std::size_t at = 0;
  for (const TensorView* t : parts) {
    std::memcpy(stacked.data() + at, t->data, t->nbytes);
    at += t->nbytes;
  }
  TensorView view;
  view.name = name;
  view.type = first.type;
  view.n_dims = 2;
  view.ne[0] = first.ne[0];
  view.ne[1] = rows;
  view.data = stacked.data();
  view.nbytes = stacked.size();
  return backend.pack_for_many_rows(view);
}

std::shared_ptr<const EncoderPacked> pack_encoder(const Model& model, const Backend& backend) {
  const EncoderWeights& w = model.encoder();
  const HParams& hp = model.hparams();
  auto p = std::make_shared<EncoderPacked>();
  p->conv1 = pack_conv(backend, model, *w.conv1_w, hp.n_audio_state, hp.n_mels, "encoder.conv1.weight");
  p->conv2 = pack_conv(backend, model, *w.conv2_w, hp.n_audio_state, hp.n_audio_state, "encoder.conv2.weight");
  for (const EncoderBlock& b : w.blocks) {
    EncoderPacked::Block pb;
    pb.qkv = pack_stacked(backend, {b.attn.query.w, b.attn.key.w, b.attn.value.w}, b.attn.query.w->name + "+key+value");
    if (pb.qkv) {
      const std::size_t D = static_cast<std::size_t>(hp.n_audio_state);
      pb.qkv_bias.assign(3 * D, 0.0f);
      if (b.attn.query.b) std::copy(b.attn.query.b, b.attn.query.b + D, pb.qkv_bias.begin());
      if (b.attn.key.b) std::copy(b.attn.key.b, b.attn.key.b + D, pb.qkv_bias.begin() + D);
      if (b.attn.value.b) std::copy(b.attn.value.b, b.attn.value.b + D, pb.qkv_bias.begin() + 2 * D);
    } else {
      pb.q = backend.pack_for_many_rows(*b.attn.query.w);
      pb.k = backend.pack_for_many_rows(*b.attn.key.w);
      pb.v = backend.pack_for_many_rows(*b.attn.value.w);
    }
    for (const TensorView* t : {b.attn.query.w, b.attn.key.w, b.attn.value.w}) model.release_pages(*t);
    pb.o = backend.pack_for_many_rows(*b.attn.out.w);
    pb.mlp0 = backend.pack_for_many_rows(*b.mlp0.w);
    pb.mlp2 = backend.pack_for_many_rows(*b.mlp2.w);
    for (const TensorView* t : {b.attn.out.w, b.mlp0.w, b.mlp2.w}) model.release_pages(*t);
    p->blocks.push_back(std::move(pb));
  }
  return p;
}

// Adds the time since the previous mark to one field of the profile, when there is one.
class StageClock {
 public:
  explicit StageClock(EncoderProfile* p) : p_(p), t_(p ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{}) {}
  void mark(double EncoderProfile::*field) {
    if (!p_) return;
    const auto now = std::chrono::steady_clock::now();
    p_->*field += std::chrono::duration<double, std::milli>(now - t_).count();
    t_ = now;
  }

 private:
  EncoderProfile* p_;
  std::chrono::steady_clock::time_point t_;
};

}  // namespace

Encoder::Encoder(const Model& model, Backend& backend, ThreadPool& pool)
    : model_(model),
      backend_(backend),
      pool_(pool),
      n_mels_(model.hparams().n_mels),
      n_ctx_(model.hparams().n_audio_ctx),
      n_state_(model.hparams().n_audio_state),
      n_head_(model.hparams().n_audio_head),
      n_layer_(model.hparams().n_audio_layer),
      attention_(model.hparams().n_audio_ctx, pool.size(), model.hparams().n_audio_state) {
  if (n_head_ < 1 || n_state_ % n_head_ != 0) {
    throw Error(ErrorKind::Format, "model '" + model.path() + "': n_audio_state " + std::to_string(n_state_) +
                                       " is not a multiple of n_audio_head " + std::to_string(n_head_));
  }
  std::shared_ptr<const void> any = model.packed(backend.kind() + "/encoder", [&]() -> std::shared_ptr<const void> {
    return pack_encoder(model, backend);
  });
  packed_ = std::static_pointer_cast<const EncoderPacked>(any);

  const std::size_t ctx = static_cast<std::size_t>(n_ctx_), d = static_cast<std::size_t>(n_state_);
  mel_t_.resize((static_cast<std::size_t>(n_frames()) + 2) * static_cast<std::size_t>(n_mels_));
  h_.resize(ctx * d);
  ldw_ = wide_stride(n_state_);
  wide_.resize(ctx * static_cast<std::size_t>(ldw_));
  // The im2col rows of the convolutions' blocks, where the backend does not read them in place.
  if (!backend.whole_products()) {
    col_per_thread_ = static_cast<std::size_t>(kConvBlock) * 3 * static_cast<std::size_t>(std::max(n_mels_, n_state_));
    col_.resize(static_cast<std::size_t>(pool.size()) * col_per_thread_);
  }
}

Encoder::~Encoder() = default;

void Encoder::set_output(float* out) {
  x_ = out;
  if (out) own_x_ = AlignedBuffer<float>();  // not needed while someone else's buffer is used
}

void Encoder::convolutions(const float* mel, int64_t mel_ld) {
  const int T = n_frames(), C = n_mels_, D = n_state_;
  const EncoderWeights& w = model_.encoder();

  // Frame t of the window goes to row t + 1; rows 0 and T + 1 stay zero from construction. Frames in
  // blocks of 16 over the pool, transposed in register tiles.
  float* mel_t = mel_t_.data();
  constexpr int64_t kFrames = 16;
  pool_.parallel_for((T + kFrames - 1) / kFrames, [&](int64_t b0, int64_t b1, int) {
    const int64_t t0 = b0 * kFrames, t1 = std::min<int64_t>(T, b1 * kFrames);
    transpose_rows(mel + t0, static_cast<std::size_t>(mel_ld), C, static_cast<int>(t1 - t0), mel_t + (t0 + 1) * C,
                   static_cast<std::size_t>(C));
  });

  // conv1 + GELU into wide_ rows 1..T (time-major); row 0 is the padding frame of conv2.
  float* h1 = wide_.data();
  std::memset(h1, 0, sizeof(float) * D);
  conv(mel_t, C, 1, T, *packed_->conv1, w.conv1_b, nullptr, h1 + D);
  check_cancel(cancel_, "the encoder's second convolution");

  // conv2 (stride 2): output frame t reads input frames 2t - 1, 2t, 2t + 1 = rows 2t .. 2t + 2.
  conv(h1, D, 2, n_ctx_, *packed_->conv2, w.conv2_b, w.pos_emb, x_);
}

void Encoder::conv(const float* in, int channels, int stride, int n_out_frames, const PackedMatrix& w,
                   const float* bias, const float* add, float* out) {
  const std::size_t row = 3 * static_cast<std::size_t>(channels);
  const int D = n_state_;
  if (backend_.whole_products()) {
    // One product over every output frame, straight from the input: im2col row t is the 3 frames
    // starting at frame t * stride, so rows overlap (ldx = stride x channels) and need no copy.
    backend_.linear(in, n_out_frames, stride * channels, w, bias, out, D);
    const std::size_t n = static_cast<std::size_t>(n_out_frames) * D;
    gelu(out, n, &pool_);
    if (add) add_inplace(out, add, n, &pool_);
    return;
  }
  const int n_blocks = (n_out_frames + kConvBlock - 1) / kConvBlock;
  // Whole blocks per thread: the im2col copy, the product (single-threaded inside the loop) and the
  // GELU (and positional add) of a block run on one core while its rows are in that core's cache.
  pool_.parallel_for(n_blocks, [&](int64_t b0, int64_t b1, int thread) {
    float* col = col_.data() + static_cast<std::size_t>(thread) * col_per_thread_;
    for (int64_t b = b0; b < b1; ++b) {
      // A stop leaves the rest undone (the output is then unspecified; the caller checks the flag).
      if (cancel_requested(cancel_)) return;
      const int t0 = static_cast<int>(b) * kConvBlock;
      const int rows = std::min(kConvBlock, n_out_frames - t0);
      for (int r = 0; r < rows; ++r) {
        const float* src = in + static_cast<std::size_t>(t0 + r) * stride * channels;
        std::memcpy(col + r * row, src, row * sizeof(float));
      }
      float* o = out + static_cast<std::size_t>(t0) * D;
      const std::size_t n = static_cast<std::size_t>(rows) * D;
      backend_.linear(col, rows, static_cast<int>(row), w, bias, o, D);
      gelu(o, n);
      if (add) add_inplace(o, add + static_cast<std::size_t>(t0) * D, n);
    }
  });
}

void Encoder::block(int layer) {
  const EncoderBlock& b = model_.encoder().blocks[layer];
  const EncoderPacked::Block& pb = packed_->blocks[layer];
  const int D = n_state_, ldw = ldw_;
  const std::size_t n = static_cast<std::size_t>(n_ctx_) * D;
  float* x = x_;
  float* h = h_.data();
  float* q = wide_.data();
  float* k = q + D;
  float* v = q + 2 * D;
  float* att = q + 3 * D;
  StageClock clock(profile_);

  layer_norm(x, n_ctx_, D, b.attn_ln.w, b.attn_ln.b, kLayerNormEps, h, &pool_);
  clock.mark(&EncoderProfile::norm_ms);
  if (pb.qkv) {
    backend_.linear(h, n_ctx_, D, *pb.qkv, pb.qkv_bias.data(), q, ldw);
  } else {
    const LinearJob qkv[3] = {{pb.q.get(), b.attn.query.b, q, ldw}, {pb.k.get(), b.attn.key.b, k, ldw},
                              {pb.v.get(), b.attn.value.b, v, ldw}};
    backend_.linear_many(h, n_ctx_, D, qkv, 3);
  }
  clock.mark(&EncoderProfile::projection_ms);
  // A large model's layer takes long enough that a stop waits for a part of it, not all of it.
  check_cancel(cancel_, "the encoder's attention");

  AttentionArgs a;
  a.n_head = n_head_;
  a.d_head = D / n_head_;
  a.q = q;
  a.ldq = ldw;
  a.n_q = n_ctx_;
  a.k = k;
  a.ldk = ldw;
  a.v = v;
  a.ldv = ldw;
  a.n_kv = n_ctx_;
  a.out = att;
  a.ldo = ldw;
  a.reduced_precision = backend_.reduced_precision_attention();
  a.cancel = cancel_;
  attention_.run(backend_, &pool_, a);
  clock.mark(&EncoderProfile::attention_ms);
  check_cancel(cancel_, "the encoder's output projection");

  backend_.linear(att, n_ctx_, ldw, *pb.o, b.attn.out.b, h, D);
  clock.mark(&EncoderProfile::projection_ms);
  add_inplace(x, h, n, &pool_);
  layer_norm(x, n_ctx_, D, b.mlp_ln.w, b.mlp_ln.b, kLayerNormEps, h, &pool_);
  clock.mark(&EncoderProfile::norm_ms);
  check_cancel(cancel_, "the encoder's MLP");
  backend_.linear(h, n_ctx_, D, *pb.mlp0, b.mlp0.b, wide_.data(), ldw);
  if (!backend_.linear_of_gelu(wide_.data(), n_ctx_, ldw, *pb.mlp2, b.mlp2.b, h, D)) {
    // The padding columns past W are zero and stay zero (GELU(0) = 0); one pass over all is simplest.
    gelu(wide_.data(), static_cast<std::size_t>(n_ctx_) * ldw, &pool_);
    backend_.linear(wide_.data(), n_ctx_, ldw, *pb.mlp2, b.mlp2.b, h, D);
  }
  clock.mark(&EncoderProfile::mlp_ms);
  add_inplace(x, h, n, &pool_);
  clock.mark(&EncoderProfile::norm_ms);
}

const float* Encoder::encode(const float* mel, int64_t mel_ld) {
  if (!mel || mel_ld < n_frames()) {
    throw Error(ErrorKind::InvalidArgument, "encoder: the mel window needs " + std::to_string(n_frames()) +
                                                " frames per row (row stride " + std::to_string(mel_ld) + ")");
  }
  if (!x_) {
    own_x_.resize(static_cast<std::size_t>(n_ctx_) * static_cast<std::size_t>(n_state_));
    x_ = own_x_.data();
  }
  StageClock clock(profile_);
  check_cancel(cancel_, "the encoder's convolutions");
  convolutions(mel, mel_ld);
  clock.mark(&EncoderProfile::conv_ms);
  for (int l = 0; l < n_layer_; ++l) {
    check_cancel(cancel_, "an encoder layer");
    block(l);
  }
  check_cancel(cancel_, "the encoder's end");
  clock = StageClock(profile_);
  const Norm& ln = model_.encoder().ln_post;
  layer_norm(x_, n_ctx_, n_state_, ln.w, ln.b, kLayerNormEps, x_, &pool_);
  clock.mark(&EncoderProfile::norm_ms);
  if (profile_) ++profile_->windows;
  return x_;
}

}  // namespace npw
