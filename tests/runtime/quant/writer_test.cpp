// The GGML writer and the random-model generator: files are read back by hand field by field (and by
// the loader, as an independent reader), the storage-type policy is whisper.cpp's, generation is
// deterministic, and the computed mel filters are exactly the ones OpenAI ships.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <unistd.h>
#include <vector>

#include "model/ggml_file.h"
#include "model/ggml_writer.h"
#include "model/mapped_file.h"
#include "model/mel_filterbank.h"
#include "model/model.h"
#include "model/quant.h"
#include "model/random_model.h"
#include "util/error.h"

namespace npw {
namespace {

const std::string kTestModel = std::string(NPW_TEST_DATA_DIR) + "/ggml-test-f32.bin";

// Little-endian cursor over a byte string; every read is bounds-checked by the test.
class Reader {
 public:
  explicit Reader(const std::string& s) : s_(s) {}
  bool has(size_t n) const { return pos_ + n <= s_.size(); }
  int32_t i32() {
    EXPECT_TRUE(has(4)) << "truncated at " << pos_;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(s_[pos_ + i])) << (8 * i);
    pos_ += 4;
    return static_cast<int32_t>(v);
  }
  float f32() {
    const int32_t b = i32();
    float f;
    std::memcpy(&f, &b, 4);
    return f;
  }
  std::string bytes(size_t n) {
    EXPECT_TRUE(has(n)) << "truncated at " << pos_;
    std::string r = s_.substr(pos_, n);
    pos_ += n;
    return r;
  }
  size_t pos() const { return pos_; }
  bool at_end() const { return pos_ == s_.size(); }

