// Function attributes that compile one function for a given instruction set, used on every function
// of the SIMD kernel files instead of a file-wide `#pragma GCC target`: GCC and clang both honour the
// attribute (clang ignores the pragma), and an attributed inline function can only be inlined into
// callers of the same or a larger set, so no AVX-512 code leaks into paths a lesser CPU runs. The
// kernels are only called after the run-time checks of cpu_features.h.
#pragma once

#define NPW_TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))
#define NPW_TARGET_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,fma")))
// AVX-512 plus AVX512_BF16 (vcvtne2ps2bf16, vdpbf16ps): only behind simd_has_avx512_bf16().
#define NPW_TARGET_AVX512_BF16 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512bf16,fma")))
// AVX-512 plus AVX512_VNNI (vpdpbusd) without AVX512_BF16: int8 attention scores on CPUs that have
// VNNI but no bf16 products (Ice Lake, Tiger Lake, Cascade Lake) and both int8 attention products; only
// behind simd_prefers_int8_attention_scores(), simd_prefers_int8_scores_f32_values() or
// simd_prefers_int8_attention_values().
#define NPW_TARGET_AVX512_VNNI __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vnni,fma")))
// AVX-512 plus AVX512_BF16 and AVX512_VNNI (vpdpbusd): only behind simd_prefers_int8_attention_scores().
#define NPW_TARGET_AVX512_BF16_VNNI \
  __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512bf16,avx512vnni,fma")))
// AVX2 plus AVX-VNNI (the VEX-encoded 256-bit vpdpbusd of Intel's client cores since Alder Lake, its
// E-core Xeons and Zen 5): the int8 attention task at the AVX2 level; only behind
// simd_takes_int8_attention_task() at that level.
#define NPW_TARGET_AVX2_VNNI __attribute__((target("avx2,fma,f16c,avxvnni")))
