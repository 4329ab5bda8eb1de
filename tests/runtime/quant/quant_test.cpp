// The block codecs against the ggml format written out by hand: each type has a reference decoder here
// that extracts the bits itself (nothing shared with quant.cpp but fp16 decoding, which fp16_test.cpp
// covers), and dequantize_row must match it bit for bit on blocks that quantize_row wrote from random
// and edge-case inputs. Quantisation error is then bounded per type.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "model/quant.h"
#include "util/error.h"

namespace npw {
namespace {

constexpr GgmlType kAllTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::Q4_0, GgmlType::Q4_1,
                                  GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0};
constexpr GgmlType kBlockTypes[] = {GgmlType::Q4_0, GgmlType::Q4_1, GgmlType::Q5_0, GgmlType::Q5_1,
                                    GgmlType::Q8_0};

float half_at(const uint8_t* p) { return fp16_to_fp32(static_cast<uint16_t>(p[0] | (p[1] << 8))); }

// 4-bit code of element e (0..31) from 16 nibble bytes: elements 0..15 low nibbles, 16..31 high.
int nibble(const uint8_t* qs, int e) { return e < 16 ? (qs[e] & 0xF) : (qs[e - 16] >> 4); }

// Bit e of the little-endian 32-bit word at qh.
int high_bit(const uint8_t* qh, int e) { return (qh[e / 8] >> (e % 8)) & 1; }

// Reference decoder of one row, from the format definition.
std::vector<float> reference_decode(GgmlType t, const std::vector<uint8_t>& bytes, int64_t n) {
  std::vector<float> out(static_cast<size_t>(n));
  const uint8_t* p = bytes.data();
  switch (t) {
    case GgmlType::F32:
      std::memcpy(out.data(), p, static_cast<size_t>(n) * 4);
      return out;
    case GgmlType::F16:
      for (int64_t i = 0; i < n; ++i) out[i] = half_at(p + 2 * i);
      return out;
    default:
      break;
  }
  for (int64_t b = 0; b < n / 32; ++b) {
    float* y = out.data() + b * 32;
    switch (t) {
      case GgmlType::Q4_0: {
        const uint8_t* blk = p + b * 18;
        const float d = half_at(blk);
        for (int e = 0; e < 32; ++e) y[e] = static_cast<float>(nibble(blk + 2, e) - 8) * d;
        break;
      }
      case GgmlType::Q4_1: {
        const uint8_t* blk = p + b * 20;
        const float d = half_at(blk), m = half_at(blk + 2);
        for (int e = 0; e < 32; ++e) {
          const float prod = static_cast<float>(nibble(blk + 4, e)) * d;
          y[e] = prod + m;
        }
        break;
      }
      case GgmlType::Q5_0: {
        const uint8_t* blk = p + b * 22;
        const float d = half_at(blk);
        for (int e = 0; e < 32; ++e) {
          const int q = nibble(blk + 6, e) + 16 * high_bit(blk + 2, e);
          y[e] = static_cast<float>(q - 16) * d;
        }
        break;
      }
      case GgmlType::Q5_1: {
        const uint8_t* blk = p + b * 24;
        const float d = half_at(blk), m = half_at(blk + 2);
        for (int e = 0; e < 32; ++e) {
          const int q = nibble(blk + 8, e) + 16 * high_bit(blk + 4, e);
          const float prod = static_cast<float>(q) * d;
          y[e] = prod + m;
        }
        break;
      }
      case GgmlType::Q8_0: {
        const uint8_t* blk = p + b * 34;
        const float d = half_at(blk);
        for (int e = 0; e < 32; ++e) {
          const int q = blk[2 + e] < 128 ? blk[2 + e] : blk[2 + e] - 256;
          y[e] = static_cast<float>(q) * d;
        }
        break;
      }
      default:
        ADD_FAILURE() << "no reference for type";
    }
  }
  return out;
}

std::vector<uint8_t> encode(GgmlType t, const std::vector<float>& x) {
  std::vector<uint8_t> bytes(ggml_row_bytes(t, static_cast<int64_t>(x.size())) + 7, 0xA5);
  quantize_row(t, x.data(), bytes.data(), static_cast<int64_t>(x.size()));
  // The writer must stay inside ggml_row_bytes.
  for (size_t i = bytes.size() - 7; i < bytes.size(); ++i) EXPECT_EQ(bytes[i], 0xA5) << "wrote past the row";
  bytes.resize(bytes.size() - 7);
  return bytes;
}

void expect_same_bits(const std::vector<float>& a, const std::vector<float>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) && std::isnan(b[i])) continue;
    uint32_t ua, ub;
    std::memcpy(&ua, &a[i], 4);
    std::memcpy(&ub, &b[i], 4);
    ASSERT_EQ(ua, ub) << what << " element " << i << ": " << a[i] << " vs " << b[i];
  }
}

