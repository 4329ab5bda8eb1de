// Slot bookkeeping of the decoder's KV cache; see the header for why sequences live in slots.
#include "nn/kv_cache.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "model/half_rows.h"
#include "util/error.h"

namespace npw {

KvCache::KvCache(int n_layer, int max_seqs, int n_ctx, int n_state, bool half, int n_head)
    : n_layer_(n_layer),
      max_seqs_(max_seqs),
      n_ctx_(n_ctx),
      n_state_(n_state),
      n_head_(n_head),
      d_head_(n_head > 0 ? n_state / n_head : 0),
      n_slots_(max_seqs > 1 ? max_seqs + 1 : max_seqs),
      half_(half) {
  if (n_layer <= 0 || max_seqs <= 0 || n_ctx <= 0 || n_state <= 0 || n_head <= 0)
    throw Error(ErrorKind::InvalidArgument, "KV cache: every dimension must be positive");
  if (n_state % n_head != 0)
    throw Error(ErrorKind::InvalidArgument, "KV cache: n_state " + std::to_string(n_state) + " is not a multiple of " +
                                                std::to_string(n_head) + " heads");
  // The prefix's slot costs no memory until a prefix is shared: pages are resident once written.
  std::size_t n = static_cast<std::size_t>(n_slots_) * n_layer * n_ctx * n_state;
  if (half_) {
    kh_.resize(n);
    vh_.resize(n);
  } else {
    k_.resize(n);
    v_.resize(n);
  }
  slot_of_seq_.resize(max_seqs);
  len_.assign(max_seqs, 0);
  shared_len_.assign(max_seqs, 0);
  old_slot_.resize(max_seqs);
  old_len_.resize(max_seqs);
  old_shared_.resize(max_seqs);
  new_slot_.resize(max_seqs);
  new_shared_.resize(max_seqs);
  uses_.resize(max_seqs);
  claimed_.resize(n_slots_);
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
  shared_slot_ = -1;
  for (int s = 0; s < max_seqs_; ++s) {
    slot_of_seq_[s] = s;
    len_[s] = 0;
    shared_len_[s] = 0;
  }
}

void KvCache::copy_rows(int from, int to, int from_pos, int to_pos) {
  if (to_pos <= from_pos) return;
  const std::size_t n = static_cast<std::size_t>(to_pos - from_pos) * d_head_;
  for (int l = 0; l < n_layer_; ++l) {
    for (int h = 0; h < n_head_; ++h) {
      const std::size_t src = offset(l, from, from_pos) + h * head_stride();
      const std::size_t dst = offset(l, to, from_pos) + h * head_stride();
      if (half_) {
        std::memcpy(kh_.data() + dst, kh_.data() + src, n * sizeof(uint16_t));
        std::memcpy(vh_.data() + dst, vh_.data() + src, n * sizeof(uint16_t));
      } else {
        std::memcpy(k_.data() + dst, k_.data() + src, n * sizeof(float));
        std::memcpy(v_.data() + dst, v_.data() + src, n * sizeof(float));
      }
    }
  }
}

void KvCache::store(int layer, int seq, int pos, const float* k, const float* v) {
  const std::size_t at = row(layer, seq, pos), dh = d_head_;
  for (int h = 0; h < n_head_; ++h) {
    const std::size_t dst = at + h * head_stride(), src = h * dh;
    if (half_) {
      floats_to_halves(k + src, kh_.data() + dst, dh);
      floats_to_halves(v + src, vh_.data() + dst, dh);
    } else {
      std::memcpy(k_.data() + dst, k + src, dh * sizeof(float));
      std::memcpy(v_.data() + dst, v + src, dh * sizeof(float));
    }
  }
}

void KvCache::gather(int layer, int seq, int n, float* k, float* v) const {
  const std::size_t dh = d_head_;
  for (int h = 0; h < n_head_; ++h) {
    for (int p = 0; p < n; ++p) {
      const std::size_t src = row(layer, seq, p) + h * head_stride(), dst = static_cast<std::size_t>(p) * n_state_ + h * dh;
      if (half_) {
        halves_to_floats(kh_.data() + src, k + dst, dh);
        halves_to_floats(vh_.data() + src, v + dst, dh);
      } else {
        std::memcpy(k + dst, k_.data() + src, dh * sizeof(float));
        std::memcpy(v + dst, v_.data() + src, dh * sizeof(float));
      }
    }
  }
}

void KvCache::release_unread_prefix() {
  for (int s = 0; s < n_seqs_; ++s)
    if (shared_len_[s] > 0) return;
  shared_slot_ = -1;
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
    old_shared_[s] = shared_len_[s];
    uses_[s] = 0;
  }
  for (int src : src_of_dst) ++uses_[src];
  // The prefix stays while a destination reads from it; with none, the first source with rows that
  // several destinations take becomes the prefix (its slot is then nobody's own).
  int shared = -1, prefix_src = -1;
  for (int src : src_of_dst)
    if (old_shared_[src] > 0) shared = shared_slot_;
  if (shared < 0) {  // (a cache of one sequence has no prefix slot, but no repeated source either)
    for (int src : src_of_dst)
      if (uses_[src] > 1 && old_len_[src] > 0) {
        prefix_src = src;
        shared = old_slot_[src];
        break;
      }
  }
  for (int d = 0; d < n_new; ++d) {
    const int src = src_of_dst[d];
    new_shared_[d] = src == prefix_src ? old_len_[src] : old_shared_[src];
  }
  // The first destination of each source takes its slot as it is; later ones (and every destination
  // of the new prefix's source) get their own rows copied into a slot that no destination reads from
  // (there are always enough: each repeat leaves one source unused, and the prefix has a slot more).
  std::fill(claimed_.begin(), claimed_.end(), 0);
  if (shared >= 0) claimed_[shared] = 1;
  for (int d = 0; d < n_new; ++d) {
    const int src = src_of_dst[d];
    const int slot = old_slot_[src];
    new_slot_[d] = src == prefix_src || claimed_[slot] ? -1 : slot;
    claimed_[slot] = 1;
  }
  int free_slot = 0;
  for (int d = 0; d < n_new; ++d) {
    if (new_slot_[d] >= 0) continue;
    while (claimed_[free_slot]) ++free_slot;
    claimed_[free_slot] = 1;
    const int src = src_of_dst[d];
    copy_rows(old_slot_[src], free_slot, new_shared_[d], old_len_[src]);
    new_slot_[d] = free_slot;
  }
  for (int d = 0; d < n_new; ++d) {
    len_[d] = old_len_[src_of_dst[d]];
    shared_len_[d] = new_shared_[d];
    slot_of_seq_[d] = new_slot_[d];
  }
  // Slots of dropped sequences stay reachable for a later reset() or a growing reorder().
  int next = n_new;
  for (int slot = 0; slot < n_slots_ && next < max_seqs_; ++slot)
    if (!claimed_[slot]) {
      slot_of_seq_[next] = slot;
      shared_len_[next] = 0;
      len_[next++] = 0;
    }
  n_seqs_ = n_new;
  shared_slot_ = shared;
}

void KvCache::unshare(int seq) {
  check_seq(seq);
  if (shared_len_[seq] == 0) return;
  copy_rows(shared_slot_, slot_of_seq_[seq], 0, shared_len_[seq]);
  shared_len_[seq] = 0;
  release_unread_prefix();
}

void KvCache::truncate(int seq, int n_tokens) {
  check_seq(seq);
  if (n_tokens < 0 || n_tokens > len_[seq])
    throw Error(ErrorKind::InvalidArgument, "KV cache: cannot truncate sequence " + std::to_string(seq) + " of " +
                                                std::to_string(len_[seq]) + " positions to " +
                                                std::to_string(n_tokens));
  // Rows written after this are the sequence's own: below the prefix it needs its own copy first.
  if (n_tokens < shared_len_[seq]) unshare(seq);
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