 private:
  const std::string& s_;
  size_t pos_ = 0;
};

std::vector<std::string> small_vocab() {
  std::vector<std::string> v;
  for (int i = 0; i < 300; ++i) v.push_back(i < 256 ? std::string(1, static_cast<char>(i)) : "tok" + std::to_string(i));
  v.push_back("");  // empty tokens must survive too
  return v;
}

// A reduced model: test width, one layer each side, a short vocabulary.
HParams small_dims() {
  HParams hp = whisper_dims("test");
  hp.n_audio_layer = 1;
  hp.n_text_layer = 1;
  hp.n_vocab = 51864;
  return hp;
}

std::string generate(const HParams& hp, GgmlType wtype, uint32_t seed, const std::vector<std::string>& vocab) {
  std::ostringstream out;
  write_random_whisper(out, "memory", hp, wtype, seed, vocab);
  return out.str();
}

const GgmlType kAllTypes[] = {GgmlType::F32,  GgmlType::F16,  GgmlType::Q4_0, GgmlType::Q4_1,
                              GgmlType::Q5_0, GgmlType::Q5_1, GgmlType::Q8_0};

TEST(GgmlWriter, GeneratedModelReadsBackByHand) {
  const HParams hp = small_dims();
  const auto vocab = small_vocab();
  for (GgmlType wtype : kAllTypes) {
    SCOPED_TRACE(ggml_type_name(wtype));
    const std::string file = generate(hp, wtype, 42, vocab);
    Reader r(file);
    EXPECT_EQ(static_cast<uint32_t>(r.i32()), 0x67676d6cu);
    const int32_t want[10] = {hp.n_vocab,  hp.n_audio_ctx,  hp.n_audio_state, hp.n_audio_head, hp.n_audio_layer,
                              hp.n_text_ctx, hp.n_text_state, hp.n_text_head, hp.n_text_layer, hp.n_mels};
    for (int32_t w : want) EXPECT_EQ(r.i32(), w);
    const int32_t ftype = r.i32();
    switch (wtype) {
      case GgmlType::F32: EXPECT_EQ(ftype, 0); break;
      case GgmlType::F16: EXPECT_EQ(ftype, 1); break;
      case GgmlType::Q4_0: EXPECT_EQ(ftype, 2002); break;
      case GgmlType::Q4_1: EXPECT_EQ(ftype, 2003); break;
      case GgmlType::Q5_0: EXPECT_EQ(ftype, 2008); break;
      case GgmlType::Q5_1: EXPECT_EQ(ftype, 2009); break;
      case GgmlType::Q8_0: EXPECT_EQ(ftype, 2007); break;
    }
    EXPECT_EQ(r.i32(), 80);
    EXPECT_EQ(r.i32(), 201);
    const std::vector<float> mel = slaney_mel_filterbank(16000, 400, 80);
    for (float m : mel) ASSERT_EQ(r.f32(), m);
    ASSERT_EQ(r.i32(), static_cast<int32_t>(vocab.size()));
    for (const std::string& tok : vocab) {
      const int32_t len = r.i32();
      ASSERT_EQ(len, static_cast<int32_t>(tok.size()));
      ASSERT_EQ(r.bytes(static_cast<size_t>(len)), tok);
    }
    const std::vector<TensorSpec> specs = whisper_tensor_specs(hp, wtype);
    for (const TensorSpec& s : specs) {
      SCOPED_TRACE(s.name);
      const int32_t n_dims = r.i32();
      const int32_t name_len = r.i32();
      const int32_t type = r.i32();
      ASSERT_EQ(n_dims, s.n_dims);
      ASSERT_EQ(name_len, static_cast<int32_t>(s.name.size()));
      ASSERT_EQ(type, static_cast<int32_t>(s.type));
      int64_t elems = 1;
      for (int d = 0; d < n_dims; ++d) {
        const int32_t ne = r.i32();
        ASSERT_EQ(ne, s.ne[d]);
        elems *= ne;
      }
      ASSERT_EQ(r.bytes(static_cast<size_t>(name_len)), s.name);
      const size_t nbytes = ggml_row_bytes(s.type, elems);
      const std::string data = r.bytes(nbytes);
      // The stored bytes are the values of this tensor's own generator, stored as its type.
      const std::vector<float> values = whisper_tensor_values(s, 42);
      std::string want_bytes(nbytes, '\0');
      quantize_row(s.type, values.data(), &want_bytes[0], elems);
      ASSERT_TRUE(data == want_bytes) << "tensor data differs";
    }
    EXPECT_TRUE(r.at_end()) << "trailing bytes after the last tensor at " << r.pos() << " of " << file.size();
  }
}

// whisper.cpp's converter (f16) and quantizer (q*) decide the storage types as follows.
TEST(GgmlWriter, StorageTypesFollowWhisperCpp) {
  const HParams hp = small_dims();
  for (GgmlType wtype : kAllTypes) {
    for (const TensorSpec& s : whisper_tensor_specs(hp, wtype)) {
      SCOPED_TRACE(std::string(ggml_type_name(wtype)) + " " + s.name);
      const bool small = s.n_dims == 1 || s.name == "encoder.conv1.bias" || s.name == "encoder.conv2.bias" ||
                         s.name == "encoder.positional_embedding" || s.name == "decoder.positional_embedding";
      GgmlType want;
      if (wtype == GgmlType::F32 || small) want = GgmlType::F32;
      else if (s.n_dims == 3) want = GgmlType::F16;  // conv kernels
      else want = wtype;
      EXPECT_EQ(s.type, want);
    }
  }
  // A 2-D tensor whose rows are not whole blocks cannot be quantized and stays f16.
  const int64_t ne[2] = {48, 8};
  EXPECT_EQ(whisper_tensor_type("x.weight", 2, ne, GgmlType::Q4_0), GgmlType::F16);
  EXPECT_EQ(whisper_tensor_type("x.weight", 2, ne, GgmlType::F16), GgmlType::F16);
}

TEST(GgmlWriter, LayoutMatchesTheBundledTestModel) {
  // Same names, order, shapes and types as tests/data/ggml-test-f32.bin (made by whisper.cpp's converter).
  MappedFile mf(kTestModel);
  const GgmlFile ref = parse_ggml_file(mf.data(), mf.size(), kTestModel);
  const std::vector<TensorSpec> specs = whisper_tensor_specs(whisper_dims("test"), GgmlType::F32);
  ASSERT_EQ(specs.size(), ref.tensors.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    EXPECT_EQ(specs[i].name, ref.tensors[i].name);
    EXPECT_EQ(specs[i].n_dims, ref.tensors[i].n_dims) << specs[i].name;
    for (int d = 0; d < 4; ++d) EXPECT_EQ(specs[i].ne[d], ref.tensors[i].ne[d]) << specs[i].name;
    EXPECT_EQ(specs[i].type, ref.tensors[i].type) << specs[i].name;
  }
  EXPECT_EQ(ref.hparams.n_audio_state, whisper_dims("test").n_audio_state);
}

TEST(MelFilterbank, EqualsTheFiltersOpenAIShips) {
  MappedFile mf(kTestModel);
  const GgmlFile ref = parse_ggml_file(mf.data(), mf.size(), kTestModel);
  ASSERT_EQ(ref.mel_n_mel, 80);
  ASSERT_EQ(ref.mel_n_fft, 201);
  const std::vector<float> mel = slaney_mel_filterbank(16000, 400, 80);
  ASSERT_EQ(mel.size(), ref.mel_filters.size());
  for (size_t i = 0; i < mel.size(); ++i) ASSERT_EQ(mel[i], ref.mel_filters[i]) << "filter " << i / 201 << " bin " << i % 201;
}

TEST(MelFilterbank, LargeV3ShapeIsTriangular) {
  const std::vector<float> mel = slaney_mel_filterbank(16000, 400, 128);
  ASSERT_EQ(mel.size(), 128u * 201u);
  int prev_peak = -1;
  for (int m = 0; m < 128; ++m) {
    int peak = 0;
    for (int k = 0; k < 201; ++k) {
      ASSERT_GE(mel[m * 201 + k], 0.0f);
      if (mel[m * 201 + k] > mel[m * 201 + peak]) peak = k;
    }
    EXPECT_GE(peak, prev_peak) << "filter " << m;  // centres move up in frequency
    prev_peak = peak;
  }
  EXPECT_THROW(slaney_mel_filterbank(16000, 0, 80), Error);
}

TEST(RandomModel, DeterministicPerSeed) {
  const HParams hp = small_dims();
  const auto vocab = small_vocab();
  const std::string a = generate(hp, GgmlType::Q8_0, 7, vocab);
  const std::string b = generate(hp, GgmlType::Q8_0, 7, vocab);
  const std::string c = generate(hp, GgmlType::Q8_0, 8, vocab);
  EXPECT_TRUE(a == b);
  ASSERT_EQ(a.size(), c.size());
  EXPECT_FALSE(a == c);
}

// The generator is specified (mt19937 + seed_seq + Box-Muller), so these values must not change with
// the compiler or standard library; a change here invalidates every model generated before it.
TEST(RandomModel, PinnedValues) {
  TensorSpec s;
  s.name = "encoder.conv1.weight";
  s.n_dims = 3;
  s.ne[0] = 3;
  s.ne[1] = 80;
  s.ne[2] = 64;
  const std::vector<float> v = whisper_tensor_values(s, 1);
  const float want[4] = {0.0308708381f, 0.00322187669f, 0.054862652f, 0.0130780023f};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(v[i], want[i], 1e-7f) << i;
}

TEST(RandomModel, ValuesHaveTheDocumentedStatistics) {
  const HParams hp = small_dims();
  for (const TensorSpec& s : whisper_tensor_specs(hp, GgmlType::F32)) {
    if (s.name == "encoder.positional_embedding") continue;
    const std::vector<float> v = whisper_tensor_values(s, 1);
    double sum = 0, sum2 = 0;
    for (float x : v) sum += x;
    const double mean = sum / static_cast<double>(v.size());
    for (float x : v) sum2 += (x - mean) * (x - mean);
    const double sd = std::sqrt(sum2 / static_cast<double>(v.size()));
    auto has = [&](const char* part) { return s.name.find(part) != std::string::npos; };
    auto ends = [&](const std::string& suf) {
      return s.name.size() >= suf.size() && s.name.compare(s.name.size() - suf.size(), suf.size(), suf) == 0;
    };
    const bool ln = has("_ln.") || has(".ln.") || has(".ln_post.");
    double want_mean = 0, want_sd = 0.05;  // linear and conv weights
    if (ln && ends(".weight")) want_mean = 1;
    else if (ends(".bias")) want_sd = 0.02;
    else if (ends("query.weight") || ends("key.weight")) want_sd = 0.15;
    else if (s.name == "decoder.token_embedding.weight") want_sd = 0.10;
    else if (s.name == "decoder.positional_embedding") want_sd = 0.30;
    const double n = static_cast<double>(v.size());
    EXPECT_NEAR(mean, want_mean, 5 * want_sd / std::sqrt(n) + 1e-6) << s.name;
    EXPECT_NEAR(sd, want_sd, want_sd * (6 / std::sqrt(n) + 0.02)) << s.name;
  }
}

TEST(RandomModel, EncoderPositionsAreOpenAISinusoids) {
  TensorSpec s;
  s.name = "encoder.positional_embedding";
  s.n_dims = 2;
  s.ne[0] = 64;
  s.ne[1] = 1500;
  const std::vector<float> v = whisper_tensor_values(s, 123);
  ASSERT_EQ(v.size(), 64u * 1500u);
  for (int c = 0; c < 64; ++c) EXPECT_EQ(v[c], c < 32 ? 0.0f : 1.0f);  // t = 0
  const int t = 1499;
  const float* row = &v[t * 64];
  EXPECT_NEAR(row[0], std::sin(1499.0), 1e-6);
  EXPECT_NEAR(row[32], std::cos(1499.0), 1e-6);
  EXPECT_NEAR(row[31], std::sin(1499.0 * 1e-4), 1e-6);  // slowest: exp(-ln(10000)) per step
  EXPECT_NEAR(row[63], std::cos(1499.0 * 1e-4), 1e-6);
  EXPECT_NEAR(row[5], std::sin(1499.0 * std::exp(-std::log(10000.0) / 31 * 5)), 1e-6);
}

TEST(RandomModel, DimsOfNamedModels) {
  const HParams tiny = whisper_dims("tiny");
  EXPECT_EQ(tiny.n_audio_state, 384);
  EXPECT_EQ(tiny.n_text_head, 6);
  EXPECT_EQ(tiny.n_text_layer, 4);
  EXPECT_EQ(tiny.n_vocab, 51865);
  EXPECT_EQ(whisper_dims("base.en").n_vocab, 51864);
  EXPECT_EQ(whisper_dims("medium").n_audio_layer, 24);
  const HParams l3 = whisper_dims("large-v3");
  EXPECT_EQ(l3.n_mels, 128);
  EXPECT_EQ(l3.n_vocab, 51866);
  EXPECT_EQ(l3.n_audio_state, 1280);
  EXPECT_EQ(l3.n_audio_head, 20);
  EXPECT_EQ(l3.n_text_layer, 32);
  EXPECT_EQ(l3.n_audio_ctx, 1500);
  EXPECT_EQ(l3.n_text_ctx, 448);
  for (const std::string& n : whisper_dims_names()) EXPECT_NO_THROW(whisper_dims(n)) << n;
  try {
    whisper_dims("huge");
    FAIL() << "no error for an unknown name";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("huge"), std::string::npos);
  }
}