// Edge-case rows, 32 elements each, concatenated.
std::vector<std::vector<float>> edge_blocks() {
  std::vector<std::vector<float>> blocks;
  blocks.push_back(std::vector<float>(32, 0.0f));
  blocks.push_back(std::vector<float>(32, 0.75f));
  blocks.push_back(std::vector<float>(32, -3.0f));
  blocks.push_back(std::vector<float>(32, -0.0f));
  {
    std::vector<float> b(32);
    for (int i = 0; i < 32; ++i) b[i] = (i % 2 ? 1.0f : -1.0f) * std::ldexp(1.0f, (i % 16) - 8);  // 2^-8 .. 2^7
    b[5] = 6.0e4f;  // scales near the top of the half range
    b[9] = -1.0e-6f;
    blocks.push_back(b);
  }
  {
    std::vector<float> b(32);
    for (int i = 0; i < 32; ++i) b[i] = 0.01f * static_cast<float>(i);
    b[20] = -5.0f;  // largest magnitude is negative: d > 0 for the symmetric types
    blocks.push_back(b);
  }
  {
    // +max and -max together: the symmetric types clamp -max (code 16 / 32) to the top code.
    std::vector<float> b(32);
    for (int i = 0; i < 32; ++i) b[i] = 0.1f * static_cast<float>(i % 7) - 0.3f;
    b[0] = 2.0f;
    b[31] = -2.0f;
    b[16] = 2.0f;
    b[15] = -2.0f;
    blocks.push_back(b);
  }
  {
    std::vector<float> b(32);
    for (int i = 0; i < 32; ++i) b[i] = static_cast<float>(i - 16) * 0.5f;  // exactly on the grid
    blocks.push_back(b);
  }
  {
    std::vector<float> b(32, 1.0e-30f);  // scale underflows to a half zero
    b[3] = -2.0e-30f;
    blocks.push_back(b);
  }
  {
    std::vector<float> b(32, 1000.0f);  // offset far from zero with a tiny spread
    for (int i = 0; i < 32; ++i) b[i] += 0.001f * static_cast<float>(i);
    blocks.push_back(b);
  }
  return blocks;
}

std::vector<float> random_row(std::mt19937& rng, int64_t n, float scale) {
  std::normal_distribution<float> dist(0.0f, scale);
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) v = dist(rng);
  return x;
}

TEST(Quant, DequantizeMatchesReferenceOnRandomRows) {
  std::mt19937 rng(1234);
  for (GgmlType t : kAllTypes) {
    for (float scale : {1e-4f, 0.05f, 1.0f, 300.0f}) {
      const auto x = random_row(rng, 32 * 64, scale);
      const auto bytes = encode(t, x);
      std::vector<float> got(x.size());
      dequantize_row(t, bytes.data(), got.data(), static_cast<int64_t>(x.size()));
      expect_same_bits(got, reference_decode(t, bytes, static_cast<int64_t>(x.size())),
                       std::string(ggml_type_name(t)) + " scale " + std::to_string(scale));
    }
  }
}

TEST(Quant, DequantizeMatchesReferenceOnEdgeBlocks) {
  for (GgmlType t : kAllTypes) {
    int k = 0;
    for (const auto& x : edge_blocks()) {
      const auto bytes = encode(t, x);
      std::vector<float> got(32);
      dequantize_row(t, bytes.data(), got.data(), 32);
      expect_same_bits(got, reference_decode(t, bytes, 32),
                       std::string(ggml_type_name(t)) + " edge block " + std::to_string(k++));
    }
  }
}

