// Slot bookkeeping of the decoder's KV cache; see the header for why sequences live in slots.
#include "nn/kv_cache.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "util/error.h"

namespace npw {

KvCache::KvCache(int n_layer, int max_seqs, int n_ctx, int n_state, bool half)
    : n_layer_(n_layer), max_seqs_(max_seqs), n_ctx_(n_ctx), n_state_(n_state), half_(half) {
  if (n_layer <= 0 || max_seqs <= 0 || n_ctx <= 0 || n_state <= 0)
    throw Error(ErrorKind::InvalidArgument, "KV cache: every dimension must be positive");
  std::size_t n = static_cast<std::size_t>(max_seqs) * n_layer * n_ctx * n_state;
  if (half_) {
    kh_.resize(n);
    vh_.resize(n);
  } else {
    k_.resize(n);
    v_.resize(n);
  }
  slot_of_seq_.resize(max_seqs);
  len_.assign(max_seqs, 0);
  old_slot_.resize(max_seqs);
  old_len_.resize(max_seqs);
  new_slot_.resize(max_seqs);
  claimed_.resize(max_seqs);
  reset(1);
}

void KvCache::check_seq(int seq) const {
  if (seq < 0 || seq >= n_seqs_)
    throw Error(ErrorKind::InvalidArgument,
                "KV cache: sequence " + std::to_string(seq) + " is not active (" + std::to_string(n_seqs_) + " are)");
}

void KvCache::reset(int n_seqs) {
  if (n_seqs < 1 || n_seqs > max_seqs_)
    throw Error(ErrorKind::InvalidArgument, "KV cache: " + std::to_string(n_seqs) + " sequences requested, 1.." +
                                                std::to_string(max_seqs_) + " allowed");
  n_seqs_ = n_seqs;
  for (int s = 0; s < max_seqs_; ++s) {
    slot_of_seq_[s] = s;
    len_[s] = 0;
  }
}

void KvCache::reorder(const std::vector<int>& src_of_dst) {
  const int n_new = static_cast<int>(src_of_dst.size());
  if (n_new < 1 || n_new > max_seqs_)
    throw Error(ErrorKind::InvalidArgument, "KV cache reorder: " + std::to_string(n_new) + " sequences, 1.." +
                                                std::to_string(max_seqs_) + " allowed");
  for (int src : src_of_dst) check_seq(src);
  for (int s = 0; s < n_seqs_; ++s) {
    old_slot_[s] = slot_of_seq_[s];
    old_len_[s] = len_[s];
  }
  // The first destination of each source takes its slot as it is; later ones need a copy in a slot
  // that no destination reads from (there are always enough: each repeat leaves one source unused).
  std::fill(claimed_.begin(), claimed_.end(), 0);
  for (int d = 0; d < n_new; ++d) {
    int slot = old_slot_[src_of_dst[d]];
    new_slot_[d] = claimed_[slot] ? -1 : slot;
    claimed_[slot] = 1;
  }
  int free_slot = 0;
  for (int d = 0; d < n_new; ++d) {
    if (new_slot_[d] >= 0) continue;
    while (claimed_[free_slot]) ++free_slot;
    claimed_[free_slot] = 1;
    int from = old_slot_[src_of_dst[d]];
    const std::size_t n = static_cast<std::size_t>(old_len_[src_of_dst[d]]) * n_state_;
    for (int l = 0; l < n_layer_; ++l) {
      if (half_) {
        std::memcpy(kh_.data() + offset(l, free_slot, 0), kh_.data() + offset(l, from, 0), n * sizeof(uint16_t));
        std::memcpy(vh_.data() + offset(l, free_slot, 0), vh_.data() + offset(l, from, 0), n * sizeof(uint16_t));
      } else {
        std::memcpy(k_.data() + offset(l, free_slot, 0), k_.data() + offset(l, from, 0), n * sizeof(float));
        std::memcpy(v_.data() + offset(l, free_slot, 0), v_.data() + offset(l, from, 0), n * sizeof(float));
      }
    }
    new_slot_[d] = free_slot;
  }
  for (int d = 0; d < n_new; ++d) {
    len_[d] = old_len_[src_of_dst[d]];
    slot_of_seq_[d] = new_slot_[d];
  }
  // Slots of dropped sequences stay reachable for a later reset() or a growing reorder().
  int next = n_new;
  for (int slot = 0; slot < max_seqs_ && next < max_seqs_; ++slot)
    if (!claimed_[slot]) {
      slot_of_seq_[next] = slot;
      len_[next++] = 0;
    }
  n_seqs_ = n_new;
}

void KvCache::truncate(int seq, int n_tokens) {
  check_seq(seq);
  if (n_tokens < 0 || n_tokens > len_[seq])
    throw Error(ErrorKind::InvalidArgument, "KV cache: cannot truncate sequence " + std::to_string(seq) + " of " +
                                                std::to_string(len_[seq]) + " positions to " +
                                                std::to_string(n_tokens));
  len_[seq] = n_tokens;
}

void KvCache::extend(int seq, int n) {
  check_seq(seq);
  if (n < 0 || len_[seq] + n > n_ctx_)
    throw Error(ErrorKind::InvalidArgument, "KV cache: sequence " + std::to_string(seq) + " would exceed " +
                                                std::to_string(n_ctx_) + " positions");
  len_[seq] += n;
}

}  // namespace npw
