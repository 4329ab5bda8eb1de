// Each piece of word timing on crafted input with a known answer: the median filter at the edges,
// DTW paths and the reference's tie-breaking (including ties that exist only in float32), the
// alignment-head presets and settings, word splitting on mixed scripts and invalid UTF-8, and
// punctuation merging.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "decode/alignment_heads.h"
#include "decode/column_norm.h"
#include "decode/dtw.h"
#include "decode/median_filter.h"
#include "decode/punctuation_merge.h"
#include "decode/tokenizer.h"
#include "decode/word_split.h"
#include "model/random_model.h"
#include "model/vocab.h"
#include "util/cpu_features.h"
#include "util/error.h"

namespace npw {
namespace {

// ---- median filter -------------------------------------------------------------------------

TEST(MedianFilter, ReflectPaddingAtTheEdges) {
  std::vector<float> x = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  std::vector<float> scratch(32);
  median_filter_rows(x.data(), 1, 10, 10, 7, scratch.data());
  // Padded as 3 2 1 | 0 .. 9 | 8 7 6: the edge sample is not repeated.
  EXPECT_EQ(x, (std::vector<float>{2, 2, 2, 3, 4, 5, 6, 7, 7, 7}));
}

TEST(MedianFilter, RemovesASpikeAndKeepsRowsApart) {
  std::vector<float> x = {0, 0, 0, 10, 0, 0, 0, 0,  //
                          5, 5, 5, 5, 5, 5, 5, 5};
  std::vector<float> scratch(32);
  median_filter_rows(x.data(), 2, 8, 8, 7, scratch.data());
  for (int i = 0; i < 8; ++i) EXPECT_EQ(x[i], 0.0f) << i;
  for (int i = 8; i < 16; ++i) EXPECT_EQ(x[i], 5.0f) << i;
}

TEST(MedianFilter, ShortRowsAreLeftAsTheyAre) {
  std::vector<float> x = {3, 1, 2};  // n <= width / 2: F.pad could not reflect, the reference returns x
  std::vector<float> scratch(32);
  median_filter_rows(x.data(), 1, 3, 3, 7, scratch.data());
  EXPECT_EQ(x, (std::vector<float>{3, 1, 2}));
  std::vector<float> y = {3, 1, 2, 0};  // n = 4: reflected to 2 1 3 | 3 1 2 0 | 2 1 3... pad 3 of 4
  median_filter_rows(y.data(), 1, 4, 4, 7, scratch.data());
  // windows: [0 2 1 3 1 2 0]->1, [2 1 3 1 2 0 2]->2, [1 3 1 2 0 2 1]->1, [3 1 2 0 2 1 3]->2
  EXPECT_EQ(y, (std::vector<float>{1, 2, 1, 2}));
}

TEST(MedianFilter, EvenWidthIsRefused) {
  std::vector<float> x(8), scratch(32);
  EXPECT_THROW(median_filter_rows(x.data(), 1, 8, 8, 6, scratch.data()), Error);
}

TEST(MedianFilter, TheWidth7NetworkGivesTheMiddleOfEveryOrder) {
  // A comparator network sorts every input iff it sorts every 0/1 input; and every order of 7
  // distinct values must give the 4th smallest.
  for (int bits = 0; bits < 128; ++bits) {
    float w[7];
    int ones = 0;
    for (int i = 0; i < 7; ++i) ones += (w[i] = static_cast<float>((bits >> i) & 1)) > 0;
    float m = -1;
    median7_network(w, &m);
    EXPECT_EQ(m, ones >= 4 ? 1.0f : 0.0f) << bits;
  }
  std::vector<float> p = {-3.5f, -1, 0, 0.25f, 2, 7, 1e30f};
  do {
    float m = 0;
    median7_network(p.data(), &m);
    ASSERT_EQ(m, 0.25f);
  } while (std::next_permutation(p.begin(), p.end()));
}

// Rows of n values with many ties and one NaN at `at` in the second row, filtered with median_filter_rows
// at the active level, against sorting each reflected window with NaN last (torch's order).
void expect_width7_sorted_with_nan_last(std::mt19937& rng, int n, int at) {
  std::uniform_int_distribution<int> small(-3, 3);  // many ties
  std::vector<float> x(static_cast<std::size_t>(2 * n));
  for (float& v : x) v = static_cast<float>(small(rng)) * 0.5f;
  x[static_cast<std::size_t>(n + at)] = NAN;
  std::vector<float> want = x;
  for (int r = 0; r < 2; ++r) {
    const float* row = x.data() + static_cast<std::size_t>(r) * n;
    std::vector<float> padded;
    for (int i = 3; i >= 1; --i) padded.push_back(row[i]);
    padded.insert(padded.end(), row, row + n);
    for (int i = 0; i < 3; ++i) padded.push_back(row[n - 2 - i]);
    for (int i = 0; i < n; ++i) {
      std::vector<float> w(padded.begin() + i, padded.begin() + i + 7);
      std::sort(w.begin(), w.end(), [](float a, float b) { return !std::isnan(a) && (std::isnan(b) || a < b); });
      want[static_cast<std::size_t>(r) * n + i] = w[3];
    }
  }
  std::vector<float> scratch(static_cast<std::size_t>(n) + 7);
  median_filter_rows(x.data(), 2, n, n, 7, scratch.data());
  const char* level = simd_level_name(active_simd_level());
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (std::isnan(want[i])) {
      EXPECT_TRUE(std::isnan(x[i])) << level << ", " << n << " values, NaN at " << at << ", " << i;
    } else {
      EXPECT_EQ(x[i], want[i]) << level << ", " << n << " values, NaN at " << at << ", " << i;
    }
  }
}

TEST(MedianFilter, Width7MatchesSortingEachWindowWithNaNLast) {
  // At every level, each finding the NaN wherever it is (the vector tests' tails included) and
  // sending its row to the general path.
  std::mt19937 rng(7);
  const SimdLevel saved = active_simd_level();
  for (SimdLevel l : {SimdLevel::Scalar, SimdLevel::Avx2, SimdLevel::Avx512}) {
    if (static_cast<int>(l) > static_cast<int>(cpu_simd_level())) continue;
    set_active_simd_level(l);
    for (int n : {4, 5, 7, 8, 9, 17, 31, 33, 100})
      for (int at : {0, n / 2, n - 1}) expect_width7_sorted_with_nan_last(rng, n, at);
  }
  set_active_simd_level(saved);
}

TEST(MedianFilter, Width7GivesTheScalarNetworksBitsAtEveryLevel) {
  // The vector paths take 8 or 16 outputs at once: rows of every length around those, with ties
  // between +0 and -0 (where min/max operand order decides the sign), against the scalar network.
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> pick(-4, 4);
  const SimdLevel saved = active_simd_level();
  for (int n : {4, 5, 7, 8, 9, 15, 16, 17, 23, 31, 32, 33, 47, 100, 1500}) {
    std::vector<float> x(static_cast<std::size_t>(3 * n));
    for (float& v : x) {
      const int k = pick(rng);
      v = k == 0 ? 0.0f : k == 1 ? -0.0f : static_cast<float>(k) * 0.25f;
    }
    std::vector<float> scratch(static_cast<std::size_t>(n) + 7);
    set_active_simd_level(SimdLevel::Scalar);
    std::vector<float> want = x;
    median_filter_rows(want.data(), 3, n, n, 7, scratch.data());
    for (SimdLevel l : {SimdLevel::Avx2, SimdLevel::Avx512}) {
      if (static_cast<int>(l) > static_cast<int>(cpu_simd_level())) continue;
      set_active_simd_level(l);
      std::vector<float> got = x;
      median_filter_rows(got.data(), 3, n, n, 7, scratch.data());
      EXPECT_EQ(std::memcmp(got.data(), want.data(), got.size() * sizeof(float)), 0)
          << simd_level_name(l) << ", rows of " << n;
    }
  }
  set_active_simd_level(saved);
}

// ---- frame-wise normalisation ---------------------------------------------------------------

TEST(ColumnNorm, EveryLevelGivesTheReferenceBits) {
  // Softmax-like rows (small positive values), frame counts around the vector widths, one frame where
  // every position is equal (no spread: 0 / 0, NaN as the reference gives), and a kept block of rows
  // that starts past the first.
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(0.0f, 0.01f);
  const SimdLevel saved = active_simd_level();
  for (int f : {1, 3, 4, 7, 8, 9, 17, 31, 32, 33, 40, 63, 65, 1500}) {
    const int n = 105, ld = f + 3, first = 3, rows = 101;
    std::vector<float> x(static_cast<std::size_t>(n) * ld);
    for (float& v : x) v = u(rng);
    for (int r = 0; r < n; ++r) x[static_cast<std::size_t>(r) * ld + f / 2] = 0.25f;
    // What it computes, written out.
    std::vector<float> want(static_cast<std::size_t>(rows) * f);
    for (int j = 0; j < f; ++j) {
      double m = 0.0, v = 0.0;
      for (int r = 0; r < n; ++r) m += x[static_cast<std::size_t>(r) * ld + j];
      m /= n;
      for (int r = 0; r < n; ++r) {
        const double d = static_cast<double>(x[static_cast<std::size_t>(r) * ld + j]) - m;
        v += d * d;
      }
      const double is = 1.0 / std::sqrt(v / n);
      for (int r = 0; r < rows; ++r)
        want[static_cast<std::size_t>(r) * f + j] = static_cast<float>((x[static_cast<std::size_t>(first + r) * ld + j] - m) * is);
    }
    for (SimdLevel l : {SimdLevel::Scalar, SimdLevel::Avx2, SimdLevel::Avx512}) {
      if (static_cast<int>(l) > static_cast<int>(cpu_simd_level())) continue;
      set_active_simd_level(l);
      std::vector<float> got(want.size(), -1.0f);
      std::vector<double> mean(static_cast<std::size_t>(f)), inv_std(static_cast<std::size_t>(f));
      normalize_columns(x.data(), n, f, ld, first, rows, got.data(), f, mean.data(), inv_std.data());
      for (std::size_t i = 0; i < got.size(); ++i) {
        if (std::isnan(want[i])) {
          ASSERT_TRUE(std::isnan(got[i])) << simd_level_name(l) << ", " << f << " frames, " << i;
        } else {
          ASSERT_EQ(got[i], want[i]) << simd_level_name(l) << ", " << f << " frames, " << i;
        }
      }
    }
  }
  set_active_simd_level(saved);
}

// ---- DTW ------------------------------------------------------------------------------------

DtwPath run_dtw(const std::vector<double>& x, int n, int m) {
  DtwPath p;
  DtwScratch s;
  dtw(x.data(), n, m, p, s);
  return p;
}

TEST(Dtw, FollowsTheCheapDiagonal) {
  const std::vector<double> x = {0, 1, 1,  //
                                 1, 0, 1,  //
                                 1, 1, 0};
  const DtwPath p = run_dtw(x, 3, 3);
  EXPECT_EQ(p.text_index, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(p.time_index, (std::vector<int>{0, 1, 2}));
}

TEST(Dtw, StaysOnARowWhileItIsCheap) {
  // Two tokens over five frames: token 0 owns frames 0-2, token 1 frames 3-4.
  const std::vector<double> x = {-1, -1, -1, 0.5, 0.5,  //
                                 0.5, 0.5, 0.5, -1, -1};
  const DtwPath p = run_dtw(x, 2, 5);
  EXPECT_EQ(p.text_index, (std::vector<int>{0, 0, 0, 1, 1}));
  EXPECT_EQ(p.time_index, (std::vector<int>{0, 1, 2, 3, 4}));
}

TEST(Dtw, TiesTakeTheHorizontalStep) {
  // All costs equal: at (2, 2) the diagonal, vertical and horizontal predecessors tie, and the
  // reference's `else` branch takes the horizontal one.
  const DtwPath p = run_dtw({0, 0, 0, 0}, 2, 2);
  EXPECT_EQ(p.text_index, (std::vector<int>{0, 1, 1}));
  EXPECT_EQ(p.time_index, (std::vector<int>{0, 0, 1}));
}

TEST(Dtw, DiagonalTiedWithVerticalGoesHorizontal) {
  // The reference's quirk: at (2, 2) the diagonal and vertical predecessors tie at 0, neither is
  // strictly smallest, and the horizontal one (cost 5) is taken.
  const DtwPath p = run_dtw({0, 0, 5, 0}, 2, 2);
  EXPECT_EQ(p.text_index, (std::vector<int>{0, 1, 1}));
  EXPECT_EQ(p.time_index, (std::vector<int>{0, 0, 1}));
}

TEST(Dtw, TiesAreJudgedInFloat32) {
  // In float64 the diagonal would win by 1e-9; the reference's float32 cost array rounds both
  // neighbours to 1.0, a tie, so the path steps horizontally.
  const DtwPath p = run_dtw({1.0, 1e-9, 1e-9, 0.0}, 2, 2);
  EXPECT_EQ(p.text_index, (std::vector<int>{0, 1, 1}));
  EXPECT_EQ(p.time_index, (std::vector<int>{0, 0, 1}));
}

TEST(Dtw, SingleCellAndTallMatrices) {
  DtwPath p = run_dtw({5}, 1, 1);
  EXPECT_EQ(p.text_index, (std::vector<int>{0}));
  EXPECT_EQ(p.time_index, (std::vector<int>{0}));
  p = run_dtw({0, 0, 0}, 3, 1);  // more tokens than frames: vertical steps
  EXPECT_EQ(p.text_index, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(p.time_index, (std::vector<int>{0, 0, 0}));
  EXPECT_THROW(run_dtw({}, 0, 3), Error);
}

// OpenAI's dtw_cpu as it reads: column by column, the cost in float32 plus a float64 cell, strict
// "<" for the diagonal then the vertical step, else horizontal; the backtrace with the first row
// horizontal and the first column vertical.
DtwPath reference_dtw(const std::vector<double>& x, int n, int m) {
  const std::size_t H = static_cast<std::size_t>(n) + 1, W = static_cast<std::size_t>(m) + 1;
  std::vector<float> cost(H * W, std::numeric_limits<float>::infinity());
  std::vector<int> trace(H * W, -1);
  cost[0] = 0.0f;
  for (std::size_t j = 1; j < W; ++j) {
    for (std::size_t i = 1; i < H; ++i) {
      const float c0 = cost[(i - 1) * W + j - 1], c1 = cost[(i - 1) * W + j], c2 = cost[i * W + j - 1];
      float c;
      int t;
      if (c0 < c1 && c0 < c2) {
        c = c0, t = 0;
      } else if (c1 < c0 && c1 < c2) {
        c = c1, t = 1;
      } else {
        c = c2, t = 2;
      }
      cost[i * W + j] = static_cast<float>(x[(i - 1) * static_cast<std::size_t>(m) + j - 1] + static_cast<double>(c));
      trace[i * W + j] = t;
    }
  }
  for (std::size_t j = 0; j < W; ++j) trace[j] = 2;
  for (std::size_t i = 0; i < H; ++i) trace[i * W] = 1;
  DtwPath p;
  std::size_t i = H - 1, j = W - 1;
  while (i > 0 || j > 0) {
    p.text_index.insert(p.text_index.begin(), static_cast<int>(i) - 1);
    p.time_index.insert(p.time_index.begin(), static_cast<int>(j) - 1);
    const int t = trace[i * W + j];
    if (t == 0) {
      --i, --j;
    } else if (t == 1) {
      --i;
    } else {
      --j;
    }
  }
  return p;
}

// The anti-diagonal walk against the reference's column walk on random matrices of many shapes
// (tall, wide, single row or column), with costs from a few levels so that ties are frequent, and
// with one scratch reused across shapes (it only grows).
TEST(Dtw, SamePathsAsTheReferenceOnRandomMatrices) {
  uint32_t state = 7u;
  auto next = [&] {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
  };
  DtwScratch scratch;
  int checked = 0;
  for (const auto& nm : std::vector<std::pair<int, int>>{{1, 1}, {1, 9}, {9, 1}, {2, 3}, {5, 5}, {7, 40}, {40, 7},
                                                          {33, 250}, {100, 1500}, {3, 2}, {64, 65}}) {
    for (int levels : {3, 0}) {  // 0: continuous values
      std::vector<double> x(static_cast<std::size_t>(nm.first) * nm.second);
      for (double& v : x) {
        v = levels ? static_cast<double>(next() % levels) - 1.0 : static_cast<double>(next()) / 16777216.0 - 0.5;
      }
      DtwPath got;
      dtw(x.data(), nm.first, nm.second, got, scratch);
      const DtwPath want = reference_dtw(x, nm.first, nm.second);
      EXPECT_EQ(got.text_index, want.text_index) << nm.first << "x" << nm.second << " levels " << levels;
      EXPECT_EQ(got.time_index, want.time_index) << nm.first << "x" << nm.second << " levels " << levels;
      // The float32 cells word timing passes: the same values (every one is a float here), the same path.
      const std::vector<float> xf(x.begin(), x.end());
      for (std::size_t k = 0; k < x.size(); ++k) ASSERT_EQ(static_cast<double>(xf[k]), x[k]);
      DtwPath got_f;
      dtw(xf.data(), nm.first, nm.second, got_f, scratch);
      EXPECT_EQ(got_f.text_index, want.text_index) << "float cells, " << nm.first << "x" << nm.second;
      EXPECT_EQ(got_f.time_index, want.time_index) << "float cells, " << nm.first << "x" << nm.second;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 22);
}

// ---- alignment heads ------------------------------------------------------------------------

TEST(AlignmentHeads, PresetsFromDimensions) {
  EXPECT_EQ(alignment_preset_for(whisper_dims("tiny")), "tiny");
  EXPECT_EQ(alignment_preset_for(whisper_dims("tiny.en")), "tiny.en");
  EXPECT_EQ(alignment_preset_for(whisper_dims("base")), "base");
  EXPECT_EQ(alignment_preset_for(whisper_dims("base.en")), "base.en");
  EXPECT_EQ(alignment_preset_for(whisper_dims("small.en")), "small.en");
  EXPECT_EQ(alignment_preset_for(whisper_dims("medium")), "medium");
  EXPECT_EQ(alignment_preset_for(whisper_dims("large-v3")), "large-v3");
  HParams turbo = whisper_dims("large-v3");
  turbo.n_text_layer = 4;
  EXPECT_EQ(alignment_preset_for(turbo), "large-v3-turbo");
  HParams v2 = whisper_dims("large-v3");
  v2.n_mels = 80;
  v2.n_vocab = 51865;
  EXPECT_EQ(alignment_preset_for(v2), "") << "large-v1 and large-v2 cannot be told apart";
  EXPECT_EQ(alignment_preset_for(whisper_dims("test")), "");
}

TEST(AlignmentHeads, Settings) {
  const HParams tiny = whisper_dims("tiny");
  const std::vector<AlignmentHead> preset = {{2, 2}, {3, 0}, {3, 2}, {3, 3}, {3, 4}, {3, 5}};
  EXPECT_EQ(resolve_alignment_heads("auto", tiny), preset);
  EXPECT_EQ(resolve_alignment_heads("tiny", tiny), preset);
  EXPECT_EQ(resolve_alignment_heads("default", tiny).size(), 12u);  // layers 2, 3 x 6 heads
  EXPECT_EQ(resolve_alignment_heads("default", tiny).front(), (AlignmentHead{2, 0}));
  EXPECT_EQ(resolve_alignment_heads("3:1, 0:5", tiny), (std::vector<AlignmentHead>{{3, 1}, {0, 5}}));
  const HParams test = whisper_dims("test");
  EXPECT_EQ(resolve_alignment_heads("auto", test),
            (std::vector<AlignmentHead>{{1, 0}, {1, 1}, {1, 2}, {1, 3}}));
  EXPECT_EQ(format_alignment_heads(resolve_alignment_heads("auto", test)), "1:0,1:1,1:2,1:3");
  EXPECT_EQ(resolve_alignment_heads("large-v2", whisper_dims("large-v3")).size(), 23u);
  for (const char* bad : {"4:0", "0:6", "x", "1:", ":1", "1:0,1:0", "tiny.en.x", "medium", "1:0,"}) {
    try {
      resolve_alignment_heads(bad, tiny);
      ADD_FAILURE() << bad << " was accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("alignment heads"), std::string::npos) << e.what();
    }
  }
}

// ---- word splitting -------------------------------------------------------------------------

class WordSplit : public ::testing::Test {
 protected:
  WordSplit() : vocab_(make_stored(), 51864), tok_(vocab_) {}
  static std::vector<std::string> make_stored() {
    std::vector<std::string> s(50256);  // the text tokens; specials get their names
    for (std::size_t i = 0; i < s.size(); ++i) s[i] = "t" + std::to_string(i);
    s[1] = " Hello";
    s[2] = ",";
    s[3] = " wor";
    s[4] = "ld";
    s[5] = "!";
    s[6] = " \xE4\xBD";  // " " and the first two bytes of U+4F60
    s[7] = "\xA0";       // its last byte
    s[8] = "\xFF";       // never valid
    s[9] = "\xE5\xA5\xBD";  // U+597D
    s[10] = "\xE0\xB8\xAA";  // Thai U+0E2A
    s[11] = "\xE0\xB8";      // Thai, unfinished
    s[12] = "\xB1";
    s[13] = "...";
    return s;
  }
  std::vector<std::string> words(const std::vector<WordTokens>& w) {
    std::vector<std::string> out;
    for (const WordTokens& x : w) out.push_back(x.word);
    return out;
  }
  Vocab vocab_;
  Tokenizer tok_;
};

TEST_F(WordSplit, SpacesAndPunctuation) {
  const int eot = vocab_.eot();
  const auto w = split_to_word_tokens(tok_, {1, 2, 3, 4, 5, 13, eot}, "en");
  // "..." is not a substring of Python's string.punctuation: it joins the "!" before it.
  EXPECT_EQ(words(w), (std::vector<std::string>{" Hello", ",", " world", "!...", "[_EOT_]"}));
  EXPECT_EQ(w[2].tokens, (std::vector<int>{3, 4}));
  EXPECT_EQ(w[4].tokens, (std::vector<int>{eot}));
}

TEST_F(WordSplit, CharactersSplitOverTokensStayWhole) {
  // Mixed scripts in an English split: the Chinese character spans two tokens, its space starts a word.
  const auto w = split_to_word_tokens(tok_, {1, 6, 7, 9}, "en");
  EXPECT_EQ(words(w), (std::vector<std::string>{" Hello", " \u4f60\u597d"}));
  EXPECT_EQ(w[1].tokens, (std::vector<int>{6, 7, 9}));
}

TEST_F(WordSplit, ChineseJapaneseThaiSplitAtEveryCharacter) {
  for (const char* lang : {"zh", "ja", "th", "lo", "my", "yue"}) {
    const auto w = split_to_word_tokens(tok_, {1, 6, 7, 9, 11, 12, 10}, lang);
    EXPECT_EQ(words(w), (std::vector<std::string>{" Hello", " \u4f60", "\u597d", "\u0e31", "\u0e2a"}))
        << lang;
    EXPECT_EQ(w[1].tokens, (std::vector<int>{6, 7})) << lang;
    EXPECT_EQ(w[3].tokens, (std::vector<int>{11, 12})) << lang;
  }
}

TEST_F(WordSplit, InvalidBytesBecomeReplacementCharacters) {
  // 0xFF can never start a character: it closes its run at once as U+FFFD and, not being a
  // space or punctuation, joins the word before it.
  const auto w = split_to_word_tokens(tok_, {1, 8, 4}, "en");
  EXPECT_EQ(words(w), (std::vector<std::string>{" Hello\uFFFDld"}));
  EXPECT_EQ(w[0].tokens, (std::vector<int>{1, 8, 4}));
  // A character cut off at the very end is ill-formed too (the full text has U+FFFD there).
  const auto t = split_tokens_on_unicode(tok_, {1, 6});
  EXPECT_EQ(words(t), (std::vector<std::string>{" Hello", " \uFFFD"}));
  // An unfinished character followed by a complete one: the pair is one run with U+FFFD.
  const auto u = split_tokens_on_unicode(tok_, {11, 9});
  EXPECT_EQ(words(u), (std::vector<std::string>{"\uFFFD", "\u597d"}));
}

// ---- punctuation merging --------------------------------------------------------------------

Word w(const std::string& text, std::vector<int> tokens, double start, double end) {
  Word x;
  x.word = text;
  x.tokens = std::move(tokens);
  x.start = start;
  x.end = end;
  return x;
}

TEST(PunctuationMerge, OpeningAndClosingMarksJoinTheirWords) {
  std::vector<Word> a = {w(" (", {1}, 0.0, 0.1), w("Hello", {2}, 0.1, 0.5), w(",", {3}, 0.5, 0.6),
                         w(" world", {4}, 0.6, 1.0), w("!", {5}, 1.0, 1.1), w(" \"", {6}, 1.1, 1.2),
                         w("x", {7}, 1.2, 1.4), w("\"", {8}, 1.4, 1.5)};
  merge_punctuations(a, kDefaultPrependPunctuations, kDefaultAppendPunctuations);
  std::vector<Word> kept;
  for (const Word& x : a)
    if (!x.word.empty()) kept.push_back(x);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_EQ(kept[0].word, " (Hello,");
  EXPECT_EQ(kept[0].tokens, (std::vector<int>{1, 2, 3}));
  EXPECT_DOUBLE_EQ(kept[0].start, 0.1);  // the absorbing word keeps its times
  EXPECT_DOUBLE_EQ(kept[0].end, 0.5);
  EXPECT_EQ(kept[1].word, " world!");
  EXPECT_EQ(kept[2].word, " \"x\"");
  EXPECT_EQ(kept[2].tokens, (std::vector<int>{6, 7, 8}));
  EXPECT_EQ(a.size(), 8u) << "merged entries stay in place, emptied";
}

TEST(PunctuationMerge, RulesOfTheReference) {
  // A prepended mark needs its leading space ("(" stays alone); chains of opening marks all reach
  // the word; a closing mark joins the nearest word still standing.
  std::vector<Word> a = {w("(", {1}, 0, 0), w("a", {2}, 0, 0), w(" ", {3}, 0, 0), w(".", {4}, 0, 0),
                         w(" \"", {5}, 0, 0), w(" (", {6}, 0, 0), w(" b", {7}, 0, 0), w("\u3002", {8}, 0, 0)};
  merge_punctuations(a, kDefaultPrependPunctuations, kDefaultAppendPunctuations);
  std::vector<std::string> kept;
  for (const Word& x : a)
    if (!x.word.empty()) kept.push_back(x.word);
  // " " strips to "", which Python finds in any string: it is prepended to "." as well.
  EXPECT_EQ(kept, (std::vector<std::string>{"(", "a", " .", " \" ( b\u3002"}));
}

}  // namespace
}  // namespace npw