TEST(GgmlWriter, RejectsBadArguments) {
  std::ostringstream out;
  GgmlWriter w(out, "mem");
  const int64_t ne[2] = {48, 2};
  std::vector<float> vals(96, 0.0f);
  EXPECT_THROW(w.write_tensor("t", GgmlType::F32, 2, ne, vals.data()), Error);  // before the header
  HParams hp = small_dims();
  EXPECT_THROW(w.write_header(hp, 201, std::vector<float>(10), {}), Error);  // wrong filter count
  w.write_header(hp, 201, std::vector<float>(80 * 201), {});
  try {
    w.write_tensor("blk", GgmlType::Q4_0, 2, ne, vals.data());
    FAIL() << "48-wide rows were quantized";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::InvalidArgument);
    EXPECT_NE(std::string(e.what()).find("blk"), std::string::npos);
  }
  const int64_t bad[2] = {32, 0};
  EXPECT_THROW(w.write_tensor("zero", GgmlType::F32, 2, bad, vals.data()), Error);
  EXPECT_THROW(w.write_tensor("five", GgmlType::F32, 5, ne, vals.data()), Error);
  const std::vector<TensorData> mismatched = {{"m", GgmlType::F32, {4, 4}, std::vector<float>(15)}};
  std::ostringstream out2;
  EXPECT_THROW(write_ggml_whisper(out2, "mem", hp, std::vector<float>(80 * 201), {}, mismatched), Error);
}