// Arbitrary bytes (every code, every qh bit pattern) decode like the reference too; the decoder must
// not depend on the quantiser having produced them.
TEST(Quant, DequantizeMatchesReferenceOnArbitraryBytes) {
  std::mt19937 rng(99);
  for (GgmlType t : kBlockTypes) {
    std::vector<uint8_t> bytes(ggml_row_bytes(t, 32 * 256));
    for (auto& b : bytes) b = static_cast<uint8_t>(rng());
    // Keep scales finite and modest so that the comparison is about the codes.
    for (size_t off = 0; off < bytes.size(); off += static_cast<size_t>(ggml_block_bytes(t))) {
      bytes[off + 1] = static_cast<uint8_t>(bytes[off + 1] & 0xBF);
      if (t == GgmlType::Q4_1 || t == GgmlType::Q5_1) bytes[off + 3] = static_cast<uint8_t>(bytes[off + 3] & 0xBF);
    }
    std::vector<float> got(32 * 256);
    dequantize_row(t, bytes.data(), got.data(), 32 * 256);
    expect_same_bits(got, reference_decode(t, bytes, 32 * 256), ggml_type_name(t));
  }
}

// Hand-worked blocks pin down the quantisers' conventions (sign of d, offsets, nibble and qh layout).
TEST(Quant, KnownBlocks) {
  std::vector<float> x(32);
  for (int i = 0; i < 32; ++i) x[i] = static_cast<float>(i - 16) * 0.5f;  // -8 .. 7.5
  {
    // max magnitude is -8 (element 0): d = -8/-8 = 1, code = trunc(x + 8.5).
    const auto b = encode(GgmlType::Q4_0, x);
    EXPECT_EQ(b[0], 0x00);
    EXPECT_EQ(b[1], 0x3C);  // d = 1.0
    for (int i = 0; i < 32; ++i) EXPECT_EQ(nibble(&b[2], i), std::min(15, static_cast<int>(x[i] + 8.5f))) << i;
    EXPECT_EQ(nibble(&b[2], 0), 0);
    EXPECT_EQ(nibble(&b[2], 31), 15);  // 7.5 + 8.5 = 16 clamps
  }
  {
    // d = -8/-16 = 0.5, code = trunc(2x + 16.5) = i exactly.
    const auto b = encode(GgmlType::Q5_0, x);
    EXPECT_EQ(half_at(&b[0]), 0.5f);
    for (int i = 0; i < 32; ++i) EXPECT_EQ(nibble(&b[6], i) + 16 * high_bit(&b[2], i), i) << i;
    EXPECT_EQ(b[2] | (b[3] << 8), 0);  // elements 0..15 have codes < 16
    EXPECT_EQ(b[4], 0xFF);
    EXPECT_EQ(b[5], 0xFF);
  }
  {
    // min -8, max 7.5: d = 15.5/31 = 0.5, m = -8, code = i.
    const auto b = encode(GgmlType::Q5_1, x);
    EXPECT_EQ(half_at(&b[0]), 0.5f);
    EXPECT_EQ(half_at(&b[2]), -8.0f);
    for (int i = 0; i < 32; ++i) EXPECT_EQ(nibble(&b[8], i) + 16 * high_bit(&b[4], i), i) << i;
  }
  {
    // d = 15.5/15, code = trunc((x+8)/d + 0.5).
    const auto b = encode(GgmlType::Q4_1, x);
    EXPECT_EQ(half_at(&b[2]), -8.0f);
    EXPECT_EQ(nibble(&b[4], 0), 0);
    EXPECT_EQ(nibble(&b[4], 31), 15);
    EXPECT_EQ(nibble(&b[4], 16), 8);  // x = 0: 8 * 15/15.5 + 0.5 = 8.24
  }
  {
    // amax 8: d = 8/127, code = round(x * 127/8), halves away from zero.
    const auto b = encode(GgmlType::Q8_0, x);
    EXPECT_EQ(static_cast<int8_t>(b[2]), -127);
    EXPECT_EQ(static_cast<int8_t>(b[2 + 16]), 0);
    EXPECT_EQ(static_cast<int8_t>(b[2 + 31]), 119);  // 7.5 * 15.875 = 119.06
    EXPECT_EQ(static_cast<int8_t>(b[2 + 17]), 8);    // 0.5 * 15.875 = 7.94
  }
  {
    const std::vector<float> zeros(32, 0.0f);
    for (GgmlType t : kBlockTypes) {
      const auto b = encode(t, zeros);
      std::vector<float> y(32, 1.0f);
      dequantize_row(t, b.data(), y.data(), 32);
      for (float v : y) EXPECT_EQ(v, 0.0f) << ggml_type_name(t);
    }
  }
}

