// A vector value made to live in a register. GCC folds a load that several multiply-adds use into each
// of them as a memory operand, so one vector that feeds B FMAs is read B times: in the skinny products
// at 5 rows (AVX2) that was 12 loads per 10 FMAs, and a Zen 3 ran them at half its FMA rate. Shared by
// the kernels of backend/ and nn/, so it lives below both.
#pragma once

// Makes the vector variable v's value come from a register: the empty asm takes and gives it back in
// one ("+v": any vector register of the active width), which a load folded into its users cannot
// satisfy. A macro, not a function: an inline function without the kernel's target attribute, inlined
// into it (GCC 12), made GCC drop every __builtin_prefetch of the kernel file.
#define NPW_IN_REGISTER(v) __asm__("" : "+v"(v))
