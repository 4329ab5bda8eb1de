// The real decoder as the decoding policy sees it: with a previous-text prompt in front, the
// no-speech logits handed out are those at the <|startoftranscript|> position (not the last one),
// the last-position logits are the prefix's, and every hypothesis of a batch continues from the
// same shared prefix. Compared with the decoder fed the whole sequence in one pass.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "decode/decoder_logit_source.h"
#include "model/model.h"
#include "nn/decoder.h"
#include "util/thread_pool.h"

namespace npw {
namespace {

float max_abs_diff(const float* a, const float* b, int n) {
  float m = 0.0f;
  for (int i = 0; i < n; ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

TEST(DecoderLogitSource, SotLogitsAreReadAtTheSotPosition) {
  const auto model = Model::load(std::string(NPW_TEST_DATA_DIR) + "/ggml-test-f32.bin");
  const Vocab& v = model->vocab();
  auto backend = make_backend("cpu", 1);
  ThreadPool pool(1);
  Decoder dec(*model, *backend, pool, 3);
  // Any encoder output will do: both paths below attend to the same one.
  std::vector<float> enc(1500u * 64u);
  for (std::size_t i = 0; i < enc.size(); ++i) enc[i] = std::sin(0.001f * static_cast<float>(i));
  dec.set_audio(enc.data());
  const int V = dec.n_vocab();

  // [<|startofprev|>, prompt..., <|startoftranscript|>, <|notimestamps|>]: SOT at index 4.
  const std::vector<int> prefix = {v.start_of_prev(), 400, 1000, 2000, v.sot(), v.no_timestamps()};
  const int sot_index = 4;
  std::vector<float> all(prefix.size() * static_cast<std::size_t>(V));
  dec.reset(1);
  TokenSpan span{prefix.data(), static_cast<int>(prefix.size())};
  dec.decode_all(&span, 1, all.data());
  // The next step for token 500, from the one-pass reference.
  std::vector<int> longer = prefix;
  longer.push_back(500);
  std::vector<float> all_next(longer.size() * static_cast<std::size_t>(V));
  dec.reset(1);
  TokenSpan span_next{longer.data(), static_cast<int>(longer.size())};
  dec.decode_all(&span_next, 1, all_next.data());

  DecoderLogitSource src(dec);
  ASSERT_EQ(src.n_vocab(), V);
  std::vector<float> sot(static_cast<std::size_t>(V)), last(static_cast<std::size_t>(V));
  src.begin(prefix, 3, sot_index, sot.data(), last.data());
  EXPECT_LE(max_abs_diff(sot.data(), all.data() + static_cast<std::size_t>(sot_index) * V, V), 1e-4f);
  EXPECT_LE(max_abs_diff(last.data(), all.data() + (prefix.size() - 1) * V, V), 1e-4f);
  // The SOT row really differs from the last row (otherwise this test could not tell them apart).
  EXPECT_GT(max_abs_diff(sot.data(), last.data(), V), 1e-2f);

  // Three hypotheses share the prefix: the same token gives the same logits in each.
  std::vector<float> step(3u * static_cast<std::size_t>(V));
  src.step({500, 500, 500}, step.data());
  for (int s = 0; s < 3; ++s) {
    EXPECT_LE(max_abs_diff(step.data() + static_cast<std::size_t>(s) * V, all_next.data() + prefix.size() * V, V), 1e-4f)
        << "hypothesis " << s;
  }
}

}  // namespace
}  // namespace npw