// Per element: within half a step (a whole step where the symmetric types clamp -max) plus what storing
// the scale and minimum as halves costs. Over random rows: RMS error close to step/sqrt(12).
struct Bound {
  float per_step;   // allowed |error| in units of the block's step d
  float rms_ratio;  // allowed RMS error / RMS of the data, for N(0, s) rows
};

Bound bound_for(GgmlType t) {
  switch (t) {
    case GgmlType::Q4_0: return {1.01f, 0.10f};
    case GgmlType::Q4_1: return {0.51f, 0.10f};
    case GgmlType::Q5_0: return {1.01f, 0.05f};
    case GgmlType::Q5_1: return {0.51f, 0.05f};
    case GgmlType::Q8_0: return {0.57f, 0.008f};
    default: return {0.0f, 0.0f};
  }
}

TEST(Quant, ErrorIsBounded) {
  std::mt19937 rng(7);
  for (GgmlType t : kBlockTypes) {
    const Bound bound = bound_for(t);
    std::vector<std::vector<float>> rows = edge_blocks();
    for (int r = 0; r < 200; ++r) rows.push_back(random_row(rng, 32, r % 2 ? 0.05f : 2.0f));
    double err2 = 0, sig2 = 0;
    for (size_t r = 0; r < rows.size(); ++r) {
      const auto& x = rows[r];
      const auto b = encode(t, x);
      std::vector<float> y(32);
      dequantize_row(t, b.data(), y.data(), 32);
      float amax = 0, mn = x[0], mx = x[0];
      for (float v : x) {
        amax = std::max(amax, std::fabs(v));
        mn = std::min(mn, v);
        mx = std::max(mx, v);
      }
      float step;
      switch (t) {
        case GgmlType::Q4_0: step = amax / 8; break;
        case GgmlType::Q4_1: step = (mx - mn) / 15; break;
        case GgmlType::Q5_0: step = amax / 16; break;
        case GgmlType::Q5_1: step = (mx - mn) / 31; break;
        default: step = amax / 127; break;
      }
      // Storing d and the minimum as halves: each adds up to 2^-11 relative to what it multiplies/adds.
      // Halves also have an absolute resolution of 2^-25 near zero (a tiny d may even become 0).
      const float slack = 32 * (step * 0x1p-11f + 0x1p-25f) + std::fabs(mn) * 0x1p-11f + 0x1p-25f + amax * 1e-6f;
      for (int i = 0; i < 32; ++i) {
        const float err = std::fabs(y[i] - x[i]);
        ASSERT_LE(err, bound.per_step * step + slack)
            << ggml_type_name(t) << " row " << r << " element " << i << ": " << x[i] << " -> " << y[i];
        if (r >= edge_blocks().size()) {
          err2 += static_cast<double>(err) * err;
          sig2 += static_cast<double>(x[i]) * x[i];
        }
      }
    }
    EXPECT_LE(std::sqrt(err2 / sig2), bound.rms_ratio) << ggml_type_name(t);
  }
}

TEST(Quant, F16RowErrorIsHalfAnUlp) {
  std::mt19937 rng(3);
  const auto x = random_row(rng, 4096, 1.0f);
  const auto b = encode(GgmlType::F16, x);
  std::vector<float> y(x.size());
  dequantize_row(GgmlType::F16, b.data(), y.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) {
    const float ulp = std::fabs(x[i]) >= 0x1p-14f ? std::ldexp(1.0f, std::ilogb(x[i]) - 10) : 0x1p-24f;
    ASSERT_LE(std::fabs(y[i] - x[i]), ulp / 2) << x[i];
  }
}

