// npuwhisper-cli's decoder dumps against OpenAI's reference (tests/data/manifest.json), for the f32
// and f16 test models: --tokens ... --dump-logits gives the teacher-forced logits of the first 8
// steps within max-abs 1e-3 and relative L2 1e-4 per row, and --tokens ... --greedy-plain 32
// --dump-tokens gives the plain-argmax tokens, equal up to the first step whose recorded top-1/top-2
// gap is below 1e-3.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "cli_run.h"
#include "golden_data.h"

namespace {

using npw_test::data;
using npw_test::quote;
using npw_test::run_cli;

struct Window {
  std::string clip;
  int w;
  std::string offset;
};
const Window kWindows[] = {{"jfk", 0, "0"},   {"espeak20", 0, "0"}, {"silence30", 0, "0"},
                           {"noise10", 0, "0"}, {"long45", 0, "0"},   {"long45", 1, "30"}};
const char* kVariants[] = {"ts", "nots"};
constexpr int kRows = 8;
constexpr int kVocab = 51864;

std::string join(const std::vector<int>& ids) {
  std::string s;
  for (int id : ids) s += (s.empty() ? "" : ",") + std::to_string(id);
  return s;
}

std::vector<int> init_tokens(const std::string& clip, int w, const std::string& variant) {
  std::vector<int> ids;
  for (double d : npw::testdata::manifest_array("golden/" + clip + "/greedy_w" + std::to_string(w) + "_" + variant + ".i32",
                                                "init_tokens")) {
    ids.push_back(static_cast<int>(d));
  }
  return ids;
}

std::vector<int32_t> read_i32(const std::string& path) {
  const std::string bytes = npw_test::read_text(path);
  std::vector<int32_t> v(bytes.size() / 4);
  std::copy(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(v.size() * 4), reinterpret_cast<char*>(v.data()));
  return v;
}

class CliDecoderDump : public ::testing::TestWithParam<std::string> {};

TEST_P(CliDecoderDump, LogitsMatchGoldenPerRow) {
  const std::string out = npw_test::temp_file("logits.f32");
  int checked = 0;
  for (const Window& win : kWindows) {
    for (const std::string variant : kVariants) {
      const std::string wk = "w" + std::to_string(win.w) + "_" + variant;
      const std::string dir = "golden/" + win.clip + "/";
      if (!npw::testdata::exists(dir + "logits_" + wk + ".f32")) continue;  // not stored (manifest)
      const auto want = npw_test::read_f32(npw_test::data_path(dir + "logits_" + wk + ".f32"));
      const auto greedy = npw::testdata::read_raw<int32_t>(dir + "greedy_" + wk + ".i32");
      std::vector<int> fed = init_tokens(win.clip, win.w, variant);
      ASSERT_FALSE(fed.empty());
      const std::size_t n_init = fed.size();
      fed.insert(fed.end(), greedy.begin(), greedy.begin() + kRows - 1);  // teacher forcing

      std::remove(out.c_str());
      const auto r = run_cli("--model " + data(GetParam()) + " --audio " + data("audio/" + win.clip + ".wav") +
                             " --offset " + win.offset + " --threads 2 --tokens " + join(fed) + " --dump-logits " + quote(out));
      ASSERT_EQ(r.exit_code, 0) << r.err;
      const auto got = npw_test::read_f32(out);
      ASSERT_EQ(got.size(), fed.size() * kVocab) << win.clip << " " << wk;
      for (int s = 0; s < kRows; ++s) {
        const auto d = npw_test::compare(got.data() + (n_init - 1 + s) * kVocab, want.data() + std::size_t(s) * kVocab, kVocab);
        EXPECT_LE(d.max_abs, 1e-3) << win.clip << " " << wk << " row " << s;
        EXPECT_LE(d.rel_l2, 1e-4) << win.clip << " " << wk << " row " << s;
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 7);  // jfk and espeak20 both variants, three clips nots only (manifest)
}

TEST_P(CliDecoderDump, PlainArgmaxMatchesGoldenUntilANearTie) {
  const std::string out = npw_test::temp_file("tokens.i32");
  int checked = 0;
  for (const Window& win : kWindows) {
    for (const std::string variant : kVariants) {
      const std::string rel = "golden/" + win.clip + "/greedy_w" + std::to_string(win.w) + "_" + variant + ".i32";
      const auto want = npw::testdata::read_raw<int32_t>(rel);
      const auto gaps = npw::testdata::manifest_array(rel, "top1_top2_gaps");
      ASSERT_EQ(want.size(), 32u) << rel;
      ASSERT_EQ(gaps.size(), want.size()) << rel;
      std::size_t comparable = 0;
      while (comparable < gaps.size() && gaps[comparable] >= 1e-3) ++comparable;

      std::remove(out.c_str());
      const auto r = run_cli("--model " + data(GetParam()) + " --audio " + data("audio/" + win.clip + ".wav") +
                             " --offset " + win.offset + " --threads 2 --tokens " + join(init_tokens(win.clip, win.w, variant)) +
                             " --greedy-plain 32 --dump-tokens " + quote(out));
      ASSERT_EQ(r.exit_code, 0) << r.err;
      const auto got = read_i32(out);
      ASSERT_EQ(got.size(), 32u) << rel;  // no reference run reaches <|endoftext|>
      std::size_t same = 0;
      while (same < got.size() && got[same] == want[same]) ++same;
      EXPECT_GE(same, comparable) << rel << ": first difference at step " << same;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 12);
}

INSTANTIATE_TEST_SUITE_P(Models, CliDecoderDump, ::testing::Values("ggml-test-f32.bin", "ggml-test-f16.bin"),
                         [](const ::testing::TestParamInfo<std::string>& i) {
                           return i.param.find("f16") != std::string::npos ? std::string("f16") : std::string("f32");
                         });

}  // namespace
