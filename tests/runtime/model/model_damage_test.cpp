// Damage the loader must name precisely rather than as something else: a header ftype that does not
// describe the tensors (warning, or error where the file then gives no quantisation version), a
// head count no Whisper model of that width has, a damaged record header of the first tensor,
// bytes appended after the last tensor, and a mel filter count larger than the filters stored.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "model/ggml_file.h"
#include "model/model.h"
#include "model/random_model.h"
#include "util/error.h"

namespace npw {
namespace {

const std::string kDir = NPW_TEST_DATA_DIR;

std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void put_i32(std::vector<uint8_t>& b, std::size_t at, int32_t v) { std::memcpy(&b[at], &v, 4); }

bool contains(const std::string& s, const std::string& needle) { return s.find(needle) != std::string::npos; }

std::string error_of(const std::vector<uint8_t>& b) {
  try {
    parse_ggml_file(b.data(), b.size(), "damaged.bin");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& w : v) s += w + "\n";
  return s;
}

// Loads `b` through a temporary file, as a user would.
std::shared_ptr<const Model> load_bytes(const std::vector<uint8_t>& b, const std::string& tag) {
  const std::string p = testing::TempDir() + "npw_damage_" + tag + ".bin";
  {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  }
  auto m = Model::load(p);
  std::remove(p.c_str());
  return m;
}

// Header offsets of the fields the tests change (magic, then eleven i32s, then the mel block).
constexpr std::size_t kAudioState = 12, kAudioHead = 16, kTextState = 28, kTextHead = 32, kNMels = 40, kFtype = 44,
                      kFilterCount = 48;

class ModelDamageTest : public testing::Test {
 protected:
  void SetUp() override {
    bytes_ = read_all(kDir + "/ggml-test-f32.bin");
    ASSERT_GT(bytes_.size(), 1000u);
    file_ = parse_ggml_file(bytes_.data(), bytes_.size(), "test");
    ASSERT_TRUE(file_.warnings.empty()) << joined(file_.warnings);
  }
  std::size_t first_record() const {
    const TensorView& t = file_.tensors.front();
    return t.offset - t.name.size() - 4 * static_cast<std::size_t>(t.n_dims) - 12;
  }
  std::vector<uint8_t> bytes_;
  GgmlFile file_;
};

TEST_F(ModelDamageTest, BundledModelsLoadWithoutWarnings) {
  EXPECT_TRUE(Model::load(kDir + "/ggml-test-f32.bin")->warnings().empty());
  EXPECT_TRUE(Model::load(kDir + "/ggml-test-f16.bin")->warnings().empty());
}

TEST_F(ModelDamageTest, FtypeThatDoesNotDescribeTheTensorsIsAWarning) {
  auto b = bytes_;
  put_i32(b, kFtype, 1);  // says f16, every tensor is f32
  auto m = load_bytes(b, "ftype");
  const std::string w = joined(m->warnings());
  EXPECT_TRUE(contains(w, "ftype") && contains(w, "f16") && contains(w, "f32")) << w;
  EXPECT_TRUE(contains(w, "npw_damage_ftype")) << "the warning names the file: " << w;
  b = bytes_;
  put_i32(b, kFtype, 7);  // says q8_0
  const GgmlFile f = parse_ggml_file(b.data(), b.size(), "q8");
  ASSERT_EQ(f.warnings.size(), 1u);
  EXPECT_TRUE(contains(f.warnings[0], "ftype = 7 (q8_0)") && contains(f.warnings[0], "f32")) << f.warnings[0];
}

TEST_F(ModelDamageTest, FtypeThatHidesTheQuantisationVersionIsAnError) {
  HParams hp = whisper_dims("test");
  std::ostringstream os;
  write_random_whisper(os, "q8", hp, GgmlType::Q8_0, 1, file_.vocab);
  const std::string s = os.str();
  std::vector<uint8_t> b(s.begin(), s.end());
  EXPECT_NO_THROW(parse_ggml_file(b.data(), b.size(), "q8"));
  put_i32(b, kFtype, 1);  // f16, and therefore quantisation version 0
  const std::string e = error_of(b);
  EXPECT_TRUE(contains(e, "ftype = 1 (f16)") && contains(e, "q8_0")) << e;
}

TEST_F(ModelDamageTest, HeadCountOfAReleasedWidthOtherThan64WideIsAWarning) {
  // Just the header, filters and vocabulary of a tiny-width model: the warning is the header's.
  std::vector<uint8_t> b(bytes_.begin(), bytes_.begin() + static_cast<long>(first_record()));
  put_i32(b, kAudioState, 384);
  put_i32(b, kTextState, 384);
  put_i32(b, kAudioHead, 6);
  put_i32(b, kTextHead, 6);
  EXPECT_TRUE(parse_ggml_file(b.data(), b.size(), "tiny").warnings.empty());
  put_i32(b, kAudioHead, 4);  // 96 wide
  const GgmlFile f = parse_ggml_file(b.data(), b.size(), "tiny");
  ASSERT_EQ(f.warnings.size(), 1u) << joined(f.warnings);
  EXPECT_TRUE(contains(f.warnings[0], "n_audio_head = 4") && contains(f.warnings[0], "96") &&
              contains(f.warnings[0], "64"))
      << f.warnings[0];
  put_i32(b, kTextHead, 12);
  EXPECT_EQ(parse_ggml_file(b.data(), b.size(), "tiny").warnings.size(), 2u);
}

TEST_F(ModelDamageTest, DamagedHeaderOfTheFirstTensorIsNamedAsTheFirst) {
  const std::size_t r = first_record();
  const TensorView& t = file_.tensors.front();
  ASSERT_GE(t.n_dims, 2);
  auto b = bytes_;
  put_i32(b, r, t.n_dims - 1);  // one dimension fewer: the last dimension is read as the name
  std::string e = error_of(b);
  EXPECT_TRUE(contains(e, "tensor #0") && !contains(e, "#1")) << e;
  b = bytes_;
  put_i32(b, r + 4, static_cast<int32_t>(t.name.size()) + 2);  // the name runs into the data
  e = error_of(b);
  EXPECT_TRUE(contains(e, "tensor #0") && !contains(e, "#1")) << e;
}

TEST_F(ModelDamageTest, BytesAfterTheLastTensorAreTrailingNotTruncated) {
  for (std::size_t extra : {1u, 4u, 11u}) {
    auto b = bytes_;
    b.insert(b.end(), extra, 0);
    auto m = load_bytes(b, "trailing");
    const std::string w = joined(m->warnings());
    EXPECT_TRUE(contains(w, std::to_string(extra) + " trailing bytes after the last tensor")) << w;
    EXPECT_FALSE(contains(w, "truncated")) << w;
  }
  auto b = bytes_;
  b.insert(b.end(), 40, 0xff);
  const std::string e = error_of(b);
  EXPECT_TRUE(contains(e, "trailing bytes after the last tensor") && contains(e, file_.tensors.back().name)) << e;
}

TEST_F(ModelDamageTest, FilterCountLargerThanTheFiltersStoredIsNamed) {
  auto b = bytes_;
  put_i32(b, kNMels, 81);
  put_i32(b, kFilterCount, 81);
  const std::string e = error_of(b);
  EXPECT_TRUE(contains(e, "holds 80 filters, not n_mels = 81")) << e;
  EXPECT_FALSE(contains(e, "NaN")) << e;
}

}  // namespace
}  // namespace npw