TEST(Quant, F32RowIsCopiedExactly) {
  std::vector<float> x = {1.0f, -0.0f, 3.25e-40f, INFINITY};
  const auto b = encode(GgmlType::F32, x);
  std::vector<float> y(4);
  dequantize_row(GgmlType::F32, b.data(), y.data(), 4);
  expect_same_bits(y, x, "f32");
}

TEST(Quant, UnalignedSourceDecodes) {
  std::mt19937 rng(5);
  for (GgmlType t : kAllTypes) {
    const auto x = random_row(rng, 64, 1.0f);
    const auto bytes = encode(t, x);
    std::vector<uint8_t> shifted(bytes.size() + 1);
    std::memcpy(shifted.data() + 1, bytes.data(), bytes.size());
    std::vector<float> a(64), b(64);
    dequantize_row(t, bytes.data(), a.data(), 64);
    dequantize_row(t, shifted.data() + 1, b.data(), 64);
    expect_same_bits(a, b, ggml_type_name(t));
  }
}

TEST(Quant, PartialBlocksAreRejected) {
  std::vector<float> x(48, 0.0f);
  std::vector<uint8_t> buf(256);
  for (GgmlType t : kBlockTypes) {
    EXPECT_THROW(quantize_row(t, x.data(), buf.data(), 48), Error) << ggml_type_name(t);
    EXPECT_THROW(dequantize_row(t, buf.data(), x.data(), 40), Error) << ggml_type_name(t);
  }
  EXPECT_NO_THROW(quantize_row(GgmlType::F16, x.data(), buf.data(), 48));
}

// q8_0, q5_0 and q4_0 split into int8 quants and widened scales: each weight is quant x scale bit for
// bit as dequantize_row gives it, the quants within the type's range, every output optional, no
// offsets written; floats are refused.
TEST(SplitScaledInt8, QuantTimesScaleIsTheDequantisedWeight) {
  std::mt19937 rng(41);
  const int n_blocks = 7, n = n_blocks * 32;
  std::vector<float> x = random_row(rng, n, 2.0f);
  x[5] = 0.0f;
  for (int b = 0; b < 32; ++b) x[32 + b] = 0.0f;  // an all-zero block: scale 0
  struct Case {
    GgmlType type;
    int lo, hi;
  };
  for (const Case c : {Case{GgmlType::Q8_0, -128, 127}, Case{GgmlType::Q5_0, -16, 15}, Case{GgmlType::Q4_0, -8, 7}}) {
    EXPECT_TRUE(is_scaled_int8_type(c.type));
    std::vector<uint8_t> bytes(ggml_row_bytes(c.type, n));
    quantize_row(c.type, x.data(), bytes.data(), n);
    std::vector<float> want(n);
    dequantize_row(c.type, bytes.data(), want.data(), n);
    std::vector<int8_t> q(n, 99), q_only(n, 99);
    std::vector<uint16_t> d(n_blocks, 0xBC00), d_only(n_blocks, 0xBC00);
    split_int8_row(c.type, bytes.data(), n_blocks, q.data(), d.data(), nullptr);
    split_int8_row(c.type, bytes.data(), n_blocks, q_only.data(), nullptr, nullptr);
    split_int8_row(c.type, bytes.data(), n_blocks, nullptr, d_only.data(), nullptr);
    EXPECT_EQ(q, q_only) << ggml_type_name(c.type);
    EXPECT_EQ(d, d_only) << ggml_type_name(c.type);
    int lo = 0, hi = 0;
    for (int i = 0; i < n; ++i) {
      const float got = static_cast<float>(q[i]) * fp16_to_fp32(d[i / 32]);
      ASSERT_EQ(std::memcmp(&got, &want[i], sizeof got), 0) << ggml_type_name(c.type) << " weight " << i;
      lo = std::min<int>(lo, q[i]);
      hi = std::max<int>(hi, q[i]);
    }
    EXPECT_GE(lo, c.lo) << ggml_type_name(c.type);
    EXPECT_LE(hi, c.hi) << ggml_type_name(c.type);
    EXPECT_LT(lo, 0) << ggml_type_name(c.type);  // signed quants, not the stored unsigned nibbles
    EXPECT_EQ(fp16_to_fp32(d[1]), 0.0f) << ggml_type_name(c.type);
    // The file's halves as they are: the block's first two bytes.
    for (int b = 0; b < n_blocks; ++b) {
      uint16_t h;
      std::memcpy(&h, bytes.data() + static_cast<std::size_t>(b) * ggml_row_bytes(c.type, 32), 2);
      EXPECT_EQ(d[b], h) << ggml_type_name(c.type) << " block " << b;
    }
    // These types have no offsets: an offsets output is left as it was.
    std::vector<uint16_t> m(n_blocks, 0xC500);
    split_int8_row(c.type, bytes.data(), n_blocks, nullptr, nullptr, m.data());
    EXPECT_EQ(m, std::vector<uint16_t>(n_blocks, 0xC500)) << ggml_type_name(c.type);
  }
  std::vector<uint8_t> bytes(ggml_row_bytes(GgmlType::F32, n));
  std::vector<int8_t> q(n);
  for (GgmlType t : {GgmlType::Q5_1, GgmlType::Q4_1, GgmlType::F16, GgmlType::F32}) EXPECT_FALSE(is_scaled_int8_type(t));
  for (GgmlType t : {GgmlType::F16, GgmlType::F32}) {
    EXPECT_THROW(split_int8_row(t, bytes.data(), 1, q.data(), nullptr, nullptr), Error) << ggml_type_name(t);
  }
}

