// Which vector instruction set the hot kernels may use, decided once per process. Kernels exist as a
// portable reference and as fast paths compiled for AVX2 and AVX-512; this picks the best one the CPU
// runs, and lets tests and benchmarks force a lower level (NPW_SIMD=scalar|avx2|avx512) so that every
// path is exercised on a machine that has them all.
#pragma once

namespace npw {

enum class SimdLevel { Scalar = 0, Avx2 = 1, Avx512 = 2 };

// The highest level the CPU supports: Avx2 means AVX2 + FMA + F16C; Avx512 means AVX-512 F, BW, DQ
// and VL on top of that.
SimdLevel cpu_simd_level();

// The level the kernels use: the CPU's level, lowered by NPW_SIMD (read once) or by
// set_active_simd_level(); never raised above what the CPU supports.
SimdLevel active_simd_level();

// For tests: the level to use from now on (clamped to the CPU's). Not for use while kernels run on
// other threads.
void set_active_simd_level(SimdLevel level);

const char* simd_level_name(SimdLevel level);

// True when this process can use the AMX tile unit: the CPU has AMX-TILE, the OS saves tile state and
// Linux granted the tile-data permission (asked once, by whoever asks first). Which tile products
// exist (AMX-BF16, AMX-INT8) are further CPUID bits, checked by their users.
bool cpu_amx_tiles_usable();

// True when the AMX tile unit with bf16 products can be used (cpu_amx_tiles_usable, AMX-BF16 and
// AVX512_BF16 for the conversions) and the active level is Avx512 (the kernels around the tiles are
// AVX-512).
bool simd_has_amx_bf16();

// True when CPUID names AMD as the vendor: where a kernel's fastest form was measured to differ between
// AMD's cores and Intel's (the bf16 attention below, the int8 beam products' streams).
bool cpu_vendor_is_amd();

// True when the CPU has AVX512_BF16 (vdpbf16ps: bf16 pair dot products into f32 on ordinary AVX-512
// registers; Zen 4/Zen 5, Cooper Lake, Sapphire Rapids) and the active level is Avx512. Does not
// imply AMX; NPW_SIMD=avx512-noamx keeps it.
bool simd_has_avx512_bf16();

// True when the CPU has AVX-VNNI, the VEX-encoded 256-bit vpdpbusd (Intel's client cores since Alder
// Lake, its E-core and Sapphire Rapids Xeons, Zen 5): what the AVX2 level's int8 products and int8
// attention use. Whatever the active level; its users run at the Avx2 level.
bool cpu_has_avx_vnni();

// Whether the reduced-precision attention should take vdpbf16ps (simd_has_avx512_bf16) rather than
// the f32 AVX-512 kernel where there is no AMX: only where it measures faster. On AMD (Zen 4, Zen 5)
// a vdpbf16ps does twice an FMA's multiply-adds per cycle, and an encoder layer's attention went from
// 11.3 ms (f32) to 5.8 ms (bf16) on a Zen 5; on Intel (Sapphire Rapids with AMX left out) it issues
// on one port where FMAs use two, so the same multiply-adds per cycle plus the bf16 conversions made
// it slower: 17.2-17.6 ms against 12.8-12.9 ms (tiny, 2 threads). So: AMD yes, other vendors no.
// NPW_BF16_ATTENTION=1 or 0 (read once) overrides the vendor rule, for benchmarks.
bool simd_prefers_avx512_bf16_attention();

// Whether that vdpbf16ps attention should make its scores with AVX512_VNNI's vpdpbusd on int8 keys and
// queries instead (attention_kernels.h: attention_task_int8_scores_avx512): only where the bf16 task
// is chosen (simd_prefers_avx512_bf16_attention, no AMX) and the CPU has AVX512_VNNI; taken for keys
// given as rows only where simd_prefers_int8_attention_values() says no. A vpdpbusd does
// twice a vdpbf16ps's multiply-adds: on a Zen 4 an encoder layer's attention took 8.8 ms against
// 10.1 (tiny, 2 threads), the int8 encoder 2.5x the f32 one against 2.3x.
// NPW_ATTENTION_SCORES=int8 or bf16 (read once) overrides the default, for benchmarks and tests.
bool simd_prefers_int8_attention_scores();
// Whether the reduced-precision attention should make its scores with vpdpbusd and keep its softmax and
// values in f32 (attention_kernels.h: attention_task_int8_scores_f32_avx512): where the CPU has
// AVX512_VNNI at the Avx512 level but neither AMX nor a preferred vdpbf16ps (Ice Lake, Tiger Lake,
// Cascade Lake: no AVX512_BF16; Intel with AVX512_BF16 but no AMX: vdpbf16ps measured slower than f32).
// There attention otherwise runs all in f32 (61 % of the int8 encoder on issue 14's Zen 5). NPW_ATTENTION_SCORES=
// bf16 or f32 (read once, as above) leaves the scores in floats. Taken only where
// simd_prefers_int8_attention_values() says no.
bool simd_prefers_int8_scores_f32_values();
// Whether the reduced-precision attention should make both of its products with vpdpbusd, the scores
// as above and the weighted sum of values on u8 exps and int8 values (attention_kernels.h:
// attention_task_int8_avx512), in place of either task above: wherever the CPU has AVX512_VNNI at the
// Avx512 level and no AMX (or AVX-VNNI at the Avx2 level: simd_takes_int8_attention_task). A vpdpbusd does twice a vdpbf16ps's multiply-adds and four times an FMA's:
// on a Zen 4 the int8 encoder went from 2.51-2.52x the f32 one (bf16 values) to 2.63-2.64x (tiny, 2
// threads), and with NPW_BF16_ATTENTION=0 (the task a CPU without AVX512_BF16 takes) from 2.03-2.15x
// (f32 values) to 2.72-2.74x.
// NPW_ATTENTION_VALUES=float (read once) keeps the values in the bf16 or f32 task the CPU would
// otherwise take; NPW_ATTENTION_SCORES=bf16 or f32 turns off both int8 products.
bool simd_prefers_int8_attention_values();
// Whether this CPU runs that int8 task at all where its keys and values are already in the task's
// layouts (the decoder's window-long cross-attention set, Int8KeyValueStore): wherever it has
// AVX512_VNNI at the Avx512 level, AMX or not. The AMX tiles take 16 query rows at a time, and a
// decoder step has 1-8 (one token, beams, samples): on a Sapphire Rapids Xeon (base f16, 2 threads) the
// int8 task made a one-token step 1.47-1.74 -> 1.18-1.44 ms and a 5-beam step 2.10-2.14 -> 1.74-1.93 ms
// against the bf16/f32 attention over half keys and values, and prompts were no slower; the encoder's
// own attention over float rows stays on the tiles there (its layer measured faster on AMX).
// At the Avx2 level: wherever the CPU has AVX-VNNI (Intel's client cores since Alder Lake, its E-core
// Xeons; Zen 5 with NPW_SIMD=avx2), the same task with the 256-bit vpdpbusd (attention_int8_avx2.cpp,
// the AVX-512 task's bits), for float rows too (simd_prefers_int8_attention_values): tiny q8_0's
// cpu-int8 encoder 199-215 -> 130-138 ms on a Zen 5 at NPW_SIMD=avx2, where the attention was f32.
// The same NPW_ATTENTION_SCORES / NPW_ATTENTION_VALUES settings turn it off.
bool simd_takes_int8_attention_task();

}  // namespace npw
