// Whisper's text decoder (OpenAI's TextDecoder) for one stream, over a batch of hypotheses.
// Token + positional embedding, n_text_layer blocks of causal self-attention (KV cache), cross-attention
// over the window's encoder output (its keys and values computed once per window by set_audio) and
// a GELU MLP, a final LayerNorm, and logits through the token embedding (tied projection).
// Every buffer is allocated at construction: decoding a token allocates nothing. Packed weights come
// from the Model (made once per model and backend kind) and are shared between streams.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "nn/attention.h"
#include "nn/int8_key_values.h"
#include "nn/kv_cache.h"
#include "nn/ops.h"
#include "nn/step_attention.h"
#include "util/aligned_buffer.h"

namespace npw {

class Backend;
class Model;
class ThreadPool;
struct DecoderPacked;
class MultiHeadAttention;

// The tokens appended to one sequence by a decode call.
struct TokenSpan {
  const int* tokens = nullptr;
  int n = 0;
};

class Decoder {
 public:
  // Rows of a prompt (or of the word-alignment pass) run through the network together, by default:
  // a 224-token prompt, OpenAI's largest, is one chunk, so its products are many-row GEMMs on the
  // backend's fast path and its cross-attention reads each head's keys once. In chunks of 64 (the
  // earlier size) the products went through the few-row kernels in groups of 8 and a 256-token
  // prompt cost 1.5x the CPU time (tiny f16, AVX-512). The activations this holds (11 x chunk rows x
  // n_text_state floats: 4.3 MiB for tiny, 5.8 for base) are resident only as far as rows are used.
  static constexpr int kDefaultChunkRows = 256;

  // Up to max_batch hypotheses decoded together, in chunks of at most max(chunk_rows, max_batch)
  // rows (tests use small chunks to cross chunk boundaries). The model, backend and pool must
  // outlive the decoder.
  Decoder(const Model& model, Backend& backend, ThreadPool& pool, int max_batch, int chunk_rows = kDefaultChunkRows);
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // Computes the cross-attention keys and values of every layer from the encoder output
  // enc [n_audio_ctx][n_audio_state]; they serve every sequence until the next set_audio. `staging`
  // (staging_floats floats, not overlapping enc; may be null) is memory idle during the call, such
  // as the encoder's activations after encode() (Encoder::idle_scratch), to stage each layer's keys
  // and values in; when it is null or short of 2 n_audio_ctx n_audio_state floats the decoder uses
  // a buffer of its own, made on first need.
  void set_audio(const float* enc, float* staging = nullptr, std::size_t staging_floats = 0);

  // Cross-attention keys and values are floats on the f32 reference backends. On backends that
  // already trade precision for speed (Backend::reduced_precision_attention: cpu-int8, the NPU's
  // int8 products) they are IEEE halves - half the memory - or, where the CPU takes the int8
  // attention task, int8 in that task's layouts (int8_cross_attention()), except the keys of the layers named
  // here (layers[l], n_layer entries; missing ones count as false) from the next set_audio on: the
  // layers of the word-alignment heads while word timing is wanted, since alignment_scores() reads
  // those keys and the DTW matrix needs them exact. (On the golden windows halves moved the logits
  // by ~2e-5 relative L2, inside the f32 bound, and the DTW matrix by 4.4e-5 with the alignment
  // layers' keys kept; the f32 path keeps its 5e-7 margin for models with more layers, where those
  // errors add up.) Allocates nothing.
  void keep_f32_cross_keys(const std::vector<bool>& layers);
  // Whether the current window's keys of `layer` are floats.
  bool cross_keys_f32(int layer) const { return f32_keys_[static_cast<std::size_t>(layer)] != 0; }
  // Whether the cross-attention reads the window's keys and values rounded to int8 (a reduced-precision
  // backend on a CPU that takes the int8 attention task: AVX512_VNNI, or AVX-VNNI at the AVX2 level)
  // rather than halves.
  bool int8_cross_attention() const { return int8_cross_ != nullptr; }

  // A stop flag polled between layers (nullptr: none); when set, set_audio() and the decode calls
  // throw npw::Error(Cancelled) and the sequences must be started again (reset()).
  void set_cancel(const std::atomic<bool>* flag) { cancel_ = flag; }

  // Starts n_seqs empty sequences (1..max_batch).
  void reset(int n_seqs);