TEST(GgmlWriter, InMemoryTensorListWritesTheSameBytes) {
  // write_ggml_whisper (whole list) and the streaming writer agree.
  const HParams hp = small_dims();
  HParams typed = hp;
  set_file_type(typed, GgmlType::Q5_1);
  const auto vocab = small_vocab();
  std::vector<TensorData> list;
  for (const TensorSpec& s : whisper_tensor_specs(hp, GgmlType::Q5_1)) {
    list.push_back({s.name, s.type, std::vector<int64_t>(s.ne, s.ne + s.n_dims), whisper_tensor_values(s, 9)});
  }
  std::ostringstream out;
  write_ggml_whisper(out, "mem", typed, slaney_mel_filterbank(16000, 400, 80), vocab, list);
  EXPECT_TRUE(out.str() == generate(hp, GgmlType::Q5_1, 9, vocab));
}

// The loader (an independent reader, with the architecture check) accepts every generated type, and
// the weights it sees are the generated values as rounded by the storage type.
TEST(GgmlWriter, LoaderAcceptsGeneratedModels) {
  const HParams hp = small_dims();
  MappedFile mf(kTestModel);
  std::vector<std::string> vocab = parse_ggml_file(mf.data(), mf.size(), kTestModel).vocab;
  for (GgmlType wtype : kAllTypes) {
    SCOPED_TRACE(ggml_type_name(wtype));
    char path[] = "/tmp/npw_writer_test_XXXXXX";
    const int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      write_random_whisper(out, path, hp, wtype, 5, vocab);
    }
    try {
      std::shared_ptr<const Model> m = Model::load(path);
      EXPECT_EQ(m->hparams().n_text_state, hp.n_text_state);
      HParams typed = hp;
      set_file_type(typed, wtype);
      EXPECT_EQ(m->hparams().ftype, typed.ftype);
      EXPECT_EQ(m->hparams().qntvr, typed.qntvr);
      const TensorView* q = nullptr;
      for (const TensorView& t : m->tensors())
        if (t.name == "decoder.blocks.0.mlp.0.weight") q = &t;
      ASSERT_NE(q, nullptr);
      EXPECT_EQ(q->type, whisper_tensor_type(q->name, 2, q->ne, wtype));
      TensorSpec s;
      s.name = q->name;
      s.n_dims = 2;
      s.ne[0] = q->ne[0];
      s.ne[1] = q->ne[1];
      const std::vector<float> values = whisper_tensor_values(s, 5);
      std::vector<uint8_t> stored(ggml_row_bytes(q->type, s.elements()));
      quantize_row(q->type, values.data(), stored.data(), s.elements());
      std::vector<float> want(values.size()), got(values.size());
      dequantize_row(q->type, stored.data(), want.data(), s.elements());
      dequantize_row(q->type, q->data, got.data(), s.elements());
      EXPECT_TRUE(want == got);
    } catch (const Error& e) {
      ADD_FAILURE() << "load failed: " << e.what();
    }
    std::remove(path);
  }
}

}  // namespace
}  // namespace npw
