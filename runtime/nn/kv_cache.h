// The decoder's self-attention keys and values for a batch of hypotheses (beam search, best-of).
// Memory for max_seqs sequences of n_ctx positions is allocated once per stream; a sequence reaches
// its rows through a slot table, so reordering hypotheses (OpenAI's rearrange_kv_cache) renames
// slots and copies rows only for a hypothesis that is kept more than once. Rows are f32, or IEEE half
// floats for backends that already trade accuracy for speed (a beam step reads every cached row of
// every beam: halves are half those bytes and half the memory). Halves are not the f32 reference's
// choice: on the golden windows they move the logits to a relative L2 of 1.2e-4, above that test's
// 1e-4 bound (tests/runtime/decoder), while the reduced-precision backends' bound is 2e-2.
//
// Beam search starts every hypothesis from one decoded prompt (OpenAI's default: up to 224 previous
// tokens, then five beams). Copying those rows into each beam's slot made every beam step read the
// prompt's keys and values five times over - after a 224-token prompt, a fifth of a tiny model's
// 5-beam step went to that. So when a sequence with rows is first taken by several hypotheses, its
// rows become a shared prefix: they stay in their slot, which then belongs to no sequence (there is
// one slot more than sequences for it), every hypothesis reads positions below the prefix length from
// there and writes its own rows from that length on in a slot of its own. Later reorders copy only a
// hypothesis's own rows. A sequence that must see its rows in one slot (a many-row decode, a truncate
// below the prefix) gets its own copy of the prefix first (unshare).
//
// Within a sequence's slot and layer the cache is head-major, [head][pos][d_head]: a step's attention
// reads one head's keys and values of every position, and row-major rows ([pos][head][d_head]) made
// that a 128-256-byte slice every 0.75-1.5 KB, which the hardware prefetchers, stopping at every 4 KiB
// page, left waiting on memory (a tiny model's half cache, 274 positions of its 4 layers read from
// memory by one thread: 253 us row-major, 86 us head-major).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "util/aligned_buffer.h"

namespace npw {

class KvCache {
 public:
  // n_state = n_head * d_head; n_head 1 is a row-major cache.
  KvCache(int n_layer, int max_seqs, int n_ctx, int n_state, bool half = false, int n_head = 1);

  bool half() const { return half_; }

  int max_seqs() const { return max_seqs_; }
  int n_ctx() const { return n_ctx_; }
  int n_head() const { return n_head_; }
  int d_head() const { return d_head_; }
  // Elements from a position's head h to its head h + 1 (positions are d_head() apart).
  std::size_t head_stride() const { return static_cast<std::size_t>(n_ctx_) * d_head_; }
  int n_seqs() const { return n_seqs_; }
  int length(int seq) const { return len_[seq]; }
  // Positions [0, shared_length(seq)) of `seq` are read from the shared prefix (0: none).
  int shared_length(int seq) const { return shared_len_[seq]; }

  // n_seqs empty sequences. Throws npw::Error(InvalidArgument) unless 1 <= n_seqs <= max_seqs.
  void reset(int n_seqs);
  // Sequence `dst` becomes a copy of former sequence src_of_dst[dst]; the number of sequences becomes
  // src_of_dst.size(). Sources may repeat or be left out. Throws npw::Error(InvalidArgument) on a bad
  // index or size. Allocates nothing.
  void reorder(const std::vector<int>& src_of_dst);
  // Keeps the first n_tokens positions of `seq` (n_tokens <= length(seq)).
  void truncate(int seq, int n_tokens);
  // Records that positions [length, length + n) of `seq` have been written.
  void extend(int seq, int n);
  // Gives `seq` its own copy of the shared prefix's rows (nothing if it reads none from there), so
  // that its positions [0, length) lie in one slot, d_head elements apart.
  void unshare(int seq);

  // Writes position `pos` of `seq` in `layer` from row-major rows k, v of n_state floats (heads side
  // by side, as the products make them) into the heads' runs; a half cache rounds them to halves.
  void store(int layer, int seq, int pos, const float* k, const float* v);
  // Positions [0, n) of `seq` in `layer` as row-major floats, rows n_state apart (what the tiled
  // attention reads), widened from a half cache.
  void gather(int layer, int seq, int n, float* k, float* v) const;

  // Head 0 of position `pos` of `seq` in `layer`: d_head floats (f32 cache; nullptr for a half cache),
  // head h head_stride() elements further. Positions below shared_length(seq) are the shared prefix's
  // (read them only); from shared_length(seq) on, positions follow each other d_head apart.
  float* key(int layer, int seq, int pos) { return half_ ? nullptr : k_.data() + row(layer, seq, pos); }
  float* value(int layer, int seq, int pos) { return half_ ? nullptr : v_.data() + row(layer, seq, pos); }
  const float* key(int layer, int seq, int pos) const { return half_ ? nullptr : k_.data() + row(layer, seq, pos); }
  const float* value(int layer, int seq, int pos) const { return half_ ? nullptr : v_.data() + row(layer, seq, pos); }
  // The same rows of a half cache (nullptr for an f32 one).
  uint16_t* key_half(int layer, int seq, int pos) { return half_ ? kh_.data() + row(layer, seq, pos) : nullptr; }
  uint16_t* value_half(int layer, int seq, int pos) { return half_ ? vh_.data() + row(layer, seq, pos) : nullptr; }
  const uint16_t* key_half(int layer, int seq, int pos) const { return half_ ? kh_.data() + row(layer, seq, pos) : nullptr; }
  const uint16_t* value_half(int layer, int seq, int pos) const { return half_ ? vh_.data() + row(layer, seq, pos) : nullptr; }

 private:
  std::size_t row(int layer, int seq, int pos) const {
    return offset(layer, pos < shared_len_[seq] ? shared_slot_ : slot_of_seq_[seq], pos);
  }
  // Copies positions [from_pos, to_pos) of every layer from slot `from` to slot `to`.
  void copy_rows(int from, int to, int from_pos, int to_pos);
  // Forgets the shared prefix when no active sequence reads from it.
  void release_unread_prefix();
  std::size_t offset(int layer, int slot, int pos) const {
    return (static_cast<std::size_t>(slot) * n_layer_ + layer) * n_ctx_ * n_state_ +
           static_cast<std::size_t>(pos) * d_head_;
  }
  void check_seq(int seq) const;

  int n_layer_, max_seqs_, n_ctx_, n_state_, n_head_, d_head_;
  int n_slots_;  // max_seqs_, plus one for a shared prefix where there can be several sequences
  bool half_;
  int n_seqs_ = 0;
  int shared_slot_ = -1;  // the shared prefix's slot (-1: none); it is no sequence's own slot
  AlignedBuffer<float> k_{MemoryLabel{"decoder: self-attention KV cache"}}, v_{MemoryLabel{"decoder: self-attention KV cache"}};       // [n_slots][layer][head][pos][d_head], f32 cache
  AlignedBuffer<uint16_t> kh_{MemoryLabel{"decoder: self-attention KV cache"}}, vh_{MemoryLabel{"decoder: self-attention KV cache"}};  // the same, half cache
  std::vector<int> slot_of_seq_, len_, shared_len_;
  // Scratch of reorder(), sized once.
  std::vector<int> old_slot_, old_len_, old_shared_, new_slot_, new_shared_, uses_;
  std::vector<char> claimed_;
};

}  // namespace npw
