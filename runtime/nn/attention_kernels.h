// One attention task (scores, softmax, weighted sum of values for a tile of query rows of one head)
// as a fast path per instruction set. attention.cpp owns the tiling, the masks and the threads and falls back
// to its portable backend-product path (the reference these kernels are tested against) when no fast
// path fits the CPU or the head size.
#pragma once

#include <cstddef>
#include <cstdint>

#include "util/cpu_features.h"

namespace npw {

// Query rows per task that the kernels take at most (attention.cpp's tile height).
constexpr int kAttentionMaxTileRows = 64;

struct AttentionKernels {
  // Head sizes the kernels take: a multiple of d_head_multiple, at most d_head_max.
  int d_head_multiple;
  int d_head_max;
  // Query rows per task, at most kAttentionMaxTileRows: a multiple of the kernel's own row block,
  // so that full tiles (1500 = 25 x 60 encoder frames) leave no short remainder block.
  int tile_rows;

  // One task of up to kAttentionMaxTileRows query rows of one head: out[r] = softmax(alpha * q[r] . kt over keys
  // [0, lim[r])) v, zeros for a row with lim[r] == 0; lim[r] <= n_keys. kt is the head's keys
  // transposed ([d_head][n_keys], rows ldkt floats apart); q, v and out rows as in AttentionArgs.
  void (*fused)(const float* q, int ldq, int rows, const float* kt, int ldkt, int n_keys, const float* v, int ldv,
                int d_head, float alpha, const int* lim, float* out, int ldo);
  // The same task with the values as IEEE halves (rows ldv halves apart), and with the keys as halves
  // too: a backend's half cross-attention keys and values read as they are stored, widened in the
  // registers (the results are those of `fused` on their widened copies, bit for bit). nullptr where
  // the level has none: the caller widens each head into scratch first.
  void (*fused_half_values)(const float* q, int ldq, int rows, const float* kt, int ldkt, int n_keys,
                            const uint16_t* v, int ldv, int d_head, float alpha, const int* lim, float* out, int ldo);
  void (*fused_halves)(const float* q, int ldq, int rows, const uint16_t* kt, int ldkt, int n_keys, const uint16_t* v,
                       int ldv, int d_head, float alpha, const int* lim, float* out, int ldo);
};

// The reduced-precision path for backends that trade accuracy for speed (the int8 path): q, k, v and
// the probabilities rounded to bf16 (8-bit mantissa), products accumulated in f32, the softmax itself
// in f32. Two implementations share the bf16 pair layouts below: on AMX tiles where
// simd_has_amx_bf16(), else with AVX512_BF16's vdpbf16ps where simd_has_avx512_bf16(). Head sizes
// 16, 32 and 64 (every Whisper model's is 64). Keys and values are first converted into the pair
// layouts, which are exactly AMX's B-tile format and also what vdpbf16ps takes as 16 lanes.
bool attention_bf16_takes(int d_head);
// kp[(P * ldkp + j)] = bf16 pair (k[j][2P], k[j][2P + 1]) for P < width / 2, j < n_kv; nothing past
// n_kv is written, so disjoint key ranges can be converted on different threads.
void attention_bf16_convert_keys(const float* k, int ldk, int n_kv, int width, uint32_t* kp, int ldkp);
// vp[(jp * width + c)] = bf16 pair (v[2 jp][c], v[2 jp + 1][c]) for jp < (n_kv + 1) / 2, the key
// past an odd n_kv being zero.
void attention_bf16_convert_values(const float* v, int ldv, int n_kv, int width, uint32_t* vp);
// The same layouts from IEEE halves: keys transposed (row c holds dimension c of every key, ldkt halves
// apart; keys [0, n_kv) converted, so disjoint ranges can go to different threads) and value rows ldv
// halves apart (the decoder's half cross-attention keys and values of a window). Widening is exact, so
// the pairs are bit for bit those of the float conversions on the widened copies.
void attention_bf16_convert_half_keys_t(const uint16_t* kt, int ldkt, int n_kv, int width, uint32_t* kp, int ldkp);
// Keys transposed as floats (the decoder's cross-attention keys of the layers kept in f32 for word
// timing), as attention_bf16_convert_half_keys_t takes halves.
void attention_bf16_convert_keys_t(const float* kt, int ldkt, int n_kv, int width, uint32_t* kp, int ldkp);
void attention_bf16_convert_half_values(const uint16_t* v, int ldv, int n_kv, int width, uint32_t* vp);
// One task as AttentionKernels::fused, for one head, on AMX tiles: kp and vp point at the head's
// first pair (P = h d/2, c = h d), q and out as there. Scratch for the calling thread: s [16][lds]
// floats (lds >= n_keys rounded up to 16), pp [16][ldp] pairs (ldp >= the key pairs rounded up to
// 16). kp must hold ldkp >= n_keys rounded up to 16 columns and vp the value pairs rounded up to 16
// rows: tiles read whole 16-wide blocks (what lies past the keys meets zero probabilities or is never
// used).
void attention_task_amx(const float* q, int ldq, int rows, const uint32_t* kp, int ldkp, int n_keys, const uint32_t* vp,
                        int width, int d_head, float alpha, const int* lim, float* out, int ldo, float* s, int lds,
                        uint32_t* pp, int ldp);
// The same task with vdpbf16ps on AVX-512 registers (CPUs with AVX512_BF16 but no AMX: Zen 4 and
// Zen 5), same arguments and scratch. Reads no key column past n_keys rounded up to 16 and no value
// pair past (n_keys + 1) / 2.
void attention_task_bf16_avx512(const float* q, int ldq, int rows, const uint32_t* kp, int ldkp, int n_keys,
                                const uint32_t* vp, int width, int d_head, float alpha, const int* lim, float* out,
                                int ldo, float* s, int lds, uint32_t* pp, int ldp);
// The AVX512_BF16 task with its scores made in int8 by AVX512_VNNI (simd_prefers_int8_attention_scores):
// keys smoothed (the call's mean key subtracted) and rounded to int8 per key and head, query rows per
// row and head; probabilities and values as in the bf16 task. Column means of keys [0, n_kv) for
// columns [c0, c1) into mean[c0, c1):
void attention_int8_key_means(const float* k, int ldk, int n_kv, int c0, int c1, float* mean);
// Keys [0, n_kv) (rows ldk floats apart, width = n_head * d_head columns, d_head 16, 32 or 64) minus
// mean, each head of each key rounded to int8 k8 with scale max|k - mean| / 127 and stored as u8
// k8 + 128: kq[(h d/4 + P) * ldkq + j] holds dimensions 4P..4P+3 of head h of key j (byte i for
// dimension 4P + i), kscale[h * ldkq + j] the scale. Nothing past n_kv is written, so disjoint key
// ranges can be converted on different threads.
void attention_int8_convert_keys(const float* k, int ldk, int n_kv, int width, int d_head, const float* mean,
                                 uint32_t* kq, int ldkq, float* kscale);
// The task, for one head: kq and kscale at the head's first quad row and scale, vp, q, out and
// scratch as attention_task_bf16_avx512's; reads no key column past n_keys rounded up to 16.
void attention_task_int8_scores_avx512(const float* q, int ldq, int rows, const uint32_t* kq, int ldkq,
                                       const float* kscale, int n_keys, const uint32_t* vp, int width, int d_head,
                                       float alpha, const int* lim, float* out, int ldo, float* s, int lds,
                                       uint32_t* pp, int ldp);
// The same int8 scores with the probabilities and values kept f32 (attention_int8_f32_avx512.cpp), for
// CPUs with AVX512_VNNI where the bf16 task is not taken (simd_prefers_int8_scores_f32_values): kq and
// kscale as above, v the head's first value column (rows ldv floats apart), scratch s [6][lds] floats
// (lds >= n_keys rounded up to 16). Reads no key column past n_keys rounded up to 16 and no value row
// past n_keys.
void attention_task_int8_scores_f32_avx512(const float* q, int ldq, int rows, const uint32_t* kq, int ldkq,
                                           const float* kscale, int n_keys, const float* v, int ldv, int d_head,
                                           float alpha, const int* lim, float* out, int ldo, float* s, int lds);
// Both products in int8 (attention_int8_avx512.cpp; simd_prefers_int8_attention_values): the scores as
// above, the exps rounded to u8 per chunk of kAttentionInt8ChunkKeys keys (each chunk its own scale)
// and the values smoothed and rounded to int8 per column. Column statistics of values [0, n_kv) for
// columns [c0, c1): mean[c], scale[c] = max_j |v[j][c] - mean[c]| / 127 and inv[c] its int8 factor
// (127 / that maximum, 0 where it is 0 or too small to invert):
constexpr int kAttentionInt8ChunkKeys = 64;
// How far ahead the int8 tasks ask the L2 for keys and values: 1 KiB further in each of a head's key
// planes, one chunk of value rows further. The decoder's window keys and values come from memory at
// every step, and with several query rows (beams) the vpdpbusd between the loads left the hardware
// prefetchers behind: a tiny q8_0 5-sequence step's cross-attention 158 -> 116 us (Zen 5, 2 threads,
// medians of 3 alternations; one row and the encoder, whose keys are in the L2, unchanged). Where the
// L3 holds the window's keys and values (a Xeon guest with 480 MiB) there is no miss to hide and the
// hints measured neutral (tiny q8_0 5-sequence step 0.86-0.87 against 0.87-0.88 ms). Only a task's
// first block of rows asks (a step's only block): the blocks after it find the head's keys and values
// in the L2, where each hint still takes a load slot. Asked for in every block, one tiny encoder
// layer's int8 attention took 9.1-9.4 ms against 8.4-9.0 (Xeon, one core, AVX-512 without AMX, 4
// alternations of 300) and 17.0-17.9 against 16.0-16.8 at the AVX-VNNI level.
constexpr int kAttentionInt8KeyPrefetchBytes = 1024;
constexpr int kAttentionInt8ValueRowsAhead = kAttentionInt8ChunkKeys / 4;
void attention_int8_value_stats(const float* v, int ldv, int n_kv, int c0, int c1, float* mean, float* scale,
                                float* inv);
// The order of quads within a chunk, that of the task's exps after two saturating packs of four
// vectors of 16 (a 4 x 4 transpose, its own inverse): slot g holds the chunk's quad kInt8ChunkSlot(g).
constexpr int kInt8ChunkSlot(int g) { return 4 * (g % 4) + g / 4; }
// Where value quads go: quad row r of head h, the head's column c (0 <= c < d_head, d_head a multiple of
// 16), at vq[h * head_stride + r * ld + c]. Side by side, as one matrix of rows of width words:
// {vq, width, d_head, d_head}; head after head: {vq, d_head, d_head, the quad rows per head x d_head}.
// The task reads one head's quads as rows ld words apart from vq + h * head_stride.
struct Int8ValueLayout {
  uint32_t* vq;
  int ld;
  int d_head;
  std::size_t head_stride;
};
// Quads [q0, q1) of value rows [0, n_kv) (ldv floats apart) as int8: quad q of column c holds rows
// 4 q .. 4 q + 3 (byte i for row 4 q + i, zero bytes past n_kv), each round((v - mean[c]) inv[c]) within
// +-127, and lies in quad row 16 (q / 16) + kInt8ChunkSlot(q % 16) of column c's head in `out`.
// Disjoint quad ranges can go to different threads.
void attention_int8_convert_values(const float* v, int ldv, int n_kv, int q0, int q1, int width, const float* mean,
                                   const float* inv, const Int8ValueLayout& out);
// The task, for one head: kq, kscale, q, out and s as attention_task_int8_scores_f32_avx512's; vq at
// the head's first quad, its quad rows `width` words apart (an Int8ValueLayout's ld), vmean and vscale
// at the head's first column. Scratch: p8 [6][ldp8] bytes and ps [6][ldps] floats, ldp8 a
// multiple of 4 and >= n_keys rounded up to a chunk (a chunk's 64 bytes hold 16 floats first) and ldps
// >= the chunks. Reads no key column past n_keys rounded up to 16;
// reads the value quads of whole chunks (vq must hold n_keys rounded up to a chunk, 16 quad rows per
// chunk), those past the keys meeting zero weights whatever they hold.
void attention_task_int8_avx512(const float* q, int ldq, int rows, const uint32_t* kq, int ldkq, const float* kscale,
                                int n_keys, const uint32_t* vq, int width, const float* vmean, const float* vscale,
                                int d_head, float alpha, const int* lim, float* out, int ldo, float* s, int lds,
                                uint8_t* p8, int ldp8, float* ps, int ldps);
// The int8 task at the AVX2 level, on CPUs with AVX-VNNI but no AVX-512 (Intel's client cores since
// Alder Lake): the layouts (attention_int8_layouts_avx2.cpp, AVX2 alone) and the task
// (attention_int8_avx2.cpp, AVX-VNNI's 256-bit vpdpbusd), each with the arguments, the scratch and
// the results, bit for bit, of the AVX-512 function of the same name without the suffix.
void attention_int8_key_means_avx2(const float* k, int ldk, int n_kv, int c0, int c1, float* mean);
void attention_int8_convert_keys_avx2(const float* k, int ldk, int n_kv, int width, int d_head, const float* mean,
                                      uint32_t* kq, int ldkq, float* kscale);
void attention_int8_value_stats_avx2(const float* v, int ldv, int n_kv, int c0, int c1, float* mean, float* scale,
                                     float* inv);
void attention_int8_convert_values_avx2(const float* v, int ldv, int n_kv, int q0, int q1, int width,
                                        const float* mean, const float* inv, const Int8ValueLayout& out);
void attention_task_int8_avx2(const float* q, int ldq, int rows, const uint32_t* kq, int ldkq, const float* kscale,
                              int n_keys, const uint32_t* vq, int width, const float* vmean, const float* vscale,
                              int d_head, float alpha, const int* lim, float* out, int ldo, float* s, int lds,
                              uint8_t* p8, int ldp8, float* ps, int ldps);
// The int8 task's functions of one level, as one table so that its callers (MultiHeadAttention,
// prepare_int8_keys_values) pick a level once.
struct Int8AttentionOps {
  void (*key_means)(const float* k, int ldk, int n_kv, int c0, int c1, float* mean);
  void (*convert_keys)(const float* k, int ldk, int n_kv, int width, int d_head, const float* mean, uint32_t* kq,
                       int ldkq, float* kscale);
  void (*value_stats)(const float* v, int ldv, int n_kv, int c0, int c1, float* mean, float* scale, float* inv);
  void (*convert_values)(const float* v, int ldv, int n_kv, int q0, int q1, int width, const float* mean,
                         const float* inv, const Int8ValueLayout& out);
  void (*task)(const float* q, int ldq, int rows, const uint32_t* kq, int ldkq, const float* kscale, int n_keys,
               const uint32_t* vq, int width, const float* vmean, const float* vscale, int d_head, float alpha,
               const int* lim, float* out, int ldo, float* s, int lds, uint8_t* p8, int ldp8, float* ps, int ldps);
};
// The table of `level` (Avx512: the AVX-512 VNNI functions; Avx2: the AVX-VNNI ones), nullptr for
// Scalar. Which CPU may call which is simd_takes_int8_attention_task()'s to say.
const Int8AttentionOps* int8_attention_ops(SimdLevel level);

// Query rows per task that suit the AVX512_BF16 task: a multiple of its row block (1500 encoder
// frames = 25 x 60).
constexpr int kAttentionBf16Avx512TileRows = 60;

// The kernels for `level`, or nullptr where that level has none.
const AttentionKernels* attention_kernels(SimdLevel level);

// Per-level tables, defined in their own files (compiled for their instruction set).
extern const AttentionKernels kAttentionKernelsAvx512;
extern const AttentionKernels kAttentionKernelsAvx2;

}  // namespace npw