// q5_1 and q4_1 split into unsigned quants, scales and offsets: quant x scale + offset is the
// dequantised weight bit for bit, as one FMA too (the product is exact).
TEST(SplitOffsetInt8, QuantTimesScalePlusOffsetIsTheDequantisedWeight) {
  std::mt19937 rng(43);
  const int n_blocks = 6, n = n_blocks * 32;
  std::vector<float> x = random_row(rng, n, 3.0f);
  for (float& v : x) v += 0.5f;  // off centre, so that the blocks' offsets matter
  struct Case {
    GgmlType type;
    int hi;
  };
  for (const Case c : {Case{GgmlType::Q5_1, 31}, Case{GgmlType::Q4_1, 15}}) {
    EXPECT_TRUE(is_offset_int8_type(c.type));
    EXPECT_FALSE(is_scaled_int8_type(c.type));
    std::vector<uint8_t> bytes(ggml_row_bytes(c.type, n));
    quantize_row(c.type, x.data(), bytes.data(), n);
    std::vector<float> want(n);
    dequantize_row(c.type, bytes.data(), want.data(), n);
    std::vector<int8_t> q(n, -1);
    std::vector<uint16_t> d(n_blocks), m(n_blocks), m_only(n_blocks);
    split_int8_row(c.type, bytes.data(), n_blocks, q.data(), d.data(), m.data());
    split_int8_row(c.type, bytes.data(), n_blocks, nullptr, nullptr, m_only.data());
    EXPECT_EQ(m, m_only);
    int hi = 0;
    for (int i = 0; i < n; ++i) {
      ASSERT_GE(q[i], 0) << ggml_type_name(c.type);
      hi = std::max<int>(hi, q[i]);
      const float di = fp16_to_fp32(d[i / 32]), mi = fp16_to_fp32(m[i / 32]);
      const float got = static_cast<float>(q[i]) * di + mi;
      const float fused = std::fma(static_cast<float>(q[i]), di, mi);
      ASSERT_EQ(std::memcmp(&got, &want[i], sizeof got), 0) << ggml_type_name(c.type) << " weight " << i;
      ASSERT_EQ(std::memcmp(&fused, &want[i], sizeof got), 0) << ggml_type_name(c.type) << " weight " << i;
    }
    EXPECT_LE(hi, c.hi);
    EXPECT_GT(hi, c.hi / 2) << ggml_type_name(c.type);  // the high bit of q5_1's quants is read
  }
  for (GgmlType t : {GgmlType::Q8_0, GgmlType::Q5_0, GgmlType::Q4_0, GgmlType::F16, GgmlType::F32}) {
    EXPECT_FALSE(is_offset_int8_type(t)) << ggml_type_name(t);
  }
}

}  // namespace
}  // namespace npw