  // Appends seqs[s] (n >= 1 tokens; the whole prompt at once, or one token) to each active sequence
  // s < n_seqs() (n_seqs must equal n_seqs()). Returns the logits of each sequence's last new position,
  // [n_seqs][n_vocab], valid until the next call. Throws npw::Error(InvalidArgument) on a bad token,
  // count, or a sequence that would exceed n_text_ctx; nothing is changed then.
  const float* decode(const TokenSpan* seqs, int n_seqs);
  // One token per active sequence: tokens[s] for s < n_seqs().
  const float* decode_next(const int* tokens);
  // As decode(), but writes the logits of every fed position to `logits`, [sum of n][n_vocab], in
  // sequence order then position order (for logit dumps and golden tests).
  void decode_all(const TokenSpan* seqs, int n_seqs, float* logits);

  // Beam reordering (OpenAI's rearrange_kv_cache): sequence d becomes former sequence src_of_dst[d];
  // n_seqs() becomes src_of_dst.size(). See KvCache::reorder.
  void reorder(const std::vector<int>& src_of_dst) { kv_.reorder(src_of_dst); }
  // Forgets all but the first n_tokens positions of `seq`.
  void truncate(int seq, int n_tokens) { kv_.truncate(seq, n_tokens); }

  // The word-alignment pass (OpenAI's find_alignment forward): runs `tokens` as one fresh sequence
  // (the decoding state is lost) and keeps, for the layers flagged in keep_layer[n_layer], the
  // cross-attention queries of every position, and every position's final hidden state. Nothing
  // else changes in the forward pass (the fast attention kernels run as usual). Its buffers are
  // sized on first use for the most positions and kept layers seen so far: a later pass of the same
  // shape or smaller allocates nothing. Throws as decode() does.
  void alignment_pass(const int* tokens, int n, const bool* keep_layer);
  // The raw cross-attention scores (q.k / sqrt(d_head), OpenAI's qk before any softmax) of head
  // `head` of layer `layer` (kept by the last alignment pass) for its n positions over the first
  // n_frames audio positions, into out[n][ld]. The layer's keys must be floats (keep_f32_cross_keys
  // before the window's set_audio): throws npw::Error(InvalidArgument) otherwise.
  void alignment_scores(int layer, int head, int n_frames, float* out, int ld) const;
  // For positions first .. first + n - 1 of the last alignment pass: the softmax over ids
  // [0, n_ids) of the position's logits, taken at targets[i] (OpenAI's text_token_probs).
  void alignment_token_probs(int first, const int* targets, int n, int n_ids, float* probs);
  int alignment_length() const { return align_n_; }

  int n_seqs() const { return kv_.n_seqs(); }
  int n_layer() const { return n_layer_; }
  int n_head() const { return n_head_; }
  int length(int seq) const { return kv_.length(seq); }
  int max_batch() const { return kv_.max_seqs(); }
  int n_vocab() const { return n_vocab_; }
  int n_ctx() const { return n_ctx_; }
  // The buffer decode() returns; stable for the decoder's lifetime.
  const float* logits() const { return logits_.data(); }

 private:
  // Runs the rows staged in row_seq_/row_pos_/row_tok_ through the network; leaves the final
  // LayerNorm output in h_ and their keys/values in the cache.
  void run_chunk(int n_rows);
  void embed(int n_rows);
  void self_attention(int layer, int n_rows);
  void cross_attention(int layer, int n_rows);
  // out = attention of n_q query rows over n_kv keys; row i sees keys [0, limit[i]) (all if no limit).
  void attend(const float* q, const float* k, const float* v, int n_q, int n_kv, const int* limit, float* out);
  // The arguments of attend() (row-major keys; callers may adjust them).
  AttentionArgs attend_args(const float* q, const float* k, const float* v, int n_q, int n_kv, const int* limit,
                            float* out) const;
  void check_input(const TokenSpan* seqs, int n_seqs) const;
  // Stages and runs all rows; on_chunk(first_row_index, n_rows) sees each chunk's final-LN output.
  template <typename OnChunk>
  void run(const TokenSpan* seqs, int n_seqs, OnChunk on_chunk);

  const Model& model_;
  Backend& backend_;
  const std::atomic<bool>* cancel_ = nullptr;
  ThreadPool& pool_;
  std::shared_ptr<const DecoderPacked> packed_;

  int n_state_, n_head_, d_head_, n_layer_, n_ctx_, n_audio_ctx_, n_vocab_;
  int chunk_rows_;

