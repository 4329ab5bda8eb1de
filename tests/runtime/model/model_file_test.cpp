// Loader tests on the bundled test models: what a valid file yields, and that every way of breaking
// one (truncation at and inside each section, wrong magic, counts, shapes, types, huge sizes,
// duplicate, unknown or missing tensors) gives an npw::Error naming what is wrong, never a crash.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "model/ggml_file.h"
#include "model/model.h"
#include "model/quant.h"
#include "util/error.h"

namespace npw {
namespace {

const std::string kDir = NPW_TEST_DATA_DIR;

std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string temp_path(const std::string& tag) {
  return testing::TempDir() + "npw_model_test_" + tag + ".bin";
}

void write_all(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// Expects `fn` to throw npw::Error of `kind` whose message contains every one of `needles`.
void expect_error(const std::function<void()>& fn, ErrorKind kind, std::initializer_list<const char*> needles) {
  try {
    fn();
    ADD_FAILURE() << "no error thrown";
  } catch (const Error& e) {
    EXPECT_EQ(static_cast<int>(e.kind()), static_cast<int>(kind)) << e.what();
    for (const char* n : needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what() << " lacks '" << n << "'";
  }
}

void put_i32(std::vector<uint8_t>& b, std::size_t at, int32_t v) { std::memcpy(&b[at], &v, 4); }

// Byte offset where a tensor's record (n_dims, name length, type, dims, name, data) begins.
std::size_t record_start(const TensorView& t) {
  return t.offset - t.name.size() - 4 * static_cast<std::size_t>(t.n_dims) - 12;
}

class ModelFileTest : public testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    path_ = kDir + "/" + GetParam();
    bytes_ = read_all(path_);
    ASSERT_GT(bytes_.size(), 1000u);
  }
  GgmlFile parse(const std::vector<uint8_t>& b, std::size_t n) { return parse_ggml_file(b.data(), n, "test.bin"); }
  std::string path_;
  std::vector<uint8_t> bytes_;
};

TEST_P(ModelFileTest, LoadsTheTestModel) {
  auto m = Model::load(path_);
  const HParams& h = m->hparams();
  EXPECT_EQ(h.n_vocab, 51864);
  EXPECT_EQ(h.n_audio_ctx, 1500);
  EXPECT_EQ(h.n_audio_state, 64);
  EXPECT_EQ(h.n_audio_head, 4);
  EXPECT_EQ(h.n_audio_layer, 2);
  EXPECT_EQ(h.n_text_ctx, 448);
  EXPECT_EQ(h.n_text_state, 64);
  EXPECT_EQ(h.n_text_layer, 2);
  EXPECT_EQ(h.n_mels, 80);
  EXPECT_EQ(m->mel_filters().size(), 80u * 201u);
  EXPECT_EQ(m->encoder().blocks.size(), 2u);
  EXPECT_EQ(m->decoder().blocks.size(), 2u);
  EXPECT_EQ(m->decoder().token_emb->ne[1], 51864);
  EXPECT_EQ(m->encoder().blocks[0].attn.key.b, nullptr);  // Whisper's key projection has no bias
  EXPECT_NE(m->encoder().blocks[0].attn.query.b, nullptr);
  // Sinusoidal encoder position 0: sin(0) = 0 for the first half, cos(0) = 1 for the second.
  EXPECT_FLOAT_EQ(m->encoder().pos_emb[0], 0.0f);
  EXPECT_FLOAT_EQ(m->encoder().pos_emb[63], 1.0f);
  EXPECT_NE(m->describe().find(".en"), std::string::npos);
  // The f16 twin holds the same values: both dequantise conv1's first weight identically.
  static float first_conv = 0.0f;
  float conv = 0.0f;
  dequantize_row(m->encoder().conv1_w->type, m->encoder().conv1_w->data, &conv, 1);
  if (first_conv == 0.0f) first_conv = conv;
  EXPECT_EQ(conv, first_conv);
}

TEST_P(ModelFileTest, EnglishOnlySpecialTokensMatchTheManifest) {
  auto m = Model::load(path_);
  const Vocab& v = m->vocab();
  EXPECT_FALSE(v.is_multilingual());
  EXPECT_EQ(v.eot(), 50256);
  EXPECT_EQ(v.sot(), 50257);
  EXPECT_EQ(v.language_token("en"), 50258);
  EXPECT_EQ(v.translate(), 50357);
  EXPECT_EQ(v.transcribe(), 50358);
  EXPECT_EQ(v.start_of_lm(), 50359);
  EXPECT_EQ(v.start_of_prev(), 50360);
  EXPECT_EQ(v.no_speech(), 50361);
  EXPECT_EQ(v.no_timestamps(), 50362);
  EXPECT_EQ(v.timestamp_begin(), 50363);
  EXPECT_EQ(v.num_languages(), 99);
  EXPECT_EQ(v.language_token("yue"), -1);  // the 100th language exists only in large-v3
  EXPECT_EQ(v.bytes(50363), "[_BEG_]");
  EXPECT_EQ(v.bytes(50364), "[_TT_1]");
  EXPECT_EQ(v.bytes(v.eot()), "[_EOT_]");  // the test file stores 50256 tokens; the rest are synthesised
  EXPECT_STREQ(v.language_code(50258), "en");
  EXPECT_THROW(v.bytes(51864), Error);
}

TEST_P(ModelFileTest, TruncationAnywhereIsAFormatError) {
  GgmlFile f = parse(bytes_, bytes_.size());
  std::vector<std::size_t> cuts = {0, 3, 4, 20, 47, 48, 52, 56, 56 + 4 * 100, 56 + 80 * 201 * 4 - 1,
                                   56 + 80 * 201 * 4, 56 + 80 * 201 * 4 + 2, 56 + 80 * 201 * 4 + 4,
                                   56 + 80 * 201 * 4 + 9, 56 + 80 * 201 * 4 + 1000};
  for (const TensorView& t : f.tensors) {
    const std::size_t r = record_start(t);
    cuts.push_back(r + 2);                  // inside n_dims
    cuts.push_back(r + 8);                  // before the type
    cuts.push_back(r + 13);                 // inside the dims
    cuts.push_back(t.offset - 1);           // inside the name
    cuts.push_back(t.offset + t.nbytes / 2);  // inside the data
    cuts.push_back(t.offset + t.nbytes - 1);
  }
  bool loaded_one = false;
  for (std::size_t n : cuts) {
    ASSERT_LT(n, bytes_.size());
    GgmlFile part;
    try {
      part = parse(bytes_, n);
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::Format);
      EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
      continue;
    }
    // Fewer bytes than a record header: the parser cannot tell a cut from appended bytes; the
    // architecture check can (a tensor is missing) and says "truncated".
    EXPECT_GT(part.trailing_bytes, 0u) << "cut at " << n;
    EXPECT_LT(part.tensors.size(), f.tensors.size());
    if (!loaded_one) {
      loaded_one = true;
      const std::string p = temp_path("cut");
      write_all(p, std::vector<uint8_t>(bytes_.begin(), bytes_.begin() + static_cast<long>(n)));
      expect_error([&] { Model::load(p); }, ErrorKind::Format, {p.c_str(), "truncated", "missing"});
      std::remove(p.c_str());
    }
  }
  EXPECT_TRUE(loaded_one);
}

TEST_P(ModelFileTest, TruncationAtATensorBoundaryIsAMissingTensor) {
  GgmlFile f = parse(bytes_, bytes_.size());
  const TensorView& last = f.tensors.back();
  std::vector<uint8_t> cut(bytes_.begin(), bytes_.begin() + static_cast<long>(record_start(last)));
  const std::string p = temp_path("boundary");
  write_all(p, cut);
  expect_error([&] { Model::load(p); }, ErrorKind::Format, {p.c_str(), last.name.c_str(), "missing"});
  std::remove(p.c_str());
}

TEST_P(ModelFileTest, BadHeaderFields) {
  auto b = bytes_;
  b[0] ^= 0xff;
  expect_error([&] { parse(b, b.size()); }, ErrorKind::Format, {"magic"});
  const char* names[] = {"n_vocab", "n_audio_ctx", "n_audio_state", "n_audio_head", "n_audio_layer",
                         "n_text_ctx", "n_text_state", "n_text_head", "n_text_layer", "n_mels"};
  for (int i = 0; i < 10; ++i) {
    for (int32_t bad : {0, -1, 0x7fffffff}) {
      b = bytes_;
      put_i32(b, 4 + 4 * static_cast<std::size_t>(i), bad);
      expect_error([&] { parse(b, b.size()); }, ErrorKind::Format, {names[i]});
    }
  }
  b = bytes_;
  put_i32(b, 4 + 4 * 3, 5);  // 64 state over 5 heads
  expect_error([&] { parse(b, b.size()); }, ErrorKind::Format, {"n_audio_head"});
  b = bytes_;
  put_i32(b, 44, 5);  // ftype 5 was never a GGML file type
  expect_error([&] { parse(b, b.size()); }, ErrorKind::Format, {"ftype"});
}

TEST_P(ModelFileTest, BadMelAndVocabularyBlocks) {
  auto b = bytes_;
  put_i32(b, 48, 128);
  expect_error([&] { parse(b, b.size()); }, ErrorKind::Format, {"mel filter", "n_mels"});
  b = bytes_;
  put_i32(b, 52, 200);
  expect_error([&] { parse(b, b.size()); }, ErrorKind::Format, {"n_fft"});
  b = bytes_;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(&b[56 + 4 * 7], &nan, 4);
  expect_error([&] { parse(b, b.size()); }, ErrorKind::Format, {"mel filter"});
  const std::size_t vocab_at = 56 + 80 * 201 * 4;
  for (int32_t bad : {-1, 51865, 0x7fffffff}) {
    b = bytes_;
    put_i32(b, vocab_at, bad);
    expect_error([&] { parse(b, b.size()); }, ErrorKind::Format, {"vocabulary count"});
  }
  b = bytes_;
  put_i32(b, vocab_at + 4, 0x7ffffff0);  // first token's length
  expect_error([&] { parse(b, b.size()); }, ErrorKind::Format, {"token 0"});
}

TEST_P(ModelFileTest, BadTensorRecords) {
  GgmlFile f = parse(bytes_, bytes_.size());
  const TensorView& t = f.tensors[3];
  const std::size_t r = record_start(t);
  auto b = bytes_;
  put_i32(b, r, 0);
  expect_error([&] { parse(b, b.size()); }, ErrorKind::Format, {"n_dims"});
  b = bytes_;
  put_i32(b, r, 7);
  expect_error([&] { parse(b, b.size()); }, ErrorKind::Format, {"n_dims"});
  b = bytes_;
  put_i32(b, r + 4, 100000);
  expect_error([&] { parse(b, b.size()); }, ErrorKind::Format, {"name length"});
  for (int32_t bad_type : {4, 5, 9, 99, -1}) {
    b = bytes_;
    put_i32(b, r + 8, bad_type);
    expect_error([&] { parse(b, b.size()); }, ErrorKind::Format, {"unknown tensor type"});
  }
  b = bytes_;
  put_i32(b, r + 12, 0);
  expect_error([&] { parse(b, b.size()); }, ErrorKind::Format, {"dimension"});
  // Huge but individually plausible dims: the product must be checked against the file, not trusted.
  for (int d = 0; d < t.n_dims; ++d) {
    b = bytes_;
    put_i32(b, r + 12 + 4 * static_cast<std::size_t>(d), 1 << 20);
    expect_error([&] { parse(b, b.size()); }, ErrorKind::Format, {t.name.c_str(), "truncated"});
  }
  // A quantized type on a row that is not a whole number of blocks.
  b = bytes_;
  const TensorView& conv = *f.find("encoder.conv1.weight");
  put_i32(b, record_start(conv) + 8, 8);
  expect_error([&] { parse(b, b.size()); }, ErrorKind::Format, {"encoder.conv1.weight", "block size"});
}

TEST_P(ModelFileTest, ArchitectureMismatchesNameTheTensor) {
  GgmlFile f = parse(bytes_, bytes_.size());
  struct Case { std::string tag; std::function<void(std::vector<uint8_t>&)> edit; std::vector<std::string> needles; };
  const TensorView& q = *f.find("encoder.blocks.1.attn.query.weight");
  const TensorView& query = *f.find("decoder.blocks.0.attn.query.weight");
  const TensorView& value = *f.find("decoder.blocks.0.attn.value.weight");
  std::vector<Case> cases = {
      {"shape", [&](auto& b) { put_i32(b, record_start(q) + 12, 32); put_i32(b, record_start(q) + 16, 128); },
       {"encoder.blocks.1.attn.query.weight", "shape", "(32, 128)", "(64, 64)"}},
      {"renamed", [&](auto& b) { b[q.offset - 1] = 'X'; },
       {"encoder.blocks.1.attn.query.weight", "missing"}},
      {"unknown", [&](auto& b) {
         // A well-formed extra record after the last tensor: one f32 element named "encoder.extra".
         const std::string name = "encoder.extra";
         const int32_t rec[4] = {1, static_cast<int32_t>(name.size()), 0, 1};
         const uint8_t* p = reinterpret_cast<const uint8_t*>(rec);
         b.insert(b.end(), p, p + sizeof rec);
         b.insert(b.end(), name.begin(), name.end());
         b.insert(b.end(), 4, 0);
       },
       {"unknown tensor", "encoder.extra"}},
      {"duplicate", [&](auto& b) { std::memcpy(&b[value.offset - value.name.size()], query.name.data(), query.name.size()); },
       {"decoder.blocks.0.attn.query.weight", "twice"}},
  };
  for (const Case& c : cases) {
    auto b = bytes_;
    c.edit(b);
    const std::string p = temp_path(c.tag);
    write_all(p, b);
    try {
      Model::load(p);
      ADD_FAILURE() << c.tag << ": no error";
    } catch (const Error& e) {
      for (const auto& n : c.needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << e.what();
    }
    std::remove(p.c_str());
  }
}

TEST(ModelFile, MissingAndUnreadableFiles) {
  expect_error([] { Model::load("/nonexistent/ggml-tiny.bin"); }, ErrorKind::Io, {"/nonexistent/ggml-tiny.bin", "No such file"});
  expect_error([] { Model::load(kDir); }, ErrorKind::Io, {"not a regular file"});
  const std::string p = temp_path("empty");
  write_all(p, {});
  expect_error([&] { Model::load(p); }, ErrorKind::Format, {"empty"});
  std::remove(p.c_str());
}

TEST(ModelFile, CacheSharesOneModelPerFile) {
  auto a = ModelCache::instance().get(kDir + "/ggml-test-f32.bin");
  auto b = ModelCache::instance().get(kDir + "/../data/ggml-test-f32.bin");
  auto c = ModelCache::instance().get(kDir + "/ggml-test-f16.bin");
  EXPECT_EQ(a.get(), b.get());
  EXPECT_NE(a.get(), c.get());
  const Model* raw = a.get();
  std::weak_ptr<const Model> w = a;
  a.reset();
  b.reset();
  EXPECT_TRUE(w.expired());  // the last user frees it
  auto d = ModelCache::instance().get(kDir + "/ggml-test-f32.bin");
  EXPECT_NE(d.get(), nullptr);
  (void)raw;
}

INSTANTIATE_TEST_SUITE_P(BothTestModels, ModelFileTest, testing::Values("ggml-test-f32.bin", "ggml-test-f16.bin"));

}  // namespace
}  // namespace npw
