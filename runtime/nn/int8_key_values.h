// Keys and values kept in the int8 attention task's layouts (both products in int8: AVX-512 VNNI
// CPUs, AMX or not, and AVX-VNNI ones at the AVX2 level) for calls that read the same keys many
// times: the decoder's cross-attention over one window, made once per window and layer from the
// products' float rows and read by every step, prompt and word-alignment pass, in place of half keys
// and values (half their bytes again). Rounded per call instead, as the encoder's are, the window's
// 1500 keys and values would cost a prompt or an alignment pass as much as the int8 products save,
// and a decoder step far more.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "util/aligned_buffer.h"

namespace npw {

class ThreadPool;
struct AttentionArgs;

// One set of keys and values in the int8 task's layouts (attention_kernels.h): where they lie, and
// what they were made from. MultiHeadAttention reads them in place of AttentionArgs' k and v.
struct Int8KeysValues {
  uint32_t* key_quads = nullptr;    // [width / 4][ldkq]: attention_int8_convert_keys' quads
  float* key_scale = nullptr;       // [n_head][ldkq]
  float* key_mean = nullptr;        // [width]: the mean key the quads are smoothed by
  // attention_int8_convert_values' quads, 16 quad rows per chunk of max_kv keys: head h's quad row r,
  // column c at value_quads[h * value_head_stride + r * value_ld + c] (Int8ValueLayout).
  uint32_t* value_quads = nullptr;
  float* value_stats = nullptr;     // [3][width]: the values' column means, scales and int8 factors
  int ldkq = 0;
  int max_kv = 0;  // room
  int width = 0;
  int d_head = 0;
  int n_kv = 0;    // keys held (0: none yet)
  int value_ld = 0;
  std::size_t value_head_stride = 0;
};

// Storage for n_sets sets (a decoder's layers) of up to max_kv keys of n_head x d_head columns. Each
// array is one anonymous mapping for every set, so a set's pages become resident only once it is made.
class Int8KeyValueStore {
 public:
  // `label` names the store in the memory ledger (a string literal).
  Int8KeyValueStore(int n_sets, int max_kv, int width, int d_head, const char* label);
  Int8KeysValues& set(int i) { return sets_[static_cast<std::size_t>(i)]; }
  int n_sets() const { return n_sets_; }

 private:
  int n_sets_;
  AlignedBuffer<uint32_t> key_quads_;
  AlignedBuffer<float> key_scale_;
  AlignedBuffer<float> stats_;
  AlignedBuffer<uint32_t> value_quads_;
  std::vector<Int8KeysValues> sets_;
};

// Whether this CPU at the active SIMD level takes the int8 task on a set in its layouts
// (simd_takes_int8_attention_task: AMX or not) for heads of d_head: only then is a store worth making.
bool int8_key_values_wanted(int d_head);

// Rounds the keys and values of `a` into `kv` (over `pool`, nullptr: inline): both as float rows (a.k
// and a.v, rows a.ldk and a.ldv apart), a.n_kv <= kv.max_kv keys and a.n_head x a.d_head == kv.width
// columns. The keys are smoothed by their mean over the call's keys, the values by their column means:
// the very quads of MultiHeadAttention's own int8 conversion, which calls this too. Throws
// npw::Error(InvalidArgument) for arguments the layouts cannot take (halves or transposed keys among them).
void prepare_int8_keys_values(ThreadPool* pool, const AttentionArgs& a, Int8KeysValues& kv);

}  // namespace npw