  KvCache kv_;
  bool have_audio_ = false;
  // The window's cross-attention keys, transposed ([layer][n_state][ldck_], see AttentionArgs::
  // k_transposed): read once per token as they lie, whatever the attention path. A layer's keys are
  // in cross_k_ (floats) where f32_keys_[layer], else in cross_kh_ (halves); both are sized for every
  // layer, and untouched pages of these mappings cost no memory (one label for both: the memory
  // report sums what is resident). Values are head after head ([layer][n_head][n_audio_ctx][d_head],
  // AttentionArgs::v_head_stride), floats in cross_v_ or halves in cross_vh_. cross_tmp_ holds one
  // layer's keys and values as the products give them, when set_audio is given no staging.
  // Value rows of one layer ([n_audio_ctx][n_state], heads side by side) into `out` head after head
  // ([n_head][n_audio_ctx][d_head]), as floats or halves (exact / rounded as floats_to_halves does).
  template <typename T>
  void values_by_head(const float* v, T* out);
  int ldck_ = 0;
  bool half_cross_ = false;  // the backend's reduced precision: halves (see keep_f32_cross_keys)
  // As of the last set_audio (f32_keys_) and for the next one (keep_f32_keys_).
  std::vector<char> f32_keys_, keep_f32_keys_;
  AlignedBuffer<float> cross_k_{MemoryLabel{"decoder: cross-attention keys"}}, cross_tmp_{MemoryLabel{"decoder: cross-attention staging"}};
  AlignedBuffer<uint16_t> cross_kh_{MemoryLabel{"decoder: cross-attention keys"}}, cross_vh_{MemoryLabel{"decoder: cross-attention values"}};
  AlignedBuffer<float> cross_v_{MemoryLabel{"decoder: cross-attention values"}};  // the f32 path's values
  // On a reduced-precision backend where the CPU takes the int8 attention task (AVX512_VNNI, or
  // AVX-VNNI at the AVX2 level): each layer's keys and values rounded into that task's layouts by set_audio, read by every
  // call of the window (one-token steps, beams, prompts, the alignment pass) in place of halves,
  // which are then not kept (cross_kh_ and cross_vh_ stay empty; the float keys of the layers kept
  // for word timing are still made).
  std::unique_ptr<Int8KeyValueStore> int8_cross_;

  // Per-chunk activations, [chunk_rows][...].
  AlignedBuffer<float> x_{MemoryLabel{"decoder: activations"}}, h_{MemoryLabel{"decoder: activations"}}, q_{MemoryLabel{"decoder: activations"}}, k_{MemoryLabel{"decoder: activations"}}, v_{MemoryLabel{"decoder: activations"}}, att_{MemoryLabel{"decoder: activations"}}, tmp_{MemoryLabel{"decoder: activations"}}, mlp_{MemoryLabel{"decoder: activations"}};
  std::unique_ptr<MultiHeadAttention> attention_;  // with its scores scratch
  std::unique_ptr<StepAttention> step_attention_;  // self-attention of short runs (beam steps)
  std::vector<StepRow> step_rows_;                  // its rows, one per chunk row at most
  // One sequence's keys then values gathered from the head-major cache as the row-major floats the
  // tiled attention of a prompt reads (KvCache::gather), [2][n_ctx][n_state].
  AlignedBuffer<float> wide_kv_{MemoryLabel{"decoder: gathered KV rows"}};
  AlignedBuffer<uint8_t> emb_row_;  // one token embedding row's bytes read from the file (embed)
  std::vector<int> row_seq_, row_pos_, row_tok_, row_limit_;
  std::vector<TokenSpan> next_spans_;  // decode_next's spans, one per sequence

  // The alignment pass: kept layers' cross queries [slot][n_ctx][n_state] (slot of a layer in
  // align_slot_, -1 if not kept), final hidden states [n_ctx][n_state], and the token probabilities'
  // logits: per thread a block of kAlignVocabBlock ids for every row, reduced to a softmax
  // denominator per (block, row) in align_sums_ while they are in cache (the whole [rows][vocab] would
  // be 20 MB for 100 tokens, written once and read twice), or, where the backend has no ranged
  // product, kAlignLogitRows rows of the whole vocabulary at a time.
  static constexpr int kAlignVocabBlock = 512;
  static constexpr int kAlignLogitRows = 8;
  // The token probabilities of the alignment pass without a ranged product (see above).
  void alignment_token_probs_by_rows(const float* h, const int* targets, int n, int n_ids, float* probs);
  const bool* capture_layers_ = nullptr;  // set during an alignment pass only
  std::vector<int> align_slot_;
  int align_n_ = 0;
  AlignedBuffer<float> align_q_{MemoryLabel{"decoder: word-timing pass"}}, align_h_{MemoryLabel{"decoder: word-timing pass"}}, align_logits_{MemoryLabel{"decoder: word-timing pass"}};
  std::vector<ExpSum> align_sums_;  // [block][row]
  std::vector<float> align_target_;  // each row's logit of its target id

  AlignedBuffer<float> last_x_{MemoryLabel{"decoder: activations"}};  // [max_batch][n_state]
  AlignedBuffer<float> logits_{MemoryLabel{"decoder: logits"}};  // [max_batch][n_vocab]
};

}  // namespace npw
