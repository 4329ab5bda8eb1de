// Whisper's text decoder over the backend's packed weights; see decoder.h for the contract.
// Rows from all sequences are processed together in chunks of at most chunk_rows_: every linear layer
// is one product over the chunk, and attention reads each row's own sequence from the KV cache. A
// long prompt runs in several chunks; causality makes that identical to one pass.
#include "nn/decoder.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <type_traits>

#include "backend/backend.h"
#include "model/model.h"
#include "model/quant.h"
#include "nn/attention.h"
#include "nn/transpose_rows.h"
#include "model/half_rows.h"
#include "nn/ops.h"
#include "util/cancel.h"
#include "util/error.h"
#include "util/thread_pool.h"

namespace npw {

struct DecoderPacked {
  struct Block {
    std::unique_ptr<PackedMatrix> q, k, v, o;
    std::unique_ptr<PackedMatrix> cq, ck, cv, co;
    std::unique_ptr<PackedMatrix> mlp0, mlp2;
  };
  std::vector<Block> blocks;
  std::unique_ptr<PackedMatrix> token_emb;  // [n_vocab][n_text_state]: the tied output projection
};

namespace {

std::shared_ptr<const DecoderPacked> pack_decoder(const Model& model, const Backend& backend) {
  auto p = std::make_shared<DecoderPacked>();
  const DecoderWeights& w = model.decoder();
  for (const DecoderBlock& b : w.blocks) {
    DecoderPacked::Block pb;
    pb.q = backend.pack(*b.attn.query.w);
    pb.k = backend.pack(*b.attn.key.w);
    pb.v = backend.pack(*b.attn.value.w);
    pb.o = backend.pack(*b.attn.out.w);
    pb.cq = backend.pack(*b.cross_attn.query.w);
    pb.ck = backend.pack_for_many_rows(*b.cross_attn.key.w);
    pb.cv = backend.pack_for_many_rows(*b.cross_attn.value.w);
    pb.co = backend.pack(*b.cross_attn.out.w);
    pb.mlp0 = backend.pack(*b.mlp0.w);
    pb.mlp2 = backend.pack(*b.mlp2.w);
    for (const TensorView* t : {b.attn.query.w, b.attn.key.w, b.attn.value.w, b.attn.out.w, b.cross_attn.query.w,
                                b.cross_attn.key.w, b.cross_attn.value.w, b.cross_attn.out.w, b.mlp0.w, b.mlp2.w}) {
      model.release_pages(*t);
    }
    p->blocks.push_back(std::move(pb));
  }
  p->token_emb = backend.pack(*w.token_emb);
  // Decoder::embed reads the rows of the tokens decoded from the packed copy where it can give them
  // exactly; where it cannot (int8 from another type), with pread from the file, so that the
  // embedding's pages stay out of the process either way.
  model.release_pages(*w.token_emb);
  return p;
}

}  // namespace

Decoder::Decoder(const Model& model, Backend& backend, ThreadPool& pool, int max_batch, int chunk_rows)
    : model_(model),
      backend_(backend),
      pool_(pool),
      n_state_(model.hparams().n_text_state),
      n_head_(model.hparams().n_text_head),
      d_head_(n_state_ / std::max(1, n_head_)),
      n_layer_(model.hparams().n_text_layer),
      n_ctx_(model.hparams().n_text_ctx),
      n_audio_ctx_(model.hparams().n_audio_ctx),
      n_vocab_(model.hparams().n_vocab),
      chunk_rows_(std::max({1, chunk_rows, max_batch})),
      kv_(n_layer_, max_batch, n_ctx_, n_state_, backend.reduced_precision_attention(),
          n_head_ > 0 && n_state_ % n_head_ == 0 ? n_head_ : 1) {
  if (n_head_ <= 0 || n_state_ % n_head_ != 0)
    throw Error(ErrorKind::InvalidArgument, "decoder: n_text_state " + std::to_string(n_state_) +
                                                " is not a multiple of n_text_head " + std::to_string(n_head_));
  if (model.hparams().n_audio_state != n_state_)
    throw Error(ErrorKind::Unsupported, "decoder: n_audio_state differs from n_text_state");
  // The kind names the backend's layout; the suffix keeps the decoder's entry apart from the encoder's.
  auto shared = model.packed(backend.kind() + "/decoder",
                             [&] { return std::static_pointer_cast<const void>(pack_decoder(model, backend)); });
  packed_ = std::static_pointer_cast<const DecoderPacked>(shared);

  const std::size_t R = chunk_rows_, D = n_state_;
  ldck_ = (n_audio_ctx_ + 15) / 16 * 16;
  cross_k_.resize(static_cast<std::size_t>(n_layer_) * D * static_cast<std::size_t>(ldck_));
  half_cross_ = backend.reduced_precision_attention();
  // Scratch to widen halves only where there may be halves.
  attention_ = std::make_unique<MultiHeadAttention>(std::max(n_ctx_, n_audio_ctx_), pool.size(), n_state_,
                                                    half_cross_ ? d_head_ : 0);
  if (half_cross_ && int8_key_values_wanted(d_head_)) {
    int8_cross_ = std::make_unique<Int8KeyValueStore>(n_layer_, n_audio_ctx_, n_state_, d_head_,
                                                      "decoder: int8 cross-attention keys and values");
    // Only the int8 task reads the set alone: every call must take it, whatever its row count.
    AttentionArgs probe = attend_args(nullptr, nullptr, nullptr, 1, n_audio_ctx_, nullptr, nullptr);
    probe.reduced_precision = true;
    probe.int8 = &int8_cross_->set(0);
    if (!attention_->uses_int8(probe)) int8_cross_.reset();
  }
  if (half_cross_ && !int8_cross_) {
    cross_kh_.resize(static_cast<std::size_t>(n_layer_) * D * static_cast<std::size_t>(ldck_));
    cross_vh_.resize(static_cast<std::size_t>(n_layer_) * n_audio_ctx_ * D);
  } else if (!half_cross_) {
    cross_v_.resize(static_cast<std::size_t>(n_layer_) * n_audio_ctx_ * D);
  }
  f32_keys_.assign(static_cast<std::size_t>(n_layer_), 0);
  keep_f32_keys_.assign(static_cast<std::size_t>(n_layer_), 0);
  for (AlignedBuffer<float>* b : {&x_, &h_, &q_, &k_, &v_, &att_, &tmp_}) b->resize(R * D);
  mlp_.resize(R * 4 * D);
  step_attention_ = std::make_unique<StepAttention>(n_ctx_, pool.size());
  step_rows_.resize(R);
  // The tiled attention of a prompt reads row-major floats: the head-major cache's rows are gathered
  // (and widened) into this, keys then values. One buffer, so that it is a mapping (AlignedBuffer maps
  // from 1 MiB on) whose pages become resident only as far as prompts reach.
  wide_kv_.resize(2 * static_cast<std::size_t>(n_ctx_) * D);
  emb_row_.resize(ggml_row_bytes(model.decoder().token_emb->type, n_state_));
  row_seq_.resize(R);
  row_pos_.resize(R);
  row_tok_.resize(R);
  row_limit_.resize(R);
  next_spans_.resize(max_batch);
  align_slot_.assign(static_cast<std::size_t>(n_layer_), -1);
  last_x_.resize(static_cast<std::size_t>(max_batch) * D);
  logits_.resize(static_cast<std::size_t>(max_batch) * n_vocab_);
}

Decoder::~Decoder() = default;

void Decoder::keep_f32_cross_keys(const std::vector<bool>& layers) {
  for (int l = 0; l < n_layer_; ++l) keep_f32_keys_[l] = static_cast<std::size_t>(l) < layers.size() && layers[l];
}

void Decoder::set_audio(const float* enc, float* staging, std::size_t staging_floats) {
  const DecoderWeights& w = model_.decoder();
  const std::size_t per_layer = static_cast<std::size_t>(n_audio_ctx_) * n_state_;
  if (!staging || staging_floats < 2 * per_layer) {
    cross_tmp_.reserve_at_least(2 * per_layer);
    staging = cross_tmp_.data();
  }
  have_audio_ = false;
  std::copy(keep_f32_keys_.begin(), keep_f32_keys_.end(), f32_keys_.begin());
  if (!half_cross_) std::fill(f32_keys_.begin(), f32_keys_.end(), 1);
  for (int l = 0; l < n_layer_; ++l) {
    check_cancel(cancel_, "the cross-attention keys and values");
    const AttentionWeights& a = w.blocks[l].cross_attn;
    // Keys and values of a layer as one batch: a device backend prepares `enc` once for both.
    float* k = staging;
    // Values are staged too: as floats they go head after head, as halves or int8 quads their own layouts.
    float* v = staging + per_layer;
    const LinearJob kv[2] = {{packed_->blocks[l].ck.get(), a.key.b, k, n_state_},
                             {packed_->blocks[l].cv.get(), a.value.b, v, n_state_}};
    backend_.linear_many(enc, n_audio_ctx_, n_state_, kv, 2);
    const std::size_t kt_off = static_cast<std::size_t>(l) * n_state_ * ldck_;
    float* kt = cross_k_.data() + kt_off;
    // (The half buffers exist only on a reduced-precision backend without the int8 set.)
    const bool halves = cross_kh_.size() > 0;
    uint16_t* kth = halves ? cross_kh_.data() + kt_off : nullptr;
    uint16_t* vh = halves ? cross_vh_.data() + l * per_layer : nullptr;
    const bool f32 = f32_keys_[l] != 0;
    if (!half_cross_) {
      // Head after head (AttentionArgs::v_head_stride; halves too, below): a step reads a head's
      // values as one run, not 256 B in every 2 KiB row (base). `cpu`, base f16, alternated in one
      // process (Xeon, 2 threads, contexts 0-63): one-token step 3.20-3.29 -> 2.98-3.14 ms, 5-beam
      // 3.86-4.01 -> 3.69-3.82.
      values_by_head(v, cross_v_.data() + l * per_layer);
    }
    if (int8_cross_) {
      // Keys and values as the rows the products gave, rounded into the int8 task's layouts.
      AttentionArgs rows = attend_args(nullptr, k, v, 0, n_audio_ctx_, nullptr, nullptr);
      prepare_int8_keys_values(&pool_, rows, int8_cross_->set(l));
      if (!f32) continue;  // no float keys wanted for this layer
    }
    // Columns in blocks of 16 (a cache line of each key) over the pool, each block transposed in
    // register tiles (transpose_rows.h) into its rows of kt, as floats or rounded to halves.
    constexpr int kCols = 16;
    pool_.parallel_for((n_state_ + kCols - 1) / kCols, [&](int64_t b0, int64_t b1, int) {
      const int c0 = static_cast<int>(b0) * kCols, c1 = std::min(n_state_, static_cast<int>(b1) * kCols);
      const std::size_t off = static_cast<std::size_t>(c0) * ldck_;
      if (f32) {
        transpose_rows(k + c0, static_cast<std::size_t>(n_state_), n_audio_ctx_, c1 - c0, kt + off, ldck_);
      } else {
        transpose_rows_to_halves(k + c0, static_cast<std::size_t>(n_state_), n_audio_ctx_, c1 - c0, kth + off, ldck_);
      }
    });
    if (halves) {
      values_by_head(v, vh);  // head after head, as the float values (above)
    }
  }
  have_audio_ = true;
}

template <typename T>
void Decoder::values_by_head(const float* v, T* out) {
  const std::size_t dh = static_cast<std::size_t>(d_head_), head = static_cast<std::size_t>(n_audio_ctx_) * dh;
  pool_.parallel_for(n_audio_ctx_, [&](int64_t j0, int64_t j1, int) {
    for (int h = 0; h < n_head_; ++h) {
      for (int64_t j = j0; j < j1; ++j) {
        const float* src = v + static_cast<std::size_t>(j) * n_state_ + h * dh;
        T* dst = out + h * head + static_cast<std::size_t>(j) * dh;
        if constexpr (std::is_same_v<T, float>) {
          std::memcpy(dst, src, dh * sizeof(float));
        } else {
          floats_to_halves(src, dst, dh);
        }
      }
    }
  });
}

void Decoder::reset(int n_seqs) { kv_.reset(n_seqs); }

void Decoder::check_input(const TokenSpan* seqs, int n_seqs) const {
  if (!have_audio_) throw Error(ErrorKind::InvalidArgument, "decoder: decode before set_audio");
  if (n_seqs != kv_.n_seqs())
    throw Error(ErrorKind::InvalidArgument, "decoder: " + std::to_string(n_seqs) + " inputs for " +
                                                std::to_string(kv_.n_seqs()) + " active sequences");
  for (int s = 0; s < n_seqs; ++s) {
    const TokenSpan& t = seqs[s];
    if (t.n < 1 || !t.tokens)
      throw Error(ErrorKind::InvalidArgument, "decoder: sequence " + std::to_string(s) + " has no new token");
    if (kv_.length(s) + t.n > n_ctx_)
      throw Error(ErrorKind::InvalidArgument, "decoder: sequence " + std::to_string(s) + " would exceed " +
                                                  std::to_string(n_ctx_) + " tokens");
    for (int i = 0; i < t.n; ++i)
      if (t.tokens[i] < 0 || t.tokens[i] >= n_vocab_)
        throw Error(ErrorKind::InvalidArgument, "decoder: token " + std::to_string(t.tokens[i]) + " is not in 0.." +
                                                    std::to_string(n_vocab_ - 1));
  }
}

template <typename OnChunk>
void Decoder::run(const TokenSpan* seqs, int n_seqs, OnChunk on_chunk) {
  check_input(seqs, n_seqs);
  // Many rows of one sequence go to the tiled attention, which reads the sequence's rows from one
  // place: a sequence reading a shared prefix gets its own copy first.
  for (int s = 0; s < n_seqs; ++s)
    if (seqs[s].n >= MultiHeadAttention::kSimdMinRows) kv_.unshare(s);
  int staged = 0, done = 0;
  for (int s = 0; s < n_seqs; ++s) {
    for (int i = 0; i < seqs[s].n; ++i) {
      row_seq_[staged] = s;
      row_pos_[staged] = kv_.length(s) + i;
      row_tok_[staged] = seqs[s].tokens[i];
      if (++staged == chunk_rows_) {
        run_chunk(staged);
        on_chunk(done, staged);
        done += staged;
        staged = 0;
      }
    }
  }
  if (staged > 0) {
    run_chunk(staged);
    on_chunk(done, staged);
  }
  for (int s = 0; s < n_seqs; ++s) kv_.extend(s, seqs[s].n);
}

const float* Decoder::decode(const TokenSpan* seqs, int n_seqs) {
  const std::size_t D = n_state_;
  run(seqs, n_seqs, [&](int, int n_rows) {
    // Only each sequence's last new position is projected to logits (the cache length is updated
    // after all chunks, so it still marks where this call's tokens began).
    for (int r = 0; r < n_rows; ++r) {
      const int s = row_seq_[r];
      if (row_pos_[r] == kv_.length(s) + seqs[s].n - 1)
        std::memcpy(last_x_.data() + s * D, h_.data() + r * D, D * sizeof(float));
    }
  });
  backend_.linear(last_x_.data(), n_seqs, n_state_, *packed_->token_emb, nullptr, logits_.data(), n_vocab_);
  return logits_.data();
}

const float* Decoder::decode_next(const int* tokens) {
  const int n = kv_.n_seqs();
  for (int s = 0; s < n; ++s) next_spans_[s] = TokenSpan{tokens + s, 1};
  return decode(next_spans_.data(), n);
}

void Decoder::decode_all(const TokenSpan* seqs, int n_seqs, float* logits) {
  run(seqs, n_seqs, [&](int first, int n_rows) {
    backend_.linear(h_.data(), n_rows, n_state_, *packed_->token_emb, nullptr,
                    logits + static_cast<std::size_t>(first) * n_vocab_, n_vocab_);
  });
}

void Decoder::alignment_pass(const int* tokens, int n, const bool* keep_layer) {
  const std::size_t D = n_state_, C = n_ctx_;
  int kept = 0;
  for (int l = 0; l < n_layer_; ++l) align_slot_[l] = keep_layer[l] ? kept++ : -1;
  align_q_.reserve_at_least(static_cast<std::size_t>(std::max(kept, 1)) * C * D);
  align_h_.reserve_at_least(C * D);
  align_logits_.reserve_at_least(static_cast<std::size_t>(kAlignLogitRows) * n_vocab_);
  kv_.reset(1);
  align_n_ = 0;
  const TokenSpan span{tokens, n};
  capture_layers_ = keep_layer;
  try {
    run(&span, 1, [&](int first, int n_rows) {
      std::memcpy(align_h_.data() + static_cast<std::size_t>(first) * D, h_.data(), n_rows * D * sizeof(float));
    });
  } catch (...) {
    capture_layers_ = nullptr;
    throw;
  }
  capture_layers_ = nullptr;
  align_n_ = n;
}

void Decoder::alignment_scores(int layer, int head, int n_frames, float* out, int ld) const {
  const int slot = align_slot_[layer];
  if (slot < 0 || head < 0 || head >= n_head_ || n_frames > n_audio_ctx_)
    throw Error(ErrorKind::InvalidArgument, "decoder: alignment head " + std::to_string(layer) + ":" +
                                                std::to_string(head) + " was not kept by the alignment pass");
  if (!f32_keys_[layer])
    throw Error(ErrorKind::InvalidArgument, "decoder: alignment head " + std::to_string(layer) + ":" +
                                                std::to_string(head) +
                                                " needs its layer's cross-attention keys as floats, but they are "
                                                "stored as halves (keep_f32_cross_keys before set_audio)");
  const std::size_t D = n_state_;
  const float* q0 = align_q_.data() + static_cast<std::size_t>(slot) * n_ctx_ * D + static_cast<std::size_t>(head) * d_head_;
  const float* kt0 = cross_k_.data() + static_cast<std::size_t>(layer) * D * ldck_ +
                     static_cast<std::size_t>(head) * d_head_ * ldck_;
  // One product per head: q [n][d_head] (rows n_state apart) times the transposed keys
  // [d_head][n_frames] (rows ldck_ apart), scaled by d_head^-0.5.
  const float alpha = 1.0f / std::sqrt(static_cast<float>(d_head_));
  backend_.matmul(false, false, align_n_, n_frames, d_head_, alpha, q0, n_state_, kt0, ldck_, 0.0f, out, ld);
}

void Decoder::alignment_token_probs(int first, const int* targets, int n, int n_ids, float* probs) {
  if (first < 0 || n < 0 || first + n > align_n_ || n_ids < 1 || n_ids > n_vocab_)
    throw Error(ErrorKind::InvalidArgument, "decoder: alignment rows " + std::to_string(first) + "+" +
                                                std::to_string(n) + " outside the last alignment pass");
  if (n == 0) return;
  const float* h = align_h_.data() + static_cast<std::size_t>(first) * n_state_;
  const int n_blocks = (n_ids + kAlignVocabBlock - 1) / kAlignVocabBlock;
  const std::size_t block_floats = static_cast<std::size_t>(n) * kAlignVocabBlock;
  align_logits_.reserve_at_least(static_cast<std::size_t>(pool_.size()) * block_floats);
  align_sums_.assign(static_cast<std::size_t>(n_blocks) * n, ExpSum{});
  align_target_.assign(static_cast<std::size_t>(n), 0.0f);
  std::atomic<bool> no_ranges{false};
  // Blocks of ids over the threads; each block's logits reduced to a softmax denominator per row
  // while in cache. The per-block denominators are merged in block order below, so the result does
  // not depend on the number of threads.
  pool_.parallel_for(n_blocks, [&](int64_t b0, int64_t b1, int thread) {
    float* logits = align_logits_.data() + static_cast<std::size_t>(thread) * block_floats;
    for (int64_t b = b0; b < b1; ++b) {
      if (no_ranges.load(std::memory_order_relaxed) || cancel_requested(cancel_)) return;
      const int o0 = static_cast<int>(b) * kAlignVocabBlock, o1 = std::min(n_ids, o0 + kAlignVocabBlock);
      if (!backend_.linear_range(h, n, n_state_, *packed_->token_emb, o0, o1, logits, kAlignVocabBlock)) {
        no_ranges.store(true, std::memory_order_relaxed);
        return;
      }
      for (int r = 0; r < n; ++r) {
        const float* row = logits + static_cast<std::size_t>(r) * kAlignVocabBlock;
        exp_sum_add(align_sums_[static_cast<std::size_t>(b) * n + r], row, o1 - o0);
        const int t = targets[r];
        if (t >= o0 && t < o1) align_target_[r] = row[t - o0];
      }
    }
  });
  check_cancel(cancel_, "the word-timing probabilities");
  if (no_ranges.load()) {
    alignment_token_probs_by_rows(h, targets, n, n_ids, probs);
    return;
  }
  for (int r = 0; r < n; ++r) {
    ExpSum total;
    for (int b = 0; b < n_blocks; ++b) exp_sum_merge(total, align_sums_[static_cast<std::size_t>(b) * n + r]);
    const int t = targets[r];
    probs[r] = t < 0 || t >= n_ids ? 0.0f : exp_sum_probability(total, align_target_[r]);
  }
}

void Decoder::alignment_token_probs_by_rows(const float* h, const int* targets, int n, int n_ids, float* probs) {
  align_logits_.reserve_at_least(static_cast<std::size_t>(kAlignLogitRows) * n_vocab_);
  for (int r0 = 0; r0 < n; r0 += kAlignLogitRows) {
    check_cancel(cancel_, "the word-timing probabilities");
    const int rows = std::min(kAlignLogitRows, n - r0);
    backend_.linear(h + static_cast<std::size_t>(r0) * n_state_, rows, n_state_, *packed_->token_emb, nullptr,
                    align_logits_.data(), n_vocab_);
    for (int i = 0; i < rows; ++i) {
      const float* row = align_logits_.data() + static_cast<std::size_t>(i) * n_vocab_;
      ExpSum total;
      exp_sum_add(total, row, n_ids);
      const int t = targets[r0 + i];
      probs[r0 + i] = t < 0 || t >= n_ids ? 0.0f : exp_sum_probability(total, row[t]);
    }
  }
}

void Decoder::embed(int n_rows) {
  const TensorView& te = *model_.decoder().token_emb;
  const std::size_t row_bytes = ggml_row_bytes(te.type, n_state_);
  const float* pos_emb = model_.decoder().pos_emb;
  const PackedMatrix& packed = *packed_->token_emb;
  for (int r = 0; r < n_rows; ++r) {
    float* x = x_.data() + static_cast<std::size_t>(r) * n_state_;
    if (!packed.copy_row(row_tok_[r], x)) {
      // Read through the mapping, each row faulted in the kernel's fault-around (64 KiB) and over a
      // stream the file's embedding came back beside the packed one (cpu-int8, tiny f16: 19 of 38 MiB
      // after jfk.wav).
      const uint8_t* src = te.data + static_cast<std::size_t>(row_tok_[r]) * row_bytes;
      if (model_.read_bytes(src, row_bytes, emb_row_.data())) src = emb_row_.data();
      dequantize_row(te.type, src, x, n_state_);
    }
    add_inplace(x, pos_emb + static_cast<std::size_t>(row_pos_[r]) * n_state_, n_state_);
  }
}

// The element-wise passes take the pool too: a step's few rows stay below its threshold and run
// inline, a prompt's hundreds are split (run serially, a 256-row prompt's GELU alone let the other
// core's worker fall asleep, to be woken by a futex call for the next product).
void Decoder::run_chunk(int n_rows) {
  const DecoderWeights& w = model_.decoder();
  const std::size_t D = n_state_, n = static_cast<std::size_t>(n_rows) * D;
  embed(n_rows);
  for (int l = 0; l < n_layer_; ++l) {
    check_cancel(cancel_, "a decoder layer");
    const DecoderBlock& b = w.blocks[l];
    const DecoderPacked::Block& pb = packed_->blocks[l];

    layer_norm(x_.data(), n_rows, n_state_, b.attn_ln.w, b.attn_ln.b, kLayerNormEps, h_.data(), &pool_);
    self_attention(l, n_rows);
    backend_.linear(att_.data(), n_rows, n_state_, *pb.o, b.attn.out.b, tmp_.data(), n_state_);
    add_inplace(x_.data(), tmp_.data(), n, &pool_);

    layer_norm(x_.data(), n_rows, n_state_, b.cross_attn_ln.w, b.cross_attn_ln.b, kLayerNormEps, h_.data(), &pool_);
    cross_attention(l, n_rows);
    backend_.linear(att_.data(), n_rows, n_state_, *pb.co, b.cross_attn.out.b, tmp_.data(), n_state_);
    add_inplace(x_.data(), tmp_.data(), n, &pool_);

    layer_norm(x_.data(), n_rows, n_state_, b.mlp_ln.w, b.mlp_ln.b, kLayerNormEps, h_.data(), &pool_);
    backend_.linear(h_.data(), n_rows, n_state_, *pb.mlp0, b.mlp0.b, mlp_.data(), 4 * n_state_);
    if (!backend_.linear_of_gelu(mlp_.data(), n_rows, 4 * n_state_, *pb.mlp2, b.mlp2.b, tmp_.data(), n_state_)) {
      gelu(mlp_.data(), static_cast<std::size_t>(n_rows) * 4 * D, &pool_);
      backend_.linear(mlp_.data(), n_rows, 4 * n_state_, *pb.mlp2, b.mlp2.b, tmp_.data(), n_state_);
    }
    add_inplace(x_.data(), tmp_.data(), n, &pool_);
  }
  layer_norm(x_.data(), n_rows, n_state_, w.ln.w, w.ln.b, kLayerNormEps, h_.data(), &pool_);
}

void Decoder::self_attention(int layer, int n_rows) {
  const AttentionWeights& a = model_.decoder().blocks[layer].attn;
  const DecoderPacked::Block& pb = packed_->blocks[layer];
  const std::size_t D = n_state_;
  const LinearJob qkv[3] = {{pb.q.get(), a.query.b, q_.data(), n_state_},
                            {pb.k.get(), nullptr, k_.data(), n_state_},
                            {pb.v.get(), a.value.b, v_.data(), n_state_}};
  backend_.linear_many(h_.data(), n_rows, n_state_, qkv, 3);
  for (int r = 0; r < n_rows; ++r) kv_.store(layer, row_seq_[r], row_pos_[r], k_.data() + r * D, v_.data() + r * D);
  // Rows of one sequence are consecutive in the chunk: each run attends to that sequence's cache,
  // row r seeing positions 0..row_pos_[r] (causal). Runs of many rows (a prompt) go to the tiled
  // attention one sequence at a time; the rows of short runs (a step of every beam) are gathered and
  // run together by the step attention, one pass over the pool for all sequences and heads.
  int n_step = 0;
  for (int r0 = 0; r0 < n_rows;) {
    int r1 = r0 + 1;
    while (r1 < n_rows && row_seq_[r1] == row_seq_[r0]) ++r1;
    const int s = row_seq_[r0];
    if (r1 - r0 < MultiHeadAttention::kSimdMinRows) {
      // Positions below the shared prefix's length come from the prefix (KvCache), the rest from
      // the sequence's own rows.
      const int n_shared = kv_.shared_length(s);
      for (int r = r0; r < r1; ++r) {
        StepRow& row = step_rows_[n_step++];
        row = StepRow{q_.data() + r * D,     kv_.key(layer, s, n_shared),      kv_.value(layer, s, n_shared),
                      row_pos_[r] + 1,       att_.data() + r * D,              kv_.key_half(layer, s, n_shared),
                      kv_.value_half(layer, s, n_shared)};
        if (n_shared > 0) {
          row.n_shared = n_shared;
          row.ks = kv_.key(layer, s, 0);
          row.vs = kv_.value(layer, s, 0);
          row.ksh = kv_.key_half(layer, s, 0);
          row.vsh = kv_.value_half(layer, s, 0);
        }
      }
    } else {
      // The tiled attention reads row-major floats: the sequence's rows so far are gathered (a half
      // cache's widened) once per layer (a prompt's cost is its products, not this). A many-row
      // decode has its rows in its own slot (Decoder::run unshares it).
      const int n_kv = row_pos_[r1 - 1] + 1;
      float* wide_k = wide_kv_.data();
      float* wide_v = wide_k + static_cast<std::size_t>(n_ctx_) * D;
      kv_.gather(layer, s, n_kv, wide_k, wide_v);
      for (int r = r0; r < r1; ++r) row_limit_[r] = row_pos_[r] + 1;
      attend(q_.data() + r0 * D, wide_k, wide_v, r1 - r0, n_kv, row_limit_.data() + r0, att_.data() + r0 * D);
    }
    r0 = r1;
  }
  if (n_step > 0) {
    step_attention_->run(&pool_, step_rows_.data(), n_step, n_head_, d_head_, d_head_, d_head_, kv_.head_stride());
  }
}

void Decoder::cross_attention(int layer, int n_rows) {
  const AttentionWeights& a = model_.decoder().blocks[layer].cross_attn;
  const std::size_t per_layer = static_cast<std::size_t>(n_audio_ctx_) * n_state_;
  backend_.linear(h_.data(), n_rows, n_state_, *packed_->blocks[layer].cq, a.query.b, q_.data(), n_state_);
  if (capture_layers_ && capture_layers_[layer]) {
    // The alignment pass: one sequence, so a row's position is its index in the pass.
    const std::size_t D = n_state_;
    float* dst = align_q_.data() + static_cast<std::size_t>(align_slot_[layer]) * n_ctx_ * D;
    for (int r = 0; r < n_rows; ++r)
      std::memcpy(dst + static_cast<std::size_t>(row_pos_[r]) * D, q_.data() + r * D, D * sizeof(float));
  }
  const std::size_t kt_off = static_cast<std::size_t>(layer) * n_state_ * ldck_;
  const bool f32 = f32_keys_[layer] != 0;
  AttentionArgs args =
      attend_args(q_.data(), f32 ? cross_k_.data() + kt_off : nullptr, nullptr, n_rows, n_audio_ctx_, nullptr, att_.data());
  args.k_transposed = true;
  args.ldk = ldck_;
  // A backend that trades accuracy for speed: every call reads the window's int8 set where the CPU
  // takes the int8 task, else halves (which, head after head, stay off the bf16 path: that pairing
  // arises only where NPW_ATTENTION_VALUES=float keeps the int8 task from a bf16 CPU).
  args.reduced_precision = half_cross_;
  if (int8_cross_) {
    args.int8 = &int8_cross_->set(layer);
  } else {
    if (half_cross_) {
      if (!f32) args.k_half = cross_kh_.data() + kt_off;
      args.v_half = cross_vh_.data() + layer * per_layer;
    } else {
      args.v = cross_v_.data() + layer * per_layer;
    }
    args.ldv = d_head_;
    args.v_head_stride = static_cast<std::size_t>(n_audio_ctx_) * d_head_;
  }
  attention_->run(backend_, &pool_, args);
}

void Decoder::attend(const float* q, const float* k, const float* v, int n_q, int n_kv, const int* limit,
                     float* out) {
  attention_->run(backend_, &pool_, attend_args(q, k, v, n_q, n_kv, limit, out));
}

AttentionArgs Decoder::attend_args(const float* q, const float* k, const float* v, int n_q, int n_kv, const int* limit,
                                   float* out) const {
  AttentionArgs a;
  a.n_head = n_head_;
  a.d_head = d_head_;
  a.q = q;
  a.ldq = n_state_;
  a.n_q = n_q;
  a.k = k;
  a.ldk = n_state_;
  a.v = v;
  a.ldv = n_state_;
  a.n_kv = n_kv;
  a.out = out;
  a.ldo = n_state_;
  a.kv_limit = limit;
  return a;
}

}  // namespace npw
