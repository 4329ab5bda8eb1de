// Half-float conversion and the ggml block codecs (quantisation version 2). The dequantisers must give
// bit-identical floats to ggml's scalar reference, because golden tests compare our weights with what
// whisper.cpp sees; the quantisers follow ggml's reference quantisers so generated model files are the
// ones whisper.cpp's own quantizer would write. All multi-byte fields are read and written byte by byte
// in little-endian order: tensor data in a mapped file is not necessarily aligned.
#include "model/quant.h"

#include <cmath>
#include <cstring>
#include <string>

#include "util/error.h"

// f32 rows are copied as raw bytes, which is only right on a little-endian host.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "npuwhisper assumes a little-endian host");

namespace npw {

namespace {

constexpr int kQK = 32;  // elements per block of every quantized type

uint32_t float_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

float bits_float(uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

uint16_t load_u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

uint32_t load_u32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
         (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

void store_u16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}

void store_u32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

float load_half(const uint8_t* p) { return fp16_to_fp32(load_u16(p)); }

// ggml converts with a C cast (truncation toward zero) to int8 and then clamps from above only; for
// every finite input the truncated value is already >= 0. Clamping below as well keeps the result
// defined (and a valid nibble) when the input was NaN or infinite, which ggml leaves undefined.
int trunc_clamp(float v, int hi) {
  if (!(v >= 0.0f)) return 0;  // also catches NaN
  if (v >= static_cast<float>(hi)) return hi;
  return static_cast<int>(v);
}

void check_block_multiple(GgmlType type, int64_t n, const char* what) {
  const int be = ggml_block_elems(type);
  if (n < 0 || n % be != 0) {
    throw Error(ErrorKind::InvalidArgument, std::string(what) + ": " + std::to_string(n) + " elements of " +
                                                ggml_type_name(type) + " is not a whole number of blocks of " +
                                                std::to_string(be));
  }
}

// The value of largest magnitude, keeping its sign; the first one wins ties, as in ggml.
float signed_absmax(const float* x) {
  float amax = 0.0f;
  float max = 0.0f;
  for (int j = 0; j < kQK; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void min_max(const float* x, float* mn, float* mx) {
  float lo = 3.402823466e+38f;
  float hi = -3.402823466e+38f;
  for (int j = 0; j < kQK; ++j) {
    if (x[j] < lo) lo = x[j];
    if (x[j] > hi) hi = x[j];
  }
  *mn = lo;
  *mx = hi;
}

// Block layouts: q4_0 = d | qs[16]; q4_1 = d | m | qs[16]; q5_0 = d | qh | qs[16];
// q5_1 = d | m | qh | qs[16]; q8_0 = d | int8[32]. In qs, byte j holds element j in its low nibble
// and element j+16 in its high nibble; bit j of qh is bit 4 of element j.

void quantize_q4_0(const float* x, uint8_t* y) {
  const float d = signed_absmax(x) / -8.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  store_u16(y, fp32_to_fp16(d));
  for (int j = 0; j < kQK / 2; ++j) {
    const int lo = trunc_clamp(x[j] * id + 8.5f, 15);
    const int hi = trunc_clamp(x[j + kQK / 2] * id + 8.5f, 15);
    y[2 + j] = static_cast<uint8_t>(lo | (hi << 4));
  }
}

void quantize_q4_1(const float* x, uint8_t* y) {
  float mn, mx;
  min_max(x, &mn, &mx);
  const float d = (mx - mn) / 15.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  store_u16(y, fp32_to_fp16(d));
  store_u16(y + 2, fp32_to_fp16(mn));
  for (int j = 0; j < kQK / 2; ++j) {
    const int lo = trunc_clamp((x[j] - mn) * id + 0.5f, 15);
    const int hi = trunc_clamp((x[j + kQK / 2] - mn) * id + 0.5f, 15);
    y[4 + j] = static_cast<uint8_t>(lo | (hi << 4));
  }
}

// Shared by q5_0 and q5_1: packs 32 five-bit values into qh (at `qh`) and qs (at `qs`).
void pack5(const int* q, uint8_t* qh, uint8_t* qs) {
  uint32_t h = 0;
  for (int j = 0; j < kQK / 2; ++j) {
    qs[j] = static_cast<uint8_t>((q[j] & 0x0F) | ((q[j + kQK / 2] & 0x0F) << 4));
  }
  for (int j = 0; j < kQK; ++j) h |= static_cast<uint32_t>((q[j] >> 4) & 1) << j;
  store_u32(qh, h);
}

void quantize_q5_0(const float* x, uint8_t* y) {
  const float d = signed_absmax(x) / -16.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  store_u16(y, fp32_to_fp16(d));
  int q[kQK];
  for (int j = 0; j < kQK; ++j) q[j] = trunc_clamp(x[j] * id + 16.5f, 31);
  pack5(q, y + 2, y + 6);
}

void quantize_q5_1(const float* x, uint8_t* y) {
  float mn, mx;
  min_max(x, &mn, &mx);
  const float d = (mx - mn) / 31.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  store_u16(y, fp32_to_fp16(d));
  store_u16(y + 2, fp32_to_fp16(mn));
  int q[kQK];
  // ggml does not clamp here; for finite input the value cannot exceed 31 anyway.
  for (int j = 0; j < kQK; ++j) q[j] = trunc_clamp((x[j] - mn) * id + 0.5f, 31);
  pack5(q, y + 4, y + 8);
}

void quantize_q8_0(const float* x, uint8_t* y) {
  float amax = 0.0f;
  for (int j = 0; j < kQK; ++j) amax = std::fmax(amax, std::fabs(x[j]));
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  store_u16(y, fp32_to_fp16(d));
  for (int j = 0; j < kQK; ++j) {
    const float r = std::round(x[j] * id);  // half away from zero, like roundf
    const int q = r >= 127.0f ? 127 : (r >= -128.0f ? static_cast<int>(r) : -128);
    y[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(q));
  }
}

void dequantize_q4_0(const uint8_t* x, float* y) {
  const float d = load_half(x);
  for (int j = 0; j < kQK / 2; ++j) {
    const int lo = (x[2 + j] & 0x0F) - 8;
    const int hi = (x[2 + j] >> 4) - 8;
    y[j] = static_cast<float>(lo) * d;
    y[j + kQK / 2] = static_cast<float>(hi) * d;
  }
}

void dequantize_q4_1(const uint8_t* x, float* y) {
  const float d = load_half(x);
  const float m = load_half(x + 2);
  for (int j = 0; j < kQK / 2; ++j) {
    const int lo = x[4 + j] & 0x0F;
    const int hi = x[4 + j] >> 4;
    // Two roundings (product, then sum) as ggml's reference does; no fused multiply-add.
    const float plo = static_cast<float>(lo) * d;
    const float phi = static_cast<float>(hi) * d;
    y[j] = plo + m;
    y[j + kQK / 2] = phi + m;
  }
}

void unpack5(const uint8_t* qh_bytes, const uint8_t* qs, int* q) {
  const uint32_t qh = load_u32(qh_bytes);
  for (int j = 0; j < kQK / 2; ++j) {
    q[j] = (qs[j] & 0x0F) | static_cast<int>(((qh >> j) & 1u) << 4);
    q[j + kQK / 2] = (qs[j] >> 4) | static_cast<int>(((qh >> (j + kQK / 2)) & 1u) << 4);
  }
}

void dequantize_q5_0(const uint8_t* x, float* y) {
  const float d = load_half(x);
  int q[kQK];
  unpack5(x + 2, x + 6, q);
  for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(q[j] - 16) * d;
}

void dequantize_q5_1(const uint8_t* x, float* y) {
  const float d = load_half(x);
  const float m = load_half(x + 2);
  int q[kQK];
  unpack5(x + 4, x + 8, q);
  for (int j = 0; j < kQK; ++j) {
    const float p = static_cast<float>(q[j]) * d;
    y[j] = p + m;
  }
}

void dequantize_q8_0(const uint8_t* x, float* y) {
  const float d = load_half(x);
  for (int j = 0; j < kQK; ++j) y[j] = static_cast<float>(static_cast<int8_t>(x[2 + j])) * d;
}

}  // namespace

bool is_scaled_int8_type(GgmlType type) {
  return type == GgmlType::Q8_0 || type == GgmlType::Q5_0 || type == GgmlType::Q4_0;
}

bool is_offset_int8_type(GgmlType type) { return type == GgmlType::Q5_1 || type == GgmlType::Q4_1; }

void split_int8_row(GgmlType type, const void* src, int n_blocks, int8_t* q, uint16_t* d, uint16_t* m) {
  const bool offsets = is_offset_int8_type(type);
  if (!offsets && !is_scaled_int8_type(type)) {
    throw Error(ErrorKind::InvalidArgument, std::string("split_int8_row: ") + ggml_type_name(type) +
                                                " weights are not integer quants times a block scale");
  }
  const std::size_t block_bytes = ggml_row_bytes(type, kQK);
  // Every block starts with its f16 scale; q5_1 / q4_1 follow it with their f16 offset.
  const std::size_t quants_at = offsets ? 4 : 2;
  const uint8_t* x = static_cast<const uint8_t*>(src);
  for (int b = 0; b < n_blocks; ++b, x += block_bytes) {
    if (d) d[b] = load_u16(x);
    if (m && offsets) m[b] = load_u16(x + 2);
    if (!q) continue;
    int8_t* qb = q + static_cast<std::size_t>(b) * kQK;
    const uint8_t* qs = x + quants_at;
    if (type == GgmlType::Q8_0) {
      std::memcpy(qb, qs, kQK);
    } else if (type == GgmlType::Q4_0 || type == GgmlType::Q4_1) {
      const int shift = type == GgmlType::Q4_0 ? 8 : 0;
      for (int j = 0; j < kQK / 2; ++j) {
        qb[j] = static_cast<int8_t>((qs[j] & 0x0F) - shift);
        qb[j + kQK / 2] = static_cast<int8_t>((qs[j] >> 4) - shift);
      }
    } else {  // q5_0, q5_1: 4 bytes of high bits, then the low nibbles
      const int shift = type == GgmlType::Q5_0 ? 16 : 0;
      int v[kQK];
      unpack5(qs, qs + 4, v);
      for (int j = 0; j < kQK; ++j) qb[j] = static_cast<int8_t>(v[j] - shift);
    }
  }
}

float fp16_to_fp32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1Fu;
  const uint32_t mant = h & 0x3FFu;
  if (exp == 0x1F) return bits_float(sign | 0x7F800000u | (mant << 13));  // inf, NaN (payload kept)
  if (exp == 0) {
    // Zero or subnormal: mant * 2^-24 is exact in f32.
    const float v = static_cast<float>(mant) * 0x1p-24f;
    return sign ? -v : v;
  }
  return bits_float(sign | ((exp + (127 - 15)) << 23) | (mant << 13));
}

uint16_t fp32_to_fp16(float f) {
  const uint32_t x = float_bits(f);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const uint32_t a = x & 0x7FFFFFFFu;
  if (a > 0x7F800000u) {
    // NaN: quiet it and keep the top payload bits, as x86's F16C conversion does.
    return static_cast<uint16_t>(sign | 0x7E00u | ((a >> 13) & 0x3FFu));
  }
  if (a >= 0x47800000u) return static_cast<uint16_t>(sign | 0x7C00u);  // >= 65536 (and inf): overflow
  if (a >= 0x38800000u) {
    // Normal half range (>= 2^-14). Rounding may carry into the exponent, up to infinity; the
    // encoding makes that carry come out right.
    const uint32_t e = (a >> 23) - (127 - 15);
    uint32_t h = (e << 10) | ((a >> 13) & 0x3FFu);
    const uint32_t rest = a & 0x1FFFu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) ++h;
    return static_cast<uint16_t>(sign | h);
  }
  // Subnormal half (or zero): value / 2^-24 rounded to nearest even.
  const uint32_t e = a >> 23;
  if (e < 102) return sign;  // below 2^-25: rounds to zero (2^-25 itself is a tie to even zero)
  const uint32_t m = (a & 0x7FFFFFu) | 0x800000u;
  const uint32_t shift = 126 - e;  // 14..24
  uint32_t h = m >> shift;
  const uint32_t rest = m & ((1u << shift) - 1u);
  const uint32_t half = 1u << (shift - 1);
  if (rest > half || (rest == half && (h & 1u))) ++h;  // may become the smallest normal, correctly
  return static_cast<uint16_t>(sign | h);
}

void dequantize_row(GgmlType type, const void* src, float* dst, int64_t n) {
  check_block_multiple(type, n, "dequantize_row");
  const uint8_t* p = static_cast<const uint8_t*>(src);
  switch (type) {
    case GgmlType::F32:
      std::memcpy(dst, p, static_cast<std::size_t>(n) * sizeof(float));
      return;
    case GgmlType::F16:
      for (int64_t i = 0; i < n; ++i) dst[i] = load_half(p + 2 * i);
      return;
    default:
      break;
  }
  void (*block)(const uint8_t*, float*) = nullptr;
  switch (type) {
    case GgmlType::Q4_0: block = dequantize_q4_0; break;
    case GgmlType::Q4_1: block = dequantize_q4_1; break;
    case GgmlType::Q5_0: block = dequantize_q5_0; break;
    case GgmlType::Q5_1: block = dequantize_q5_1; break;
    case GgmlType::Q8_0: block = dequantize_q8_0; break;
    default:
      throw Error(ErrorKind::Internal, "dequantize_row: unhandled type " + std::to_string(static_cast<int>(type)));
  }
  const int bb = ggml_block_bytes(type);
  for (int64_t b = 0; b < n / kQK; ++b) block(p + b * bb, dst + b * kQK);
}

void quantize_row(GgmlType type, const float* src, void* dst, int64_t n) {
  check_block_multiple(type, n, "quantize_row");
  uint8_t* p = static_cast<uint8_t*>(dst);
  switch (type) {
    case GgmlType::F32:
      std::memcpy(p, src, static_cast<std::size_t>(n) * sizeof(float));
      return;
    case GgmlType::F16:
      for (int64_t i = 0; i < n; ++i) store_u16(p + 2 * i, fp32_to_fp16(src[i]));
      return;
    default:
      break;
  }
  void (*block)(const float*, uint8_t*) = nullptr;
  switch (type) {
    case GgmlType::Q4_0: block = quantize_q4_0; break;
    case GgmlType::Q4_1: block = quantize_q4_1; break;
    case GgmlType::Q5_0: block = quantize_q5_0; break;
    case GgmlType::Q5_1: block = quantize_q5_1; break;
    case GgmlType::Q8_0: block = quantize_q8_0; break;
    default:
      throw Error(ErrorKind::Internal, "quantize_row: unhandled type " + std::to_string(static_cast<int>(type)));
  }
  const int bb = ggml_block_bytes(type);
  for (int64_t b = 0; b < n / kQK; ++b) block(src + b * kQK, p + b * bb);
}

}  // namespace npw
